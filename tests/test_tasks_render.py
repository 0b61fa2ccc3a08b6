"""Presentation and word -> character spans: whitespace belongs to the following word."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from depthkit.backends.base import TokenScores
from depthkit.backends.fake import FakeBackend, fake_tokens
from depthkit.present import Presentation, render
from depthkit.tasks import word_scores

words = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzé", min_size=1, max_size=12), min_size=1, max_size=12)


def test_default_presentation_capitalises_and_adds_a_period():
    r = render("the doctor that the boys know smiles")
    assert r.text == "The doctor that the boys know smiles."
    assert r.word_spans[0] == (0, 3) and r.word_spans[1] == (3, 10)  # " doctor" with its space
    assert r.text[slice(*r.region(6, 7))] == " smiles."  # the last region takes the period
    assert r.text[slice(*r.region(2, 4))] == " that the"


def test_presentation_can_be_turned_off():
    assert render("the boys know", Presentation(capitalize=False, period=False)).text == "the boys know"
    assert render("the boys know", Presentation(capitalize=False)).text == "the boys know."
    assert render("who knows ?").text == "Who knows ?"  # already punctuated


def test_empty_region_is_a_point():
    r = render("a b c")
    assert r.region(1, 1) == (1, 1)
    assert r.region(3, 3) == (len(r.text), len(r.text))


@given(words, st.booleans(), st.booleans())
def test_spans_partition_the_text_and_keep_word_indices(ws, cap, period):
    sentence = " ".join(ws)
    r = render(sentence, Presentation(cap, period))
    assert len(r.word_spans) == len(ws)
    assert r.word_spans[0][0] == 0
    for (s1, e1), (s2, e2) in zip(r.word_spans, r.word_spans[1:]):
        assert e1 == s2 and r.text[s2] == " "
    for w, (s, e) in zip(ws, r.word_spans):
        assert r.text[s:e].strip().lower() == w.lower()
    assert r.region(0, len(ws)) == (0, len(r.text))


@given(words)
def test_word_scores_sum_subword_scores(ws):
    r = render(" ".join(ws))
    scores = FakeBackend()._score_one(type("R", (), {"context": "", "continuation": r.text})())
    per_word = word_scores(scores, r)
    period = scores.span_logprob(r.word_spans[-1][1], len(r.text))
    assert abs(sum(per_word) + period - scores.total) < 1e-9
    # a word split into several pieces gets all of them
    for (s, e), value in zip(r.word_spans, per_word):
        pieces = [lp for (off, _), lp in zip(fake_tokens(r.text), scores.logprobs) if s <= off < e]
        assert abs(sum(pieces) - value) < 1e-9


def test_span_logprob_counts_tokens_starting_inside():
    t = TokenScores(("The", " doc", "tor", " smiles", "."), (0, 3, 7, 10, 17), (-1.0, -2.0, -0.5, -3.0, -0.25))
    r = render("the doctor smiles")
    assert word_scores(t, r) == [-1.0, -2.5, -3.0]
    assert t.span_logprob(*r.region(2, 3)) == -3.25
    assert t.span_count(*r.region(1, 3)) == 4
