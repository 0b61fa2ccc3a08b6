"""Item sets: a lexical frame realised at every depth of a ladder (or at one depth) in every condition.

One *set* is one draw from the exact-depth sampler, turned into items: with the ``ladder`` design
the frame is drawn at the deepest requested depth and its rungs (:mod:`.ladder`) give the shallower
depths; with ``independent`` each depth draws its own frames. Every rung is realised in every
:class:`~.conditions.Condition` of the grammar's design, and every item is checked
(:mod:`.validity`): a set with one unacceptable item is dropped whole and the reason counted, so
the sets that remain are complete and the conditions stay balanced at every depth.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ..grammar.compile import CompiledGrammar
from ..grammar.model import Grammar, State
from ..schema import Item
from .builder import build_item
from .chart import DepthChart
from .conditions import Condition, apply_condition, attractor_nodes, conditions_for
from .derivation import Node, marked_spans
from .ladder import ladder
from .sampling import DepthTable
from .validity import NO_CONDITION, NO_LADDER, REPEATED_WORD, lemma_keys, reading_problem, repeated_words

SET_ATTEMPTS = 40  # frames drawn per wanted set before giving up
FILL_ATTEMPTS = 20  # draws of new material for a length-changing pair, looking for words not yet used


@dataclass
class Tally:
    """Frames drawn, kept and rejected (by depth and reason), for the manifest and `grammar check`."""

    drawn: int = 0
    kept: int = 0
    rejected: dict[int, dict[str, int]] = field(default_factory=dict)
    examples: dict[tuple[int, str], str] = field(default_factory=dict)  # one sentence per (depth, reason)

    def reject(self, depth: int, reason: str, sentence: str) -> None:
        by_reason = self.rejected.setdefault(depth, {})
        by_reason[reason] = by_reason.get(reason, 0) + 1
        self.examples.setdefault((depth, reason), sentence)

    def to_record(self) -> dict[str, dict[str, int]]:
        return {str(d): dict(sorted(r.items())) for d, r in sorted(self.rejected.items())}


@dataclass(frozen=True)
class SetPlan:
    """What to draw: the design, the depths, how many sets, the seed and the length window per depth."""

    design: str
    depths: tuple[int, ...]
    n_sets: int
    seed: int
    lengths: dict[int, list[int]]
    length_weights: dict[int, list[float]] | None = None  # None: every length equally likely
    unique: bool = True


def n_conditions(grammar: Grammar, with_attractors: bool = True) -> int:
    return len(conditions_for(grammar, with_attractors))


def sets_needed(grammar: Grammar, per_depth: int) -> int:
    """Sets that give at least ``per_depth`` test items at depths with attractors."""
    return max(1, math.ceil(per_depth / n_conditions(grammar, grammar.controller is not None)))


class SetMaker:
    """Turns frames into complete, checked sets of items (pure given the seed)."""

    def __init__(self, compiled: CompiledGrammar, table: DepthTable):
        self.compiled = compiled
        self.grammar = compiled.grammar
        self.table = table
        self.chart = DepthChart(compiled)

    def make(self, plan: SetPlan, tally: Tally) -> list[Item]:
        """Every item of ``plan``: per set, per depth (deepest first in a ladder), per condition."""
        if plan.design == "ladder":
            return self._draw(plan, plan.depths, f"{self.grammar.name}", tally)
        items: list[Item] = []
        for depth in plan.depths:
            items += self._draw(plan, (depth,), f"{self.grammar.name}/d{depth}", tally)
        return items

    def _draw(self, plan: SetPlan, depths: tuple[int, ...], prefix: str, tally: Tally) -> list[Item]:
        top = max(depths)
        rng = random.Random(f"{plan.seed}/{prefix}/sets")
        lengths, weights = plan.lengths[top], (plan.length_weights or {}).get(top)
        seen: set[str] = set()
        out: list[Item] = []
        n_sets, attempts = 0, 0
        while n_sets < plan.n_sets and attempts < plan.n_sets * SET_ATTEMPTS:
            attempts += 1
            length = rng.choices(lengths, weights=weights)[0] if weights else lengths[rng.randrange(len(lengths))]
            frame = self.table.sample(rng, top, length)
            sentence = " ".join(frame.words())
            if plan.unique and sentence in seen:
                continue
            seen.add(sentence)
            tally.drawn += 1
            items = self._realise(frame, depths, f"{prefix}/s{n_sets:03d}", random.Random(f"{plan.seed}/{sentence}"),
                                  tally)
            if items is not None:
                out += items
                n_sets += 1
                tally.kept += 1
        return out

    def _realise(self, frame: Node, depths: tuple[int, ...], set_id: str, rng: random.Random,
                 tally: Tally) -> list[Item] | None:
        """The set's items, or None (with the reason counted) when one of them is not acceptable."""
        top = max(depths)
        repeated = repeated_words(self.compiled, frame)
        if repeated:
            tally.reject(top, REPEATED_WORD, " ".join(frame.words()))
            return None
        rungs = ladder(self.compiled, frame, list(depths), self._keeps(frame)) if len(depths) > 1 else {top: frame}
        if rungs is None:
            tally.reject(top, NO_LADDER, " ".join(frame.words()))
            return None
        items: list[Item] = []
        for depth in sorted(depths, reverse=True):
            rung = rungs[depth]
            for condition in conditions_for(self.grammar, bool(attractor_nodes(self.grammar, rung))):
                item = self._item(rung, depth, condition, set_id, rng, tally)
                if item is None:
                    return None
                items.append(item)
        return items

    def _item(self, rung: Node, depth: int, condition: Condition, set_id: str, rng: random.Random,
              tally: Tally) -> Item | None:
        variant = apply_condition(self.compiled, rung, condition)
        if variant is None:
            tally.reject(depth, NO_CONDITION, " ".join(rung.words()))
            return None
        pair = self.grammar.pair_named(condition.pair_type) if condition.pair_type else self.grammar.pair
        item_id = _item_id(self.grammar.name, set_id, depth, condition)
        item = build_item(self.compiled, variant, item_id, depth, "test", pair=pair, set_id=set_id,
                          condition=condition.to_record() or None, fill=self.filler(rng, self._content_words(variant)))
        problem = reading_problem(self.chart, item.words, item.bad.split(" ") if item.bad else None, depth)
        if problem is not None:
            tally.reject(depth, problem, item.good if problem != "bad_accepted" else item.bad)
            return None
        return item

    def _keeps(self, frame: Node) -> Callable[[Node], bool]:
        """What a rung must keep: a controller (if the grammar marks one) and the same target words."""
        grammar = self.grammar
        pair = grammar.pair
        target_words = [n.words() for n, _, _ in marked_spans(frame, pair.target)] if pair else []

        def keep(candidate: Node) -> bool:
            if grammar.controller and not marked_spans(candidate, grammar.controller, lowest=True):
                return False
            return not pair or [n.words() for n, _, _ in marked_spans(candidate, pair.target)] == target_words

        return keep

    def filler(self, rng: random.Random, avoid: set[str]) -> Callable[[State], Node]:
        """New material for a length-changing pair (see :func:`filler`)."""
        return filler(self.table, rng, avoid)

    def _content_words(self, node: Node) -> set[str]:
        return content_words(self.compiled, node)


