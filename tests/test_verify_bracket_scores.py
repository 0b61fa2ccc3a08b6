"""The small evalb: which brackets count, labeled/unlabeled F1, clause depth, and the benepar verdict."""

from __future__ import annotations

import pytest
from nltk import Tree

import depthkit
from depthkit.verify.benepar_check import analyse, depth_labels
from depthkit.verify.brackets import bracket_scores, brackets, label_depth
from depthkit.verify.intended import intended_structure

from _verify_helpers import AMBIGUOUS_GRAMMAR, TINY_GRAMMAR, make_item

T = Tree.fromstring
GOLD = T("(S (NP (DT the) (NN doctor) (SBAR (WHNP that) (NP (DT the) (NN pilots)) (VBP admire))) (VP (VBZ laughs)))")


def test_brackets_skip_root_whole_sentence_spans_and_preterminals():
    # (WHNP that) has a word as its only child: a preterminal. (VP (VBZ laughs)) is a phrase: it counts.
    assert sorted(brackets(GOLD)) == [("NP", 0, 6), ("NP", 3, 5), ("SBAR", 2, 6), ("VP", 6, 7)]


def test_a_top_wrapper_and_unary_whole_sentence_nodes_are_not_brackets():
    assert brackets(T("(TOP (S (NP (DT a) (NN b)) (VBZ c)))")) == [("NP", 0, 2)]
    assert brackets(T("(S (S (NP (DT a) (NN b)) (VBZ c)))")) == [("NP", 0, 2)]


def test_identical_trees_score_one_even_with_other_preterminal_and_root_labels():
    pred = T("(TOP (FRAG (NP (X the) (Y doctor) (SBAR (Z that) (NP (X the) (Y pilots)) (W admire))) (VP (V laughs))))")
    scores = bracket_scores(GOLD, pred)
    assert scores["labeled_f1"] == 1.0 and scores["unlabeled_f1"] == 1.0


def test_f1_of_a_wrong_attachment_by_hand():
    # gold brackets: NP(0,6) SBAR(2,6) NP(3,5) VP(6,7)
    # pred: NP(0,2) SBAR(2,6) S(3,6) NP(3,5) VP(6,7) -> 4 of 5 spans right, 3 labeled (S(3,6) and NP(0,2) wrong)
    pred = T("(S (NP (NP (DT the) (NN doctor)) (SBAR (WHNP that) (S (NP (DT the) (NN pilots)) (VBP admire)))) (VP (VBZ laughs)))")
    s = bracket_scores(GOLD, pred)
    # pred brackets: NP(0,6) NP(0,2) SBAR(2,6) S(3,6) NP(3,5) VP(6,7) = 6; gold = 4, all 4 found
    assert s["labeled_recall"] == 1.0 and s["labeled_precision"] == round(4 / 6, 4)
    assert s["labeled_f1"] == round(2 * (4 / 6) * 1.0 / (4 / 6 + 1.0), 4)
    wrong_label = T("(S (NP (DT the) (NN doctor) (S (WHNP that) (NP (DT the) (NN pilots)) (VBP admire))) (VP (VBZ laughs)))")
    s = bracket_scores(GOLD, wrong_label)
    assert s["unlabeled_f1"] == 1.0 and s["labeled_f1"] == 0.75


def test_brackets_are_multisets():
    gold = T("(S (NP (NP (DT a) (NN b))) (VBZ c))")  # NP over NP over the same span: two brackets
    once = T("(S (NP (DT a) (NN b)) (VBZ c))")
    s = bracket_scores(gold, once)
    assert s["labeled_precision"] == 1.0 and s["labeled_recall"] == 0.5


def test_a_presentation_period_is_ignored():
    pred = T("(TOP (S (NP (DT The) (NN doctor)) (VP (VBZ laughs)) (. .)))")
    gold = T("(S (NP (DT the) (NN doctor)) (VP (VBZ laughs)))")
    assert brackets(pred, n_words=3) == [("NP", 0, 2), ("VP", 2, 3)]
    assert bracket_scores(gold, pred, n_words=3)["labeled_f1"] == 1.0


def test_one_word_sentences_have_no_brackets_to_score():
    s = bracket_scores(T("(S (VBZ go))"), T("(TOP (S (VB go)))"))
    assert s["labeled_f1"] is None and s["unlabeled_f1"] is None


def test_label_depth_counts_nested_labels_below_the_root():
    assert label_depth(GOLD, frozenset({"SBAR"})) == 1
    nested = T("(S (NP (DT a) (SBAR (WHNP b) (NP (DT c) (SBAR (WHNP d) (NP e) (V f))) (V g))) (V h))")
    assert label_depth(nested, frozenset({"SBAR"})) == 2
    assert label_depth(T("(TOP (SBAR (S x)))"), frozenset({"SBAR"})) == 0  # the root itself does not count


@pytest.fixture(scope="module")
def tiny():
    return depthkit.load_grammar(TINY_GRAMMAR)


def _intended(grammar, good, tree, depth, target=None, controller=None):
    return intended_structure(make_item(good, tree, depth=depth, target=target, controller=controller), grammar)


def test_analyse_recovers_split_and_depth_for_the_right_tree(tiny):
    intended = _intended(tiny, "the doctor that the pilots admire laughs",
                         "(S (NP (Det the) (N doctor) (RC (Comp that) (NP (Det the) (N pilots)) (TV admire))) (VP (IV laughs)))",
                         1, [6, 7], [1, 2])
    labels, why = depth_labels(tiny)
    assert labels == frozenset({"SBAR"}) and why is None
    good = T("(TOP (S (NP (NP (DT the) (NN doctor)) (SBAR (WHNP (WDT that)) (S (NP (DT the) (NNS pilots)) (VP (VBP admire))))) (VP (VBZ laughs))))")
    rec = analyse(good, intended, labels, why)
    assert rec.status == "ok" and rec.split_ok and rec.depth_ok and rec.measured_depth == 1
    assert 0 < rec.labeled_f1 < 1  # PTB adds NP-over-NP, S and WHNP brackets the grammar tree does not have
    flat = T("(TOP (S (NP (DT the) (NN doctor)) (S (WHNP that) (NP (DT the) (NNS pilots)) (VBP admire) (VBZ laughs))))")
    rec = analyse(flat, intended, labels, why)
    assert rec.status == "failed" and rec.split_ok is False and rec.depth_ok is False


def test_depth_is_compared_only_when_the_embedding_label_is_a_ptb_label():
    g = depthkit.load_grammar(AMBIGUOUS_GRAMMAR)
    labels, why = depth_labels(g)
    assert labels == frozenset({"PP"}) and why is None
    from dataclasses import replace

    fake = replace(g, embedding=frozenset({"VP"}), ptb_labels=(("VP", "VerbPhrase"),))
    labels, why = depth_labels(fake)
    assert labels == frozenset() and "ptb_labels" in why
