"""Depth ladders: one lexical frame at every depth, each rung the next one with one embedding level removed.

:func:`ladder` starts from a derivation at the deepest requested depth and removes one level at a
time. One step replaces a node by one of its descendants (re-derived to fit the slot) or, for an
embedding node, drops it where the parent has a rule without that slot; it must leave exactly one
level less, keep what must stay (the agreement controller, the target words) and prefers the deepest
change that removes the fewest words. So ``the author that the senators that the pilot knows admire
laughs`` (depth 2) gives ``the author that the senators admire laughs`` (1) and ``the author laughs``
(0): same matrix subject, same target verb, same other words where the structure allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..errors import InputError
from ..grammar.compile import CompiledGrammar
from ..grammar.model import State
from .derivation import Node
from .edit import Trail, replace_at
from .pairs import rederive

Keep = Callable[[Node], bool]  # whether a candidate rung still has what must stay


def node_depth(compiled: CompiledGrammar, node: Node) -> int:
    """Embedding depth of a derivation (the most embedding nodes on one root-to-leaf path)."""
    inner = max((node_depth(compiled, c) for c in node.children if isinstance(c, Node)), default=0)
    return inner + (1 if compiled.is_embedding(node.ground.state) else 0)


def _walk(node: Node, trail: Trail) -> Iterator[tuple[Node, Trail]]:
    yield node, trail
    for k, child in enumerate(node.children):
        if isinstance(child, Node):
            yield from _walk(child, trail + [(node, k)])


def _descendants(node: Node) -> Iterator[Node]:
    for child in node.children:
        if isinstance(child, Node):
            yield child
            yield from _descendants(child)


def _contains_embedding(compiled: CompiledGrammar, node: Node) -> bool:
    return compiled.is_embedding(node.ground.state) or any(compiled.is_embedding(d.ground.state)
                                                         for d in _descendants(node))


def one_level_less(compiled: CompiledGrammar, root: Node, keep: Keep) -> Node | None:
    """``root`` with one embedding level removed (depth exactly one less), or None when no step works."""
    depth = node_depth(compiled, root)
    n_words = len(root.words())
    best: tuple[tuple[int, int], Node] | None = None
    for node, trail in _walk(root, []):
        if not _contains_embedding(compiled, node):
            continue
        for candidate in _replacements(compiled, node, trail):
            if node_depth(compiled, candidate) != depth - 1 or not keep(candidate):
                continue
            rank = (-len(trail), n_words - len(candidate.words()))  # deepest change, fewest words removed
            if best is None or rank < best[0]:
                best = (rank, candidate)
            break  # the first fitting rule for this node and descendant
    return best[1] if best else None


def _replacements(compiled: CompiledGrammar, node: Node, trail: Trail) -> Iterator[Node]:
    """Whole trees with ``node`` replaced by a descendant (or dropped), as the parent's rules allow."""
    if not trail:  # the root: only a descendant of the very same requirement can take its place
        for d in _descendants(node):
            if d.ground.state == node.ground.state:
                yield d
        return
    parent, k = trail[-1]
    options: list[Node | None] = [None] if compiled.is_embedding(node.ground.state) else []
    options += list(_descendants(node))
    for sub in options:
        for ground in compiled.ground(parent.ground.state):
            if ground.rule.weight <= 0:
                continue
            children = _fit(compiled, parent, k, sub, ground.children)
            if children is not None:
                yield replace_at(trail[:-1], Node(ground, tuple(children)))


def _fit(compiled: CompiledGrammar, parent: Node, k: int, sub: Node | None, slots: tuple) -> list | None:
    """The parent's children for ``slots`` with child ``k`` replaced by ``sub`` (dropped when None)."""
    olds = [c for i, c in enumerate(parent.children) if i != k] if sub is None else list(parent.children)
    if len(slots) != len(olds):
        return None
    out: list[Node | str] = []
    for i, (slot, old) in enumerate(zip(slots, olds)):
        if sub is not None and i == k:
            if not isinstance(slot, State) or slot.category != sub.ground.state.category:
                return None
            try:
                out.append(rederive(compiled, sub, slot, None))
            except InputError:
                return None
        else:
            if (old if isinstance(old, str) else old.ground.state) != slot:
                return None
            out.append(old)
    return out


def ladder(compiled: CompiledGrammar, top: Node, depths: list[int], keep: Keep) -> dict[int, Node] | None:
    """Rungs of ``top`` for each of ``depths`` (all at most ``top``'s depth), or None when a step fails."""
    rungs: dict[int, Node] = {}
    current = top
    depth = node_depth(compiled, top)
    wanted = set(depths)
    while True:
        if depth in wanted:
            rungs[depth] = current
        if depth <= min(wanted):
            return rungs
        nxt = one_level_less(compiled, current, keep)
        if nxt is None:
            return None
        current, depth = nxt, depth - 1


__all__ = ["Keep", "ladder", "node_depth", "one_level_less"]
