"""Grammatical edits: a feature set where the grammar binds it, agreement re-derived; ladders one level at a time."""

from __future__ import annotations

import random

from conftest import GRAMMARS
from depthkit.grammar import compile_grammar, load_grammar
from depthkit.generation.conditions import Condition, apply_condition, attractor_nodes
from depthkit.generation.derivation import marked_spans
from depthkit.generation.edit import set_feature, use_words
from depthkit.generation.ladder import ladder, node_depth
from depthkit.generation.sampling import build_table


def frame(name: str, depth: int, seed: int = 1):
    g = load_grammar(name)
    compiled = compile_grammar(g)
    table = build_table(compiled, depth)
    rng = random.Random(seed)
    return g, compiled, table.sample(rng, depth, table.lengths(depth)[0])


def test_edit_controller_number_re_derives_the_agreeing_verb():
    g, c, node = frame("object-rc", 1)
    ctrl = marked_spans(node, g.controller, lowest=True)[0][0]
    value = ctrl.ground.node.get("NUM")
    other = "pl" if value == "sg" else "sg"
    flipped = set_feature(c, node, ctrl, "NUM", other)
    before, after = node.words(), flipped.words()
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    target = marked_spans(node, g.pair.target)[0][1]
    assert len(before) == len(after) and changed == [marked_spans(node, g.controller, lowest=True)[0][1], target]


def test_edit_attractor_in_a_relative_clause_carries_its_verb_along():
    g, c, node = frame("object-rc", 1, seed=4)
    (attractor,) = attractor_nodes(g, node) or [None]
    assert attractor is not None
    other = "pl" if attractor.ground.node.get("NUM") == "sg" else "sg"
    edited = set_feature(c, node, attractor, "NUM", other)
    assert edited is not None and compile_grammar(g) is not None
    # the relative clause's verb agrees with its new subject: the edited sentence is in the language
    from depthkit.generation.chart import DepthChart

    assert DepthChart(c).depths(edited.words()) == {1}
    assert edited.words() != node.words()


def test_edit_refuses_a_value_the_rules_fix():
    g, c, node = frame("coordination", 1)
    ctrl = marked_spans(node, g.controller, lowest=True)[0][0]
    assert set_feature(c, node, ctrl, "NUM", "sg") is None  # a coordinated subject is plural by rule


def test_edit_use_words_only_where_the_requirement_allows():
    g, c, node = frame("object-rc", 0)
    verb, start, _ = marked_spans(node, g.pair.target)[0]  # the marked node is the verb itself
    sg, pl = ("sleeps", "sleep") if verb.label == "IVL" else ("laughs", "laugh")  # a word of the verb's own category
    form = sg if verb.ground.node.get("NUM") == "sg" else pl
    wrong = pl if form == sg else sg
    assert use_words(c, node, verb, [form]).words()[start] == form
    assert use_words(c, node, verb, [wrong]) is None


def test_ladder_rungs_keep_subject_and_target_and_lose_one_level_each():
    g, c, node = frame("object-rc", 4, seed=2)
    target_words = [" ".join(n.words()) for n, _, _ in marked_spans(node, g.pair.target)]

    def keep(candidate):
        return [" ".join(n.words()) for n, _, _ in marked_spans(candidate, g.pair.target)] == target_words

    rungs = ladder(c, node, [0, 1, 2, 3, 4], keep)
    assert sorted(rungs) == [0, 1, 2, 3, 4]
    subject = node.words()[:2]
    for d, rung in rungs.items():
        assert node_depth(c, rung) == d and rung.words()[:2] == subject
        if d < 4:  # each deeper rung is this one with one more embedding inserted: its words contain these, in order
            deeper = iter(rungs[d + 1].words())
            assert all(w in deeper for w in rung.words())


def test_conditions_apply_to_a_sentential_complement_without_attractors():
    g, c, node = frame("sentential-complements", 2)
    for value in ("sg", "pl"):
        v = apply_condition(c, node, Condition(value, None))
        assert marked_spans(v, g.controller, lowest=True)[0][0].ground.node.get("NUM") == value
