"""`verify --present` parses what `depthkit eval` presents: the same text for spaCy, the same words for benepar.

The parsers are replaced by spies (a blank spaCy pipeline and a benepar stand-in that records its input),
so the whole path through :func:`verify_folder` runs without a model.
"""

from __future__ import annotations

import json

import pytest
from nltk import Tree

from depthkit.verify import benepar_check, spacy_check, verify_folder

from _verify_helpers import make_generated

spacy = pytest.importorskip("spacy")


def _eval_text(item: dict) -> str:
    """The good sentence as the minimal-pair task sends it to a model (eval's default presentation)."""
    from depthkit.schema import Item
    from depthkit.tasks import make_task

    return make_task("minimal-pair").requests(Item.from_dict(item))[0].continuation


@pytest.fixture
def parsed(tmp_path, monkeypatch):
    """Run verify on a small folder; returns (items, spaCy texts, benepar token lists) as the parsers got them."""
    seen: dict[str, list] = {"spacy": [], "benepar": []}
    nlp = spacy.blank("en")
    real_pipe = nlp.pipe

    def pipe(texts, **kwargs):
        texts = list(texts)
        seen["spacy"] += texts
        return real_pipe(texts, **kwargs)

    monkeypatch.setattr(nlp, "pipe", pipe)
    monkeypatch.setattr(spacy_check, "resolve_spacy_model", lambda name=None: ("blank", None))
    monkeypatch.setattr(spacy_check, "load_spacy", lambda name: nlp)
    monkeypatch.setattr(benepar_check, "resolve_benepar_model",
                        lambda model=None: benepar_check.BeneparChoice("stand-in", "argument"))
    monkeypatch.setattr(benepar_check, "load_benepar", lambda path: object())

    def parse(self, batch):
        seen["benepar"] += batch
        return [Tree("S", list(words)) for words in batch]

    monkeypatch.setattr(benepar_check.BeneparChecker, "_parse", parse)

    def run(present: bool):
        folder = make_generated(tmp_path / f"set-{present}", depths="0-2", per_depth=2)
        verify_folder(folder, present=present, torch_threads=None, progress=False)
        items = [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]
        return items, seen["spacy"][-len(items):], seen["benepar"][-len(items):]

    return run


def test_verify_present_parses_the_text_eval_presents(parsed):
    items, texts, tokens = parsed(present=True)
    assert texts == [_eval_text(item) for item in items]
    assert all(t[-1] == "." and " ".join(t[:-1]) + "." == text for t, text in zip(tokens, texts))
    assert texts[0][0].isupper() and texts[0] != items[0]["good"]


def test_verify_without_present_parses_the_stored_words(parsed):
    items, texts, tokens = parsed(present=False)
    assert texts == [item["good"] for item in items]
    assert tokens == [item["good"].split(" ") for item in items]
