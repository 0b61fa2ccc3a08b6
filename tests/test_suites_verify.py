"""`depthkit verify` on imported suites: no grammar check applies (no tree), spaCy still parses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depthkit.store import load_manifest, read_items
from depthkit.suites import import_blimp, import_syntaxgym
from depthkit.verify import verify_folder
from depthkit.verify.spacy_check import resolve_spacy_model

SUITES = Path(__file__).parent / "data" / "suites"


def _records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "verification.jsonl").read_text().splitlines()]


def test_suites_verify_without_parsers_records_not_applicable(tmp_path):
    folder = tmp_path / "sg"
    import_syntaxgym([SUITES / "syntaxgym" / "number_orc.json"], folder)
    summary = verify_folder(folder, skip=("spacy", "benepar"), progress=False)
    records = _records(folder)
    assert summary["items"] == len(records) == 19 and summary["verified"] == 0
    assert {r["grammar"]["status"] for r in records} == {"not_run"}
    assert all("not applicable" in r["grammar"]["reason"] for r in records)
    assert load_manifest(folder).verify.settings["grammars"] == {}


@pytest.mark.slow
def test_suites_verify_spacy_parses_imported_sentences(tmp_path):
    name, why = resolve_spacy_model(None)
    if name is None:
        pytest.skip(why)
    folder = tmp_path / "bl"
    blimp = tmp_path / "first20.jsonl"
    blimp.write_text("".join((SUITES / "blimp" / "distractor_agreement_relative_clause.jsonl").read_text()
                             .splitlines(keepends=True)[:20]))
    import_blimp([blimp], folder)
    verify_folder(folder, skip=("benepar",), progress=False)
    records = _records(folder)
    words = {i.id: i.words for i in read_items(folder)}
    assert len(records) == 20
    for r in records:
        assert r["grammar"]["status"] == "not_run" and "not applicable" in r["grammar"]["reason"]
        assert r["spacy"]["status"] == "not_run"  # parsed, but no check against an intended structure applies
        assert len(r["spacy"]["heads"]) == len(r["spacy"]["deps"]) == len(words[r["item_id"]])
        assert r["spacy"]["measured_depth"] >= 0
        assert r["spacy"]["deps"].count("ROOT") >= 1
