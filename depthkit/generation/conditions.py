"""Counterbalanced conditions: the same frame with the controller's value and the attractors' values set.

A :class:`Condition` says which value the agreement controller takes (``sg``/``pl`` for a number
pair) and whether the attractors between controller and target match it or not; the pair type
says which minimal pair the item makes. :func:`apply_condition` realises a condition on a derivation
by re-binding values where the grammar binds them (:func:`.edit.set_feature`), so agreement inside
relative clauses follows. Every set of items carries every condition, so within every depth the
controller values and flip directions are balanced exactly, and attraction is a crossed factor
(SyntaxGym's 2×2 design).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..grammar.compile import CompiledGrammar
from ..grammar.model import Grammar, PairSpec, format_value
from .derivation import Node, marked_spans, spans
from .edit import set_feature


@dataclass(frozen=True)
class Condition:
    """One cell of the design: controller value (None: no controller factor), attractor condition
    (``match``/``mismatch``, None when the sentence has no attractor), and the pair type."""

    controller: Any = None
    attractors: str | None = None
    pair_type: str | None = None

    @property
    def slug(self) -> str:
        parts = [format_value(self.controller) if self.controller is not None else None, self.attractors,
                 self.pair_type]
        return "-".join(p for p in parts if p)

    def to_record(self) -> dict[str, Any]:
        """The ``condition`` field of an item (keys only for the factors the grammar has)."""
        out: dict[str, Any] = {}
        if self.controller is not None:
            out["controller"] = self.controller
        if self.attractors is not None:
            out["attractors"] = self.attractors
        if self.pair_type is not None:
            out["pair_type"] = self.pair_type
        return out


def controller_values(grammar: Grammar) -> tuple[Any, ...]:
    """The controller values every set carries (the design's, else every value the pair flips)."""
    if grammar.pair is None or grammar.controller is None:
        return ()
    return grammar.design.controller or tuple(v for v, _ in grammar.pair.values)


def attractor_nodes(grammar: Grammar, node: Node, pair: PairSpec | None = None) -> list[Node]:
    """Lexical nodes of the attractor categories between the controller's head and the target that carry
    the pair's feature (the nouns whose value can attract the verb), left to right."""
    pair = pair or grammar.pair
    if pair is None or grammar.controller is None:
        return []
    ctrl = marked_spans(node, grammar.controller, lowest=True)
    targets = marked_spans(node, pair.target)
    if not ctrl or not targets:
        return []
    head = ctrl[0][2] - 1
    start = min(s for _, s, _ in targets)
    leaves = [(n, s) for n, s, e in spans(node) if e - s == 1 and n.ground.rule.is_lexical]
    # default, as for the attractor count: the category of the controller's head word
    categories = grammar.attractor_categories or {n.label for n, s in leaves if s == head}
    out = []
    for n, s, e in spans(node):
        if e - s == 1 and head < s < start and n.ground.rule.is_lexical and n.label in categories \
                and n.ground.node.get(pair.flip) is not None:
            out.append(n)
    return out


def conditions_for(grammar: Grammar, has_attractors: bool) -> list[Condition]:
    """Every condition of the design for a sentence with (or without) attractor positions."""
    controllers = controller_values(grammar) or (None,)
    attractors = (grammar.design.attractors if has_attractors and controller_values(grammar) and grammar.design.attractors
                  else (None,))  # `attractors: []`: the grammar has no attractor factor
    types = [p.type for p in grammar.pair_types] if len(grammar.pair_types) > 1 else [None]
    return [Condition(c, a, t) for t in types for c in controllers for a in attractors]


def apply_condition(compiled: CompiledGrammar, node: Node, condition: Condition) -> Node | None:
    """``node`` with the condition's controller value and attractor values, or None if the grammar forbids it."""
    grammar = compiled.grammar
    pair = grammar.pair
    if condition.controller is None or pair is None or grammar.controller is None:
        return node
    ctrl = marked_spans(node, grammar.controller, lowest=True)
    if not ctrl:
        return None
    node = set_feature(compiled, node, ctrl[0][0], pair.flip, condition.controller)
    if node is None or condition.attractors is None:
        return node
    want = condition.controller if condition.attractors == "match" else dict(pair.values)[condition.controller]
    for i in range(len(attractor_nodes(grammar, node))):
        nodes = attractor_nodes(grammar, node)
        if i >= len(nodes):
            return None  # re-deriving changed the attractor positions: not this frame
        node = set_feature(compiled, node, nodes[i], pair.flip, want)
        if node is None:
            return None
    ctrl_now = marked_spans(node, grammar.controller, lowest=True)
    if not ctrl_now or ctrl_now[0][0].ground.node.get(pair.flip) != condition.controller:
        return None  # an attractor shares the controller's binding (the grammar ties them): no such condition
    return node


__all__ = ["Condition", "apply_condition", "attractor_nodes", "conditions_for", "controller_values"]
