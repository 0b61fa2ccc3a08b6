"""spaCy checks on hand-built parses (spaCy Docs with given heads and labels; no model needed)."""

from __future__ import annotations

import pytest

import depthkit
from depthkit.verify.intended import intended_structure
from depthkit.present import render
from depthkit.verify.spacy_check import analyse, clause_depth, word_parse

from _verify_helpers import AMBIGUOUS_GRAMMAR, TINY_GRAMMAR, make_item

spacy = pytest.importorskip("spacy")
from spacy.tokens import Doc  # noqa: E402
from spacy.vocab import Vocab  # noqa: E402

RC1 = "(S (NP (Det the) (N doctor) (RC (Comp that) (NP (Det the) (N pilots)) (TV admire))) (VP (IV laughs)))"
RC1_WORDS = "the doctor that the pilots admire laughs"


@pytest.fixture(scope="module")
def tiny():
    return depthkit.load_grammar(TINY_GRAMMAR)


def _doc(words, heads, deps, spaces=None):
    return Doc(Vocab(), words=words, spaces=spaces, heads=heads, deps=deps)


def _intended(grammar, good, tree, depth, target=None, controller=None):
    return intended_structure(make_item(good, tree, depth=depth, target=target, controller=controller), grammar)


def test_the_intended_parse_passes_every_check(tiny):
    words = RC1_WORDS.split()
    # the doctor [that the pilots admire] laughs: doctor <-nsubj- laughs; admire -relcl-> doctor
    doc = _doc(words, heads=[1, 6, 5, 4, 5, 1, 6], deps=["det", "nsubj", "dobj", "det", "nsubj", "relcl", "ROOT"])
    rec = analyse(word_parse(doc, tuple(words)), _intended(tiny, RC1_WORDS, RC1, 1, [6, 7], [1, 2]))
    assert rec.status == "ok"
    assert rec.root_ok and rec.subject_ok and rec.depth_ok
    assert rec.measured_depth == 1 and rec.root == [6] and rec.subject == 1 and rec.aligned
    # |0-1| + |1-6| + |2-5| + |3-4| + |4-5| + |5-1| = 1+5+3+1+1+4
    assert rec.dep_length_total == 15 and rec.dep_length_max == 5


def test_wrong_root_and_subject_fail_and_say_which(tiny):
    words = RC1_WORDS.split()
    # the typical failure: the first noun becomes the root and the last verb an object
    doc = _doc(words, heads=[1, 1, 5, 4, 5, 1, 5], deps=["det", "ROOT", "mark", "det", "nsubj", "relcl", "dobj"])
    rec = analyse(word_parse(doc, tuple(words)), _intended(tiny, RC1_WORDS, RC1, 1, [6, 7], [1, 2]))
    assert rec.status == "failed"
    assert rec.root_ok is False and rec.subject_ok is False
    assert rec.depth_ok is True  # the clause count alone can be right while the structure is wrong


def test_a_sentence_split_into_two_roots_has_no_correct_root(tiny):
    words = RC1_WORDS.split()
    doc = _doc(words, heads=[1, 5, 5, 4, 5, 5, 6], deps=["det", "nsubj", "dobj", "det", "nsubj", "ROOT", "ROOT"],
               spaces=[True] * 5 + [False, False])
    rec = analyse(word_parse(doc, tuple(words)), _intended(tiny, RC1_WORDS, RC1, 1, [6, 7], [1, 2]))
    assert rec.root == [5, 6] and rec.root_ok is False
    assert "2 roots" in rec.reason


def test_tokens_split_inside_a_word_are_collapsed_onto_the_word():
    # item words: the author's dog laughs ; spaCy tokens: the author 's dog laughs
    doc = _doc(["the", "author", "'s", "dog", "laughs"], heads=[1, 3, 1, 4, 4],
               deps=["det", "poss", "case", "nsubj", "ROOT"], spaces=[True, False, True, True, False])
    parse = word_parse(doc, ("the", "author's", "dog", "laughs"))
    assert parse.aligned is False
    assert parse.heads == (1, 2, 3, None) and parse.deps == ("det", "poss", "nsubj", "ROOT")


def test_a_presentation_period_is_not_a_word():
    text = render(["the", "doctor", "laughs"]).text
    assert text == "The doctor laughs."
    doc = _doc(["The", "doctor", "laughs", "."], heads=[1, 2, 2, 2], deps=["det", "nsubj", "ROOT", "punct"],
               spaces=[True, True, False, False])
    parse = word_parse(doc, ("the", "doctor", "laughs"))
    assert parse.aligned is True and parse.heads == (1, 2, None)


def test_clause_depth_counts_clause_arcs_on_one_path():
    words = "a b c d e f g".split()
    # g root; a <-nsubj- g; d -relcl-> a; f -ccomp-> d; e -nsubj-> f; b,c under a
    doc = _doc(words, heads=[6, 0, 0, 0, 5, 3, 6], deps=["nsubj", "amod", "amod", "relcl", "nsubj", "ccomp", "ROOT"])
    assert clause_depth(word_parse(doc, tuple(words))) == 2


def test_an_unpaired_pp_item_is_judged_on_its_root_alone():
    g = depthkit.load_grammar(AMBIGUOUS_GRAMMAR)
    tree = "(S (NP (Det the) (N pilot)) (VP (V sees) (NP (NP (Det the) (N author)) (PP (P with) (NP (Det the) (N telescope))))))"
    words = "the pilot sees the author with the telescope".split()
    intended = _intended(g, " ".join(words), tree, 1)
    deps = ["det", "nsubj", "ROOT", "det", "dobj", "prep", "det", "pobj"]
    rec = analyse(word_parse(_doc(words, [1, 2, 2, 4, 2, 4, 7, 5], deps), tuple(words)), intended)
    assert rec.status == "ok" and rec.root_ok is True
    assert rec.subject_ok is None and rec.depth_ok is None
    assert rec.measured_depth == 0  # measured and kept, but not compared: PP depth is not clause depth
    assert "PP" in rec.reason
    wrong = analyse(word_parse(_doc(words, [1, 1, 1, 4, 2, 4, 7, 5], ["det", "ROOT", "acl"] + deps[3:]), tuple(words)),
                    intended)
    assert wrong.status == "failed" and wrong.root_ok is False


def test_no_check_applies_when_nothing_is_known_to_compare():
    from dataclasses import replace

    g = replace(depthkit.load_grammar(AMBIGUOUS_GRAMMAR), ptb_labels=(("V", "XX"), ("PP", "PP")))
    tree = "(S (NP (Det the) (N pilot)) (VP (V sees) (NP (Det the) (N author))))"
    words = "the pilot sees the author".split()
    doc = _doc(words, [1, 2, 2, 4, 2], ["det", "nsubj", "ROOT", "det", "dobj"])
    rec = analyse(word_parse(doc, tuple(words)), _intended(g, " ".join(words), tree, 0))
    assert rec.status == "not_run" and rec.reason.startswith("no spaCy check applies")
