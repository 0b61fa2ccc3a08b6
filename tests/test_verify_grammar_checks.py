"""The grammar check: membership, ambiguity count, bad rejection, and the intended-structure facts."""

from __future__ import annotations

import pytest
from nltk import Tree

import depthkit
from depthkit.schema import Item
from depthkit.verify.chart_parse import GrammarChecker
from depthkit.verify.intended import bracketed, intended_structure, relabel

from _verify_helpers import AMBIGUOUS_GRAMMAR, TINY_GRAMMAR, make_item


@pytest.fixture(scope="module")
def tiny():
    return depthkit.load_grammar(TINY_GRAMMAR)


@pytest.fixture(scope="module")
def pp():
    return depthkit.load_grammar(AMBIGUOUS_GRAMMAR)


def _check(grammar, item, max_parses=10):
    return GrammarChecker(grammar, max_parses).check(item, intended_structure(item, grammar))


def test_generated_items_parse_once_and_their_bad_twins_are_rejected(tiny):
    items = depthkit.generate(tiny, depths="0-3", per_depth=3, seed=2)
    checker = GrammarChecker(tiny)
    for it in items:
        item = Item.from_dict(it.to_dict())
        rec = checker.check(item, intended_structure(item, tiny))
        assert rec.status == "ok", (it.good, rec)
        assert rec.n_parses == 1 and rec.intended_parse and rec.bad_rejected is True
        assert rec.ambiguous is False


def test_pp_attachment_is_counted_as_ambiguous(pp):
    tree = "(S (NP (Det the) (N pilot)) (VP (V sees) (NP (NP (Det the) (N author)) (PP (P with) (NP (Det the) (N telescope))))))"
    rec = _check(pp, make_item("the pilot sees the author with the telescope", tree, depth=1))
    assert rec.n_parses == 2
    assert rec.ambiguous is True and rec.status == "failed"
    assert rec.intended_parse is True
    assert "ambiguous" in rec.reason


def test_parse_count_is_capped(pp):
    words = "the pilot sees the author with the telescope with the pilot with the author"
    tree = Tree("S", [Tree("X", words.split())])  # the intended tree does not matter for the count
    rec = _check(pp, make_item(words, str(tree)), max_parses=3)
    assert rec.capped is True
    assert rec.n_parses == 4  # reported as "more than max_parses"
    assert rec.ambiguous is True


def test_words_outside_the_lexicon_are_not_in_the_language(tiny):
    rec = _check(tiny, make_item("the dragon laughs", "(S (NP (Det the) (N dragon)) (VP (IV laughs)))",
                             bad="the dragon laugh", target=[2, 3], controller=[1, 2]))
    assert rec.in_language is False and rec.status == "failed"
    assert "lexicon" in rec.reason and "dragon" in rec.reason


def test_a_bad_twin_that_parses_fails_the_check(tiny):
    tree = "(S (NP (Det the) (N doctor)) (VP (IV laughs)))"
    rec = _check(tiny, make_item("the doctor laughs", tree, bad="the pilot laughs", target=[2, 3], controller=[1, 2]))
    assert rec.bad_rejected is False
    assert rec.status == "failed"


def test_a_tree_the_grammar_cannot_build_is_not_the_intended_parse(tiny):
    wrong = "(S (NP (Det the)) (VP (N doctor) (IV laughs)))"
    rec = _check(tiny, make_item("the doctor laughs", wrong, bad="the doctor laugh", target=[2, 3], controller=[1, 2]))
    assert rec.in_language is True and rec.intended_parse is False
    assert rec.status == "failed"


def test_intended_structure_of_an_agreementmake_item(tiny):
    it = Item.from_dict(depthkit.generate(tiny, depths=[2], per_depth=1, seed=3)[0].to_dict())
    intended = intended_structure(it, tiny)
    assert intended.matrix_verbs == (it.regions.target.good[0],) and intended.target_verb is True
    assert intended.clausal is True
    assert intended.target == tuple(it.regions.target.good)
    assert intended.top_spans[0][0] == 0 and intended.top_spans[-1][1] == len(it.good.split())
    assert "SBAR" in bracketed(intended.ptb_tree) and "RC" not in bracketed(intended.ptb_tree)


def test_pp_depth_is_not_clausal_and_unpaired_items_find_their_verb_in_the_tree(pp):
    tree = "(S (NP (Det the) (N pilot)) (VP (V sees) (NP (NP (Det the) (N author)) (PP (P with) (NP (Det the) (N telescope))))))"
    item = make_item("the pilot sees the author with the telescope", tree, depth=1)
    intended = intended_structure(item, pp)
    assert intended.clausal is False and "PP" in intended.clausal_reason
    assert intended.matrix_verbs == (2,)
    assert intended.target_verb is False and "target" in intended.target_verb_reason
    from dataclasses import replace

    no_verbs = replace(pp, ptb_labels=(("V", "XX"),))  # the grammar says its V is not a verb
    intended = intended_structure(item, no_verbs)
    assert intended.matrix_verbs == () and "no verb" in intended.matrix_verb_reason


def test_a_target_inside_an_embedded_clause_is_not_the_matrix_verb(tiny):
    tree = "(S (NP (Det the) (N doctor) (RC (Comp that) (NP (Det the) (N pilots)) (TV admire))) (VP (IV laughs)))"
    item = make_item("the doctor that the pilots admire laughs", tree, depth=1, target=[5, 6], controller=[4, 5])
    intended = intended_structure(item, tiny)
    assert intended.matrix_verbs == (6,)  # the root should still be the matrix verb
    assert intended.target_verb is True  # and the controller the subject of the (embedded) target


def test_relabel_maps_categories_and_keeps_unmapped_labels(tiny):
    t = relabel(Tree.fromstring("(S (NP (Det the) (N doctor) (Foo x)) (VP (IV laughs)))"), tiny)
    assert str(t) == "(S (NP (DT the) (NN doctor) (Foo x)) (VP (VBZ laughs)))"
