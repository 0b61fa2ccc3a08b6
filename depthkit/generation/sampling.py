"""Exact-depth sampling without rejection.

:class:`DepthTable` counts (weighted) derivations of every ground state by exact embedding
depth and word length with dynamic programming; :meth:`DepthTable.sample` then draws a
derivation top-down from those counts. Depth of a node = (1 if its category is an
embedding category else 0) + the deepest child, so the root's depth is the largest number
of embedding nodes on one root-to-leaf path.

With all rule weights 1 the draw is uniform over derivations of the chosen depth and
length; with weights it is the weighted grammar's distribution conditioned on them. Counts
are float64 (exact up to 2**53, relative error ~1e-16 beyond); "exactly d" is counted
directly, never as a difference of cumulative counts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..grammar.compile import CompiledGrammar
from ..grammar.model import GroundRule, State
from .derivation import Node

DEFAULT_MAX_WORDS = 40
LENGTH_CAP = 160  # how far build_table grows the length bound looking for a depth
MAX_WORDS_LIMIT = 250  # beyond this, float64 derivation counts can overflow


@dataclass(frozen=True)
class _Rule:
    ground: GroundRule
    children: tuple[int, ...]  # state indices; -1 is a terminal word
    weight: float


class DepthTable:
    """Derivation counts by (state, exact depth, length) for depths 0..max_depth, lengths 1..max_words."""

    def __init__(self, compiled: CompiledGrammar, max_depth: int, max_words: int, *, weighted: bool = True):
        if max_depth < 0:
            raise ValueError("max_depth must be >= 0")
        self.compiled = compiled
        self.max_depth = max_depth
        self.max_words = max_words
        self.weighted = weighted
        self.states = list(compiled.order)
        self.index = {s: i for i, s in enumerate(self.states)}
        self.embedding = np.array([compiled.is_embedding(s) for s in self.states], dtype=bool)
        n, L, D = len(self.states), max_words, max_depth
        self.rules: list[list[_Rule]] = []
        for s in self.states:
            rs = []
            for g in compiled.rules_for[s]:
                children = tuple(-1 if isinstance(c, str) else self.index[c] for c in g.children)
                rs.append(_Rule(g, children, _weight(g.rule.weight, weighted)))
            self.rules.append(rs)
        # ex[d, s, l]: weighted count of derivations of state s with depth exactly d and l words.
        # le[d, s, l]: the same with depth <= d. Index n is the terminal pseudo-state (one word, depth 0).
        self.ex = np.zeros((D + 1, n + 1, L + 1))
        self.le = np.zeros((D + 1, n + 1, L + 1))
        if L >= 1:
            self.ex[0, n, 1] = 1.0
            self.le[:, n, 1] = 1.0
        # Prefix products per (state, rule position, D'): A[j] (first j children all <= D'),
        # B[j] (all <= D' and at least one == D'). Row 0 is the empty product.
        self._prefix: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._weights_cache: dict[tuple[int, int, int], np.ndarray] = {}
        self._unary_order = self._topo_unary()
        for d in range(D + 1):
            self._fill_depth(d)
        if not np.isfinite(self.ex).all():
            raise UsageError(f"derivation counts overflow within {max_words} words for grammar "
                             f"'{compiled.grammar.name}'", path=compiled.grammar.path,
                             fix="ask for a smaller --max-words (or fewer rules per category)")

    # ---- counting ------------------------------------------------------------------------

    def _topo_unary(self) -> list[int]:
        """States ordered so that a unary (single-state child) rule's child comes first."""
        n = len(self.states)
        seen = [0] * n
        out: list[int] = []

        def visit(i: int) -> None:
            seen[i] = 1
            for r in self.rules[i]:
                if len(r.children) == 1 and r.children[0] >= 0 and not self.embedding[i]:
                    c = r.children[0]
                    if not seen[c]:
                        visit(c)
            out.append(i)

        for i in range(n):
            if not seen[i]:
                visit(i)
        return out

    def _child(self, c: int) -> int:
        return len(self.states) if c < 0 else c

    def _fill_depth(self, d: int) -> None:
        L = self.max_words
        ex_d, le_d = self.ex[d], self.le[d]
        for i in range(len(self.states)):
            dp = d - int(self.embedding[i])
            if dp < 0:
                continue
            for ri, r in enumerate(self.rules[i]):
                k = len(r.children)
                if k >= 2:
                    self._prefix[(i, ri, dp)] = (np.zeros((k + 1, L + 1)), np.zeros((k + 1, L + 1)))
        for length in range(1, L + 1):
            for i in self._unary_order:
                dp = d - int(self.embedding[i])
                if dp < 0:
                    continue
                total = 0.0
                for ri, r in enumerate(self.rules[i]):
                    k = len(r.children)
                    if k == 1:
                        c = self._child(r.children[0])
                        total += r.weight * self.ex[dp, c, length]
                        continue
                    A, B = self._prefix[(i, ri, dp)]
                    Aprev = self._prefix[(i, ri, dp - 1)][0] if dp > 0 else None
                    # row 1 is the first child itself
                    c1 = self._child(r.children[0])
                    A[1, length - 1] = self.le[dp, c1, length - 1]
                    B[1, length - 1] = self.ex[dp, c1, length - 1]
                    for j in range(2, k + 1):
                        c = self._child(r.children[j - 1])
                        # sum over i of X[j-1, i] * Y[c, length - i]; every child has >= 1 word
                        le_c = self.le[dp, c, length - 1:0:-1]
                        A[j, length] = A[j - 1, 1:length] @ le_c
                        hit = B[j - 1, 1:length] @ le_c
                        if Aprev is not None:  # first j-1 all below D', child j exactly D'
                            hit += Aprev[j - 1, 1:length] @ self.ex[dp, c, length - 1:0:-1]
                        B[j, length] = hit
                    total += r.weight * B[k, length]
                ex_d[i, length] = total
                le_d[i, length] = total + (self.le[d - 1, i, length] if d > 0 else 0.0)
        # rows for lengths not yet mirrored into A[1]/B[1] (the last length)
        for (i, ri, dp), (A, B) in self._prefix.items():
            if dp == d - int(self.embedding[i]):
                c1 = self._child(self.rules[i][ri].children[0])
                A[1, L] = self.le[dp, c1, L]
                B[1, L] = self.ex[dp, c1, L]

    # ---- queries -------------------------------------------------------------------------

    def counts(self, depth: int, state: State | None = None) -> np.ndarray:
        """Weighted derivation counts of ``state`` (default: the start symbol) at exactly ``depth``, by length."""
        i = self.index[state or self.compiled.root]
        return self.ex[depth, i].copy()

    def lengths(self, depth: int, min_words: int = 1, max_words: int | None = None) -> list[int]:
        """Word lengths at which the start symbol has a derivation of exactly ``depth``."""
        hi = self.max_words if max_words is None else min(max_words, self.max_words)
        row = self.counts(depth)
        return [n for n in range(max(1, min_words), hi + 1) if row[n] > 0]

    # ---- sampling ------------------------------------------------------------------------

    def sample(self, rng: random.Random, depth: int, length: int, state: State | None = None) -> Node:
        """One derivation of exactly ``depth`` and ``length`` words, drawn in proportion to its weight."""
        i = self.index[state or self.compiled.root]
        if not self.ex[depth, i, length] > 0:
            raise ValueError(f"no derivation of {self.states[i]} at depth {depth} with {length} words")
        return self._sample(rng, i, depth, length)

    def _rule_weights(self, i: int, dp: int, length: int) -> np.ndarray:
        key = (i, dp, length)
        cached = self._weights_cache.get(key)
        if cached is None:
            weights = []
            for ri, r in enumerate(self.rules[i]):
                k = len(r.children)
                if k == 1:
                    w = self.ex[dp, self._child(r.children[0]), length]
                else:
                    w = self._prefix[(i, ri, dp)][1][k, length]
                weights.append(r.weight * w)
            cached = self._weights_cache[key] = np.asarray(weights)
        return cached

    def _sample(self, rng: random.Random, i: int, d: int, length: int) -> Node:
        dp = d - int(self.embedding[i])
        ri = _choose(rng, self._rule_weights(i, dp, length))
        r = self.rules[i][ri]
        plan = self._split_children(rng, i, ri, dp, length)
        children: list[Node | str] = []
        for c, (cd, cl) in zip(r.children, plan):
            if c < 0:
                children.append(r.ground.children[len(children)])
            else:
                children.append(self._sample(rng, c, cd, cl))
        return Node(r.ground, tuple(children))

    def _split_children(self, rng: random.Random, i: int, ri: int, dp: int, length: int) -> list[tuple[int, int]]:
        """Choose (exact depth, length) for each child, right to left, so that max depth == dp.

        For child j with t words and exact depth delta, the weight is ex[delta, child, t] times
        the count of the first j-1 children filling the remaining words: all <= dp (A), or,
        while no child has reached dp yet and delta < dp, all <= dp with one == dp (B).
        """
        r = self.rules[i][ri]
        k = len(r.children)
        if k == 1:
            return [(dp, length)]
        A, B = self._prefix[(i, ri, dp)]
        plan: list[tuple[int, int]] = [(0, 0)] * k
        remaining, need_hit = length, True
        for j in range(k, 0, -1):
            c = self._child(r.children[j - 1])
            E = self.ex[: dp + 1, c, 1: remaining + 1]  # (depth, t = 1..remaining)
            if j == 1:
                W = np.zeros_like(E)
                W[:, -1] = E[:, -1]  # the first child takes every remaining word
                if need_hit:
                    W[:dp, :] = 0.0
            else:
                rest = remaining - np.arange(1, remaining + 1)
                W = E * A[j - 1, rest]
                if need_hit and dp > 0:
                    W[:dp, :] = E[:dp, :] * B[j - 1, rest]
            flat = _choose(rng, W.ravel())
            delta, t = divmod(flat, remaining)
            t += 1
            plan[j - 1] = (int(delta), int(t))
            if delta == dp:
                need_hit = False
            remaining -= int(t)
        return plan


