"""The exact-depth sampler: DP counts equal brute-force enumeration; draws follow the counts."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nltk import Tree

from depthkit.errors import DepthkitError
from depthkit.generation.derivation import Node
from depthkit.generation.metrics import embedding_depth
from depthkit.generation.sampling import DepthTable, build_table
from depthkit.grammar import compile_grammar, list_grammar_files, load_grammar

GRAMMARS = Path(__file__).parent / "data" / "grammars"


def enumerate_derivations(compiled, state, max_len):
    """Every derivation of ``state`` with at most ``max_len`` words, as (node, weight, depth, length)."""
    out = []
    if max_len <= 0:
        return out
    for g in compiled.rules_for[state]:
        partials = [((), 1.0, 0, 0)]
        for idx, child in enumerate(g.children):
            later = len(g.children) - idx - 1  # every later sibling needs at least one word
            nxt = []
            for kids, w, d, n in partials:
                if isinstance(child, str):
                    if n + 1 <= max_len:
                        nxt.append((kids + (child,), w, d, n + 1))
                    continue
                for node, cw, cd, cn in enumerate_derivations(compiled, child, max_len - n - later):
                    if n + cn <= max_len:
                        nxt.append((kids + (node,), w * cw, max(d, cd), n + cn))
            partials = nxt
        for kids, w, d, n in partials:
            if n <= max_len:
                here = 1 if compiled.is_embedding(state) else 0
                out.append((Node(g, kids), w * g.rule.weight, d + here, n))
    return out


@pytest.mark.parametrize("name", ["tiny-rc", "tiny-weighted", "tiny-clauses"])
def test_sampling_counts_match_enumeration(name):
    compiled = compile_grammar(load_grammar(GRAMMARS / f"{name}.yaml"))
    max_len = 9
    table = DepthTable(compiled, max_depth=3, max_words=max_len)
    expected: dict[tuple[int, int], float] = Counter()
    for node, weight, depth, length in enumerate_derivations(compiled, compiled.root, max_len):
        assert embedding_depth(Tree.fromstring(node.bracketed()), compiled.grammar.embedding) == depth
        if depth <= 3:
            expected[(depth, length)] += weight
    for depth in range(4):
        for length in range(1, max_len + 1):
            got = table.counts(depth)[length]
            assert math.isclose(got, expected.get((depth, length), 0.0), rel_tol=1e-12, abs_tol=1e-12), (depth, length)


def _chi_square_ok(observed: Counter, expected_probs: dict, n: int) -> bool:
    """Pearson chi-square against the expected distribution, at a generous 1e-4 level."""
    from scipy.stats import chi2

    stat = sum((observed.get(k, 0) - n * p) ** 2 / (n * p) for k, p in expected_probs.items())
    assert set(observed) <= set(expected_probs)
    return chi2.sf(stat, df=len(expected_probs) - 1) > 1e-4


def test_sampling_uniform_over_derivations():
    compiled = compile_grammar(load_grammar(GRAMMARS / "tiny-rc.yaml"))
    table = DepthTable(compiled, max_depth=1, max_words=7, weighted=False)
    rng = random.Random(7)
    n = 3200
    draws = Counter(" ".join(table.sample(rng, 1, 7).words()) for _ in range(n))
    assert len(draws) == 16  # 2 numbers x 2 nouns, twice, with one verb form each
    assert _chi_square_ok(draws, {k: 1 / 16 for k in draws}, n)


def test_sampling_weighted_follows_rule_weights():
    compiled = compile_grammar(load_grammar(GRAMMARS / "tiny-weighted.yaml"))
    table = DepthTable(compiled, max_depth=2, max_words=7)
    depth, length = 1, 5
    expected = Counter()
    for node, weight, d, n in enumerate_derivations(compiled, compiled.root, length):
        if d == depth and n == length:
            expected[node.bracketed()] += weight
    total = sum(expected.values())
    rng = random.Random(3)
    draws = Counter(table.sample(rng, depth, length).bracketed() for _ in range(4000))
    assert _chi_square_ok(draws, {k: v / total for k, v in expected.items()}, 4000)


def test_sampling_unreachable_depth_names_reachable_ones():
    compiled = compile_grammar(load_grammar(GRAMMARS / "tiny-rc.yaml"))
    with pytest.raises(DepthkitError) as info:
        build_table(compiled, 9, max_words=20)
    assert "reachable depths: 0-4" in info.value.message


_TABLES: dict[str, DepthTable] = {}


def _shipped_table(path: Path) -> DepthTable:
    if path.stem not in _TABLES:
        _TABLES[path.stem] = build_table(compile_grammar(load_grammar(path)), 5)
    return _TABLES[path.stem]


SHIPPED = list_grammar_files()


def test_sampling_every_construction_shipped():
    """The property test below runs over every shipped construction."""
    assert {p.stem for p in SHIPPED} >= {"object-rc", "subject-rc", "pp-attractors", "sentential-complements",
                                         "possessives", "coordination", "reflexive-rc", "filler-gap"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammar=st.sampled_from(SHIPPED), depth=st.integers(0, 5), seed=st.integers(0, 2**32 - 1), pick=st.integers(0, 10**6))
def test_sampling_measured_depth_equals_requested(grammar, depth, seed, pick):
    """Property: over every shipped grammar, any depth, any seed, any reachable length."""
    table = _shipped_table(grammar)
    lengths = table.lengths(depth)
    length = lengths[pick % len(lengths)]
    node = table.sample(random.Random(seed), depth, length)
    tree = Tree.fromstring(node.bracketed())
    assert embedding_depth(tree, table.compiled.grammar.embedding) == depth
    assert tree.leaves() == node.words()
    assert len(node.words()) == length
