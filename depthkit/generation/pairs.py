"""Minimal pairs: the ungrammatical twin of a derivation, made by flipping one feature.

The marked node (the pair's ``target``) keeps its place in the tree; its ``flip`` feature is
swapped (sg <-> pl) and the subtree below it is re-derived with the *twin* of each rule:
the same rule with new variable values, or the rule at the same position of a line that
differs only in the flipped feature (``IV[NUM=sg] -> 'laughs' | 'smiles'`` pairs with
``IV[NUM=pl] -> 'laugh' | 'smile'``). Everything outside the marked node is untouched.

A recipe with ``changes_length: true`` (filled gap vs gap) may re-derive a phrase with a rule of
another shape: the children both rules share (by category, in order) are kept, and the new ones are
drawn by ``fill`` (the shortest derivations, seeded by the item).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InputError
from ..grammar.compile import CompiledGrammar
from ..grammar.model import GroundRule, PairSpec, State, format_value
from ..grammar.twins import flip_state, twin_rules
from .derivation import Node, marked_spans

Fill = Callable[[State], Node]  # a fresh subtree for a requirement (new material of a length-changing pair)


def rederive(compiled: CompiledGrammar, node: Node, new_state: State, feature: str | None = None,
             fill: Fill | None = None) -> Node:
    """``node`` re-derived under the requirement ``new_state`` with twin rules (``feature`` changed).

    With ``fill``, a phrase without a same-shape twin may take a rule of another shape (see module doc).
    Raises :class:`InputError` naming the rule when no twin fits.
    """
    if new_state == node.ground.state:
        return node
    candidates = twin_rules(compiled, node.ground, new_state, feature)
    if not candidates and fill is not None and not node.ground.rule.is_lexical:
        return _reshape(compiled, node, new_state, feature, fill)
    if not candidates:
        rule = node.ground.rule
        raise InputError(f"pair: no twin of `{rule}` fits {new_state}", path=rule.path, line=rule.line,
                         fix="add the matching entry at the same position of the twin lexicon line")
    ground = candidates[0]
    children: list[Node | str] = []
    for old_child, new_child in zip(node.children, ground.children):
        if isinstance(new_child, str):
            children.append(new_child)
        elif isinstance(old_child, Node):
            children.append(rederive(compiled, old_child, new_child, feature, fill))
        else:  # a twin that has a phrase where the original had a word: keep shapes equal
            raise InputError(f"pair: twin `{ground.rule}` does not have the shape of `{node.ground.rule}`",
                             path=ground.rule.path, line=ground.rule.line,
                             fix="twin lines must have the same symbols in the same order")
    return Node(ground, tuple(children))


def _aligned(old: tuple, new: tuple) -> list[tuple[int, int]]:
    """Pairs (old index, new index) of children with the same category, in order (longest common subsequence)."""
    def cat(x) -> str:
        return x.ground.state.category if isinstance(x, Node) else (x.category if isinstance(x, State) else f"'{x}'")

    a, b = [cat(x) for x in old], [cat(x) for x in new]
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            out.append((i, j))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def _reshape(compiled: CompiledGrammar, node: Node, new_state: State, feature: str | None, fill: Fill) -> Node:
    """``node`` under ``new_state`` with a rule of another shape: shared children kept, new ones filled."""
    options = [g for g in compiled.ground(new_state) if g.rule.weight > 0]
    if not options:
        rule = node.ground.rule
        raise InputError(f"pair: no rule derives {new_state}", path=rule.path, line=rule.line,
                         fix="add a rule for the flipped value")

    def rank(g: GroundRule) -> tuple:
        kept = len(_aligned(node.children, g.children))
        return (-kept, len(g.children) - kept, g.rule.index)

    ground = min(options, key=rank)
    keep = dict((j, i) for i, j in _aligned(node.children, ground.children))
    children: list[Node | str] = []
    for j, slot in enumerate(ground.children):
        if isinstance(slot, str):
            children.append(slot)
        elif j in keep and isinstance(node.children[keep[j]], Node):
            children.append(rederive(compiled, node.children[keep[j]], slot, feature, fill))
        else:
            children.append(fill(slot))
    return Node(ground, tuple(children))


def make_bad(compiled: CompiledGrammar, root: Node, pair: PairSpec | None = None,
             fill: Fill | None = None) -> tuple[Node, list[tuple[Node, int, int]]]:
    """The ungrammatical twin of ``root`` under ``pair`` (default: the grammar's first pair type), and the
    marked nodes of the good tree with their word spans.

    Raises :class:`~depthkit.errors.InputError` when the derivation has no marked node (or no twin).
    """
    pair = pair or compiled.grammar.pair
    assert pair is not None
    targets = marked_spans(root, pair.target)
    if not targets:
        raise InputError(f"pair: this derivation has no node marked {pair.target}: {' '.join(root.words())}",
                         path=compiled.grammar.path,
                         fix=f"mark {pair.target} on a node every sentence has (e.g. the matrix verb)")
    replace: dict[int, Node] = {}
    for node, _, _ in targets:
        flipped = flip_state(node.ground.node, pair)
        if flipped is None:
            raise InputError(f"pair: {node.ground.node} has no {pair.flip} value in the recipe's values",
                             path=compiled.grammar.path, fix="list every value of the flipped feature in values:")
        replace[id(node)] = rederive(compiled, node, flipped, pair.flip, fill if pair.changes_length else None)

    def rebuild(node: Node) -> Node:
        if id(node) in replace:
            return replace[id(node)]
        return Node(node.ground, tuple(c if isinstance(c, str) else rebuild(c) for c in node.children))

    bad = rebuild(root)
    if bad.words() == root.words():
        node = targets[0][0]
        raise InputError(
            f"pair: flipping {pair.flip}={format_value(node.ground.node.get(pair.flip))} leaves "
            f"'{' '.join(root.words())}' unchanged", path=node.ground.rule.path, line=node.ground.rule.line,
            fix="the marked word needs distinct forms for each value (e.g. 'laughs' vs 'laugh')")
    return bad, targets


__all__ = ["Fill", "make_bad", "rederive"]