def _weight(weight: float, weighted: bool) -> float:
    """A rule's sampling weight: 0 for parse-only rules (``@ 0``) even when weights are ignored."""
    if weight == 0:
        return 0.0
    return weight if weighted else 1.0


def _choose(rng: random.Random, weights: np.ndarray) -> int:
    total = float(weights.sum())
    if not total > 0:
        raise ValueError("nothing to choose from")
    cumulative = np.cumsum(weights)
    u = rng.random() * cumulative[-1]
    idx = int(np.searchsorted(cumulative, u, side="right"))
    idx = min(idx, len(weights) - 1)
    while weights[idx] <= 0:  # float edge: never land on an impossible option
        idx -= 1
    return idx


def build_table(compiled: CompiledGrammar, max_depth: int, need_words: int | None = None, *,
                weighted: bool = True, max_words: int | None = None) -> DepthTable:
    """A table deep and long enough for ``max_depth``, growing the length bound when needed.

    Raises :class:`~depthkit.errors.UsageError` naming the reachable depths when ``max_depth`` cannot be
    reached within ``LENGTH_CAP`` words (or ``max_words`` when given).
    """
    cap = min(max_words or LENGTH_CAP, MAX_WORDS_LIMIT)
    words = min(cap, max(need_words or 0, compiled.grammar.max_words or DEFAULT_MAX_WORDS))
    while True:
        table = DepthTable(compiled, max_depth, words, weighted=weighted)
        missing = [d for d in range(max_depth + 1) if not table.lengths(d)]
        if not missing or words >= cap:
            break
        words = min(cap, words * 2)
    if missing:
        reachable = [d for d in range(max_depth + 1) if table.lengths(d)]
        g = compiled.grammar
        raise UsageError(
            f"depth {', '.join(map(str, missing))} cannot be reached by grammar '{g.name}' within {words} words; "
            f"reachable depths: {_ranges(reachable) or 'none'}", path=g.path,
            fix="ask for reachable depths, raise --max-words, or let the embedding categories nest deeper")
    return table


def _ranges(values: list[int]) -> str:
    if not values:
        return ""
    out, start, prev = [], values[0], values[0]
    for v in values[1:] + [None]:  # type: ignore[list-item]
        if v is not None and v == prev + 1:
            prev = v
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(out)