def filler(table: DepthTable, rng: random.Random, avoid: set[str]) -> Callable[[State], Node]:
    """New material for a length-changing pair: a shortest depth-0 derivation of the requirement,
    preferably without the sentence's own words (``avoid``)."""
    def fill(state: State) -> Node:
        counts = table.counts(0, state) if state in table.index else None
        if counts is None or not (counts > 0).any():
            raise ValueError(f"cannot draw new words for {state}")
        shortest = int(next(n for n in range(len(counts)) if counts[n] > 0))
        node = table.sample(rng, 0, shortest, state)
        for _ in range(FILL_ATTEMPTS):
            if not avoid & content_words(table.compiled, node):
                break
            node = table.sample(rng, 0, shortest, state)
        return node

    return fill


def content_words(compiled: CompiledGrammar, node: Node) -> set:
    """The content words of ``node`` as the repetition check counts them (a word and its twin are one)."""
    return lemma_keys(compiled, node)


def _item_id(grammar: str, set_id: str, depth: int, condition: Condition) -> str:
    """``GRAMMAR/dDEPTH/sNNN[-condition]``: stable for a grammar, seed and options."""
    number = set_id.rsplit("/", 1)[-1]
    slug = condition.slug
    return f"{grammar}/d{depth}/{number}" + (f"-{slug}" if slug else "")


__all__ = ["SET_ATTEMPTS", "SetMaker", "SetPlan", "Tally", "content_words", "filler", "n_conditions", "sets_needed"]
