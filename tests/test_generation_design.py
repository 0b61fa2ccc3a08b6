"""Properties every shipped grammar's items have: depth is the only thing that changes.

Balanced conditions within every depth, ladders that keep the frame, one reading at the intended depth,
real violations, no repeated content word, controls in their item's condition.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from depthkit.grammar import compile_grammar, list_grammar_files, load_grammar
from depthkit.generation import generate
from depthkit.generation.chart import DepthChart
from depthkit.generation.validity import free_categories, repeated_words

SHIPPED = [p.stem for p in list_grammar_files()]
CACHE: dict = {}


def made(name: str, seed: int):
    key = (name, seed)
    if key not in CACHE:
        g = load_grammar(name)
        CACHE[key] = (g, generate(g, "0-4", 8, seed, controls=True))
    return CACHE[key]


def chart(name: str) -> DepthChart:
    if name not in CACHE:
        CACHE[name] = DepthChart(compile_grammar(load_grammar(name)))
    return CACHE[name]


seeds = st.integers(min_value=0, max_value=10_000)
slow_settings = settings(max_examples=2, deadline=None, derandomize=True, phases=[Phase.generate])  # each example
# generates a whole set of items; no shrinking (a failing seed is already small)


@pytest.mark.parametrize("name", SHIPPED)
@slow_settings
@given(seed=seeds)
def test_design_controller_values_and_flip_directions_balance_at_every_depth(name, seed):
    g, items = made(name, seed)
    tests = [i for i in items if not i.is_control]
    assert {i.depth for i in tests} == {0, 1, 2, 3, 4}
    for depth in range(5):
        at = [i for i in tests if i.depth == depth]
        directions = Counter(i.pair.good_value for i in at if i.pair)
        controllers = Counter((i.condition or {}).get("controller") for i in at)
        if len(g.design.controller) != 1:  # a grammar whose construction fixes the controller value says so
            assert max(directions.values()) - min(directions.values()) <= 1, (depth, directions)
            assert max(controllers.values()) - min(controllers.values()) <= 1, (depth, controllers)
        attractors = Counter((i.condition or {}).get("attractors") for i in at if (i.condition or {}).get("attractors"))
        if attractors:
            assert max(attractors.values()) - min(attractors.values()) <= 1, (depth, attractors)


@pytest.mark.parametrize("name", SHIPPED)
@slow_settings
@given(seed=seeds)
def test_design_each_item_has_one_reading_and_a_real_violation(name, seed):
    _, items = made(name, seed)
    parser = chart(name)
    for item in items:
        assert parser.depths(item.words) == {item.depth}, item.good
        if item.bad is not None:
            assert not parser.accepts(item.bad.split(" ")), item.bad


@pytest.mark.parametrize("name", SHIPPED)
@slow_settings
@given(seed=seeds)
def test_design_no_content_word_twice(name, seed):
    g, items = made(name, seed)
    free = free_categories(compile_grammar(g))  # may_repeat and one-word categories ('the', 'that', 'of')
    for item in items:
        words = [w for w, cat in _leaves(item.tree) if cat not in free]
        assert len(words) == len(set(words)), item.good
        stems = [w.removesuffix("'s").removesuffix("'") for w in words]  # 'the pilot's friend's friends'
        assert len(stems) == len(set(stems)), item.good


@pytest.mark.parametrize("name", SHIPPED)
@slow_settings
@given(seed=seeds)
def test_design_ladders_keep_controller_and_target_across_depths(name, seed):
    g, items = made(name, seed)
    if g.design.sets != "ladder":
        pytest.skip(f"{name} draws each depth on its own")
    by_set = defaultdict(list)
    for item in items:  # one rung per depth and controller value (depth 0 has no attractor factor)
        if not item.is_control:
            by_set[(item.set_id, (item.condition or {}).get("controller"))].append(item)
    for (set_id, controller), members in by_set.items():
        members.sort(key=lambda i: i.depth)
        assert len({i.depth for i in members}) == 5, (set_id, [i.good for i in members])  # a rung at every depth
        targets = {_span_words(i, i.regions.target.good) for i in members if i.regions.target}
        assert len(targets) == 1, (set_id, controller, targets)
        for lower, upper in zip(members, members[1:]):
            a, b = _span_words(lower, lower.regions.controller), _span_words(upper, upper.regions.controller)
            if _embeds(g, upper, upper.regions.controller):  # the controller itself grows (a coordination)
                assert _subsequence(_lemmas(g, a), _lemmas(g, b)), (set_id, a, b)  # twins count as one word
            else:
                assert a == b, (set_id, a, b)
    assert len({i.set_id for i in items}) < len(items)


@pytest.mark.parametrize("name", SHIPPED)
@slow_settings
@given(seed=seeds)
def test_design_controls_share_their_items_condition_and_direction(name, seed):
    _, items = made(name, seed)
    by_id = {i.id: i for i in items}
    controls = [i for i in items if i.is_control]
    for control in controls:
        item = by_id[control.control_of]
        assert control.depth == 0 and item.depth > 0
        assert control.condition == item.condition
        assert (control.pair.good_value if control.pair else None) == (item.pair.good_value if item.pair else None)
        assert control.match is not None and "n_words" in control.match


@pytest.mark.parametrize("name", SHIPPED)
@slow_settings
@given(seed=seeds)
def test_design_controls_keep_their_items_target_verb(name, seed):
    _, items = made(name, seed)
    by_id = {i.id: i for i in items}
    for control in (i for i in items if i.is_control):
        item = by_id[control.control_of]
        assert _span_words(control, control.regions.target.good) == _span_words(item, item.regions.target.good), \
            (item.good, control.good)


def _lemmas(g, text: str) -> list[frozenset]:
    """Each word as its lexical positions (category, alternative, line length): twin forms share them."""
    where: dict[str, set] = defaultdict(set)
    for rule in g.rules:
        if rule.is_lexical:
            where[" ".join(rule.rhs)].add((rule.lhs.category, rule.alt, rule.n_alts))
    return [frozenset(where[w]) for w in text.split()]


def _subsequence(short: list, long: list) -> bool:
    rest = iter(long)
    return all(w in rest for w in short)


def _embeds(g, item, span) -> bool:
    """Whether a node of an embedding category lies inside the ``span`` of ``item``'s words."""
    from nltk import Tree

    tree = Tree.fromstring(item.tree)
    for pos in tree.treepositions():
        node = tree[pos]
        if isinstance(node, Tree) and node.label() in g.embedding:
            leaves = [tuple(pos) + tuple(p) for p in node.treepositions("leaves")]
            first, last = tree.treepositions("leaves").index(leaves[0]), tree.treepositions("leaves").index(leaves[-1])
            if span[0] <= first and last < span[1]:
                return True
    return False


def _span_words(item, span) -> str:
    return " ".join(item.words[span[0]:span[1]])


def _leaves(tree: str) -> list[tuple[str, str]]:
    """(word, preterminal category) pairs of a bracketed tree."""
    from nltk import Tree

    return [(t[0], t.label()) for t in Tree.fromstring(tree).subtrees() if len(t) == 1 and isinstance(t[0], str)]
