"""Edits of a derivation that keep it grammatical: set a feature where it is bound, swap a word for its twin.

:func:`set_feature` changes one node's feature value (a noun's number, say) at the place the
grammar binds it — the lowest ancestor whose rule introduces the variable the value flows through —
and re-derives everything that agrees with it there (the noun's determiner-less twin, the verb of its
clause), so ``the author that the senators admire`` becomes ``the author that the senator admires``.
:func:`use_words` puts given words at a node when the node's requirement allows them (the same
target verb in a control, say). Both return a new tree or None when the grammar does not allow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import InputError
from ..grammar.compile import CompiledGrammar
from ..grammar.model import GroundRule, Var
from .derivation import Node
from .pairs import rederive

Trail = list[tuple[Node, int]]  # (ancestor, index of the child on the way down), root first


def trail_to(root: Node, target: Node) -> Trail | None:
    """The ancestors of ``target`` (by identity) with the child index taken at each, or None."""
    stack: list[tuple[Node, Trail]] = [(root, [])]
    while stack:
        node, trail = stack.pop()
        if node is target:
            return trail
        for k, child in enumerate(node.children):
            if isinstance(child, Node):
                stack.append((child, trail + [(node, k)]))
    return None


def replace_at(trail: Trail, new: Node) -> Node:
    """The root rebuilt with the node at the end of ``trail`` replaced by ``new``."""
    for parent, k in reversed(trail):
        children = list(parent.children)
        children[k] = new
        new = Node(parent.ground, tuple(children))
    return new


def _with_ground(compiled: CompiledGrammar, node: Node, ground: GroundRule, feature: str) -> Node | None:
    """``node`` switched to ``ground`` (same rule shape), its children re-derived where their requirement changed."""
    children: list[Node | str] = []
    for old, req in zip(node.children, ground.children):
        if isinstance(req, str) or isinstance(old, str):
            if isinstance(req, str) != isinstance(old, str):
                return None
            children.append(req)
            continue
        try:
            children.append(rederive(compiled, old, req, feature))
        except InputError:
            return None
    return Node(ground, tuple(children))


def set_feature(compiled: CompiledGrammar, root: Node, target: Node, feature: str, value: Any) -> Node | None:
    """``root`` with ``target``'s ``feature`` set to ``value``, everything agreeing with it re-derived.

    Walks up from ``target`` while the feature's value is fixed by the parent's requirement, to the node
    whose rule binds the variable (or whose requirement leaves the feature open); re-binds it there.
    None when the value is a constant of a rule on the way (a coordination is plural, say) or no twin fits.
    """
    if target.ground.node.get(feature) == value:
        return root
    trail = trail_to(root, target)
    if trail is None:
        raise ValueError("target is not a node of root")
    if target.ground.state.get(feature) is None:  # the requirement leaves it open: a twin rule decides
        twins = [g for g in compiled.ground(target.ground.state)
                 if g.rule.weight > 0 and g.node.get(feature) == value and _same_place(g, target.ground, feature)]
        for ground in twins:
            new = _with_ground(compiled, target, ground, feature)
            if new is not None:
                return replace_at(trail, new)
        return None
    current = feature
    for depth in range(len(trail) - 1, -1, -1):
        node, k = trail[depth]
        symbol = node.ground.rule.rhs[k]
        var = dict(symbol.spec).get(current)
        if not isinstance(var, Var):
            return None  # a constant in the rule: this value cannot change here
        lhs_feature = next((f for f, v in node.ground.rule.lhs.spec if v == var), None)
        if lhs_feature is not None and node.ground.state.get(lhs_feature) is not None:
            current = lhs_feature  # fixed by this node's own requirement: keep climbing
            continue
        binding = dict(node.ground.binding)
        binding[var.name] = value
        grounds = [g for g in compiled.ground(node.ground.state)
                   if g.rule.index == node.ground.rule.index and dict(g.binding) == binding]
        new = _with_ground(compiled, node, grounds[0], feature) if grounds else None
        return replace_at(trail[:depth], new) if new is not None else None
    return None


def _same_place(g: GroundRule, old: GroundRule, feature: str) -> bool:
    """Whether ``g`` is ``old``'s rule or its twin at the same position of a line differing in ``feature``."""
    if g.rule.index == old.rule.index:
        return True
    strip = lambda spec: tuple((k, v) for k, v in spec if k != feature)  # noqa: E731
    return (g.rule.lhs.category == old.rule.lhs.category and strip(g.rule.lhs.spec) == strip(old.rule.lhs.spec)
            and g.rule.alt == old.rule.alt and g.rule.n_alts == old.rule.n_alts
            and len(g.rule.rhs) == len(old.rule.rhs))


def use_words(compiled: CompiledGrammar, root: Node, target: Node, words: Sequence[str]) -> Node | None:
    """``root`` with the lexical node ``target`` rewritten to ``words`` when its requirement allows them."""
    if tuple(target.words()) == tuple(words):
        return root
    if not target.ground.rule.is_lexical:
        return None
    for g in compiled.ground(target.ground.state):
        if g.rule.weight > 0 and tuple(g.children) == tuple(words) and g.node == target.ground.node:
            trail = trail_to(root, target)
            return replace_at(trail, Node(g, tuple(words))) if trail is not None else None
    return None


__all__ = ["Trail", "replace_at", "set_feature", "trail_to", "use_words"]
