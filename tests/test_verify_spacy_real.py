"""The real spaCy English pipeline (and the tiny in-process benepar model) in one verify run."""

from __future__ import annotations

import json

import pytest

from depthkit.verify import load_verified_ids, verify_folder
from depthkit.verify.spacy_check import resolve_spacy_model

from _verify_helpers import build_tiny_benepar, make_generated, read_records

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spacy_model():
    name, why = resolve_spacy_model()
    if name is None:
        pytest.skip(why)
    return name


def test_spacy_and_tiny_benepar_together(tmp_path, spacy_model):
    folder = make_generated(tmp_path / "set", depths="0-2", per_depth=4)
    model = build_tiny_benepar(tmp_path / "tiny.pt")  # plumbing only: verifies nothing linguistically
    summary = verify_folder(folder, benepar_model=str(model), progress=False)
    records = read_records(folder)
    items = {json.loads(line)["id"]: json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()}
    assert len(records) == len(items)
    for r in records:
        assert r["spacy"]["status"] in ("ok", "failed"), r["spacy"]
        assert r["benepar"]["status"] in ("ok", "failed"), r["benepar"]
        assert r["spacy"]["aligned"] is True  # the items have no punctuation or clitics
        assert len(r["spacy"]["heads"]) == len(items[r["item_id"]]["good"].split())
    # "the doctor laughs": the verb is the root and the noun its subject (spaCy sm gets these right)
    simple = [r for r in records if r["depth"] == 0 and len(items[r["item_id"]]["good"].split()) == 3]
    assert simple and all(r["spacy"]["root_ok"] and r["spacy"]["subject_ok"] for r in simple)
    manifest = json.loads((folder / "manifest.json").read_text())["verify"]
    spacy_facts = manifest["parsers"]["spacy"]
    assert spacy_facts["ran"] and spacy_facts["model"] == spacy_model and spacy_facts["model_version"]
    assert "ner" not in spacy_facts["components"]
    assert manifest["timing"]["items_per_second"] > 0
    verified = load_verified_ids(folder)
    assert verified == {r["item_id"] for r in records if r["verified"]}
    assert summary["verified"] == len(verified)


def test_presented_sentences_keep_word_alignment(tmp_path, spacy_model):
    folder = make_generated(tmp_path / "set", depths="0-1", per_depth=3, controls=False)
    verify_folder(folder, skip=("benepar",), present=True, progress=False)
    for r in read_records(folder):
        assert r["spacy"]["aligned"] is True  # the added period is not counted as a mismatch
        assert r["spacy"]["status"] in ("ok", "failed")
