"""Matched controls: for a test item, a depth-0 item as close to it as the grammar allows.

A control has the item's condition (the same controller value, so the same target form and flip
direction; attractors matching or not as in the item), the item's target words and controller words
where its requirement allows them, and then, among depth-0 derivations of about the item's length,
first one with the item's target words, then the closest subject-verb distance, then attractor count,
then word count. It passes the item checks
(one reading, a real violation, no repeated word) and nests no modifier more than
:data:`~.validity.MAX_NESTING` deep. ``match`` records what is left different (control minus item).
Candidates are drawn with an RNG seeded by the item id, so a control does not depend on other items.
"""

from __future__ import annotations

import random

from ..errors import UsageError
from ..schema import Item
from .builder import agreement, build_item, target_start
from .chart import DepthChart
from .conditions import Condition, apply_condition
from .derivation import Node, marked_spans
from .edit import use_words
from .sampling import DepthTable
from .sets import content_words, filler
from .validity import MAX_NESTING, deepest_nesting, reading_problem, repeated_words

CONTROL_CANDIDATES = 400  # most candidates drawn for one control
CONTROL_PATIENCE = 30  # stop after this many acceptable draws without a better match
DRAWS_PER_LENGTH = 25  # draws at one length before trying the next closest
GIVE_UP_LENGTH = 8  # draws at one length with nothing acceptable (too much nesting needed) before moving on


def matched_control(table: DepthTable, item: Item, seed: int, chart: DepthChart | None = None) -> Item:
    """The depth-0 control of ``item`` (see the module docstring); ``match`` says how close it came."""
    compiled = table.compiled
    grammar = compiled.grammar
    chart = chart or DepthChart(compiled)
    rng = random.Random(f"{seed}/{grammar.name}/control/{item.id}")
    lengths = table.lengths(0)
    if not lengths:
        raise UsageError(f"grammar '{grammar.name}' has no depth-0 sentences for controls", path=grammar.path,
                         fix="controls need depth-0 sentences; drop --controls for this grammar")
    n = item.metrics["n_words"]
    # closest lengths first, skipping those whose sentences all nest modifiers too deeply
    near = [m for m in sorted(lengths, key=lambda m: (abs(m - n), m)) if _usable_length(table, m, seed)]
    condition = Condition(**{"controller": (item.condition or {}).get("controller"),
                             "attractors": (item.condition or {}).get("attractors"),
                             "pair_type": (item.condition or {}).get("pair_type")})
    pair = grammar.pair_named(condition.pair_type) if condition.pair_type else grammar.pair
    want_sv = item.metrics.get("sv_distance")
    want_attractors = item.metrics.get("attractors", 0)
    want_target = _target_words(grammar, None, item)
    best: tuple[tuple[int, int, int, int], Item] | None = None
    since_better = 0
    queue = iter(near)
    length, tried, usable = next(queue, None), 0, 0
    for _ in range(CONTROL_CANDIDATES if length is not None else 0):
        if tried >= DRAWS_PER_LENGTH or (tried >= GIVE_UP_LENGTH and not usable):
            length = next(queue, None)
            if length is None:
                break
            tried, usable = 0, 0
        tried += 1
        node = table.sample(rng, 0, length)
        if deepest_nesting(compiled, node) > MAX_NESTING or repeated_words(compiled, node):
            continue  # (conditions and word choices below change no lemma and no structure)
        node = _like_item(compiled, node, item, condition)
        if node is None or repeated_words(compiled, node):
            continue
        usable += 1
        since_better += 1
        sv, attractors = want_sv or 0, want_attractors
        if want_sv is not None and pair is not None:
            facts = agreement(grammar, node, target_start(grammar, node), pair)
            sv, attractors = (facts.sv_distance, facts.attractors) if facts is not None else (0, 0)
        score = (int(_target_words(grammar, node) != want_target), abs(sv - (want_sv or 0)),
                 abs(attractors - want_attractors), abs(len(node.words()) - n))
        if best is not None and score >= best[0]:
            if since_better >= CONTROL_PATIENCE and best[0][0] == 0:  # keep looking while the target differs
                break
            continue
        control = build_item(compiled, node, f"{item.id}/control", 0, "control", item.id, pair=pair,
                             set_id=item.set_id, condition=item.condition,
                             fill=filler(table, rng, content_words(compiled, node)))
        if reading_problem(chart, control.words, control.bad.split(" ") if control.bad else None, 0):
            continue
        best, since_better = (score, control), 0
        if score == (0, 0, 0, 0):
            break
    if best is None:
        raise UsageError(f"no acceptable depth-0 control found for {item.id} in {CONTROL_CANDIDATES} draws",
                         path=grammar.path, fix="give the grammar more depth-0 variety, or drop --controls")
    control = best[1]
    match = {"n_words": control.metrics["n_words"] - n}
    if want_sv is not None:
        match["sv_distance"] = control.metrics.get("sv_distance", 0) - want_sv
        match["attractors"] = control.metrics.get("attractors", 0) - want_attractors
    return control.model_copy(update={"match": match})


def _target_words(grammar, node: Node | None, item: Item | None = None) -> tuple[str, ...] | None:
    """The target words of a candidate (or of ``item``): a control keeps its item's target verb first of all
    (the target's category may not take it, an intransitive without a place phrase, say)."""
    if item is not None:
        if item.regions.target is None:
            return None
        s, e = item.regions.target.good
        return tuple(item.words[s:e])
    if grammar.pair is None:
        return None
    spans = marked_spans(node, grammar.pair.target)
    return tuple(w for n, _, _ in spans for w in n.words()) if spans else None


_USABLE: dict[tuple[int, int, int], bool] = {}


def _usable_length(table: DepthTable, length: int, seed: int) -> bool:
    """Whether depth-0 sentences of ``length`` words can avoid deep modifier nesting and repeated words
    (a few seeded draws, remembered per table: the same answer whatever the order of the items)."""
    key = (id(table), length, seed)
    if key not in _USABLE:
        rng = random.Random(f"{seed}/{table.compiled.grammar.name}/length/{length}")
        _USABLE[key] = any(deepest_nesting(table.compiled, node) <= MAX_NESTING
                           and not repeated_words(table.compiled, node)
                           for node in (table.sample(rng, 0, length) for _ in range(GIVE_UP_LENGTH * 2)))
    return _USABLE[key]


def _like_item(compiled, node: Node, item: Item, condition: Condition) -> Node | None:
    """``node`` in the item's condition, with the item's target and controller words where they fit."""
    node = apply_condition(compiled, node, condition)
    if node is None:
        return None
    grammar = compiled.grammar
    words = item.words
    pair = grammar.pair
    if pair is not None and item.regions.target is not None:
        s, e = item.regions.target.good
        targets = marked_spans(node, pair.target)
        if len(targets) == 1:
            node = use_words(compiled, node, targets[0][0], words[s:e]) or node
    if grammar.controller and item.regions.controller is not None:
        s, e = item.regions.controller
        ctrl = marked_spans(node, grammar.controller, lowest=True)
        if ctrl:
            head = _head_word(ctrl[0][0])
            if head is not None:
                node = use_words(compiled, node, head, [words[e - 1]]) or node
    return node


def _head_word(node: Node) -> Node | None:
    """The last lexical node under ``node`` (the controller's head noun)."""
    last = None
    for child in node.children:
        if isinstance(child, Node):
            last = child if child.ground.rule.is_lexical else (_head_word(child) or last)
    return last if not node.ground.rule.is_lexical else node


__all__ = ["CONTROL_CANDIDATES", "CONTROL_PATIENCE", "matched_control"]
