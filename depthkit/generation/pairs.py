"""Minimal pairs: the ungrammatical twin of a derivation, made by flipping one feature.

The marked node (``pair.target``) keeps its place in the tree; its ``pair.flip`` feature is
swapped (sg <-> pl) and the subtree below it is re-derived with the *twin* of each rule:
the same rule with new variable values, or the rule at the same position of a line that
differs only in the flipped feature (``IV[NUM=sg] -> 'laughs' | 'smiles'`` pairs with
``IV[NUM=pl] -> 'laugh' | 'smile'``). Everything outside the marked node is untouched.
"""

from __future__ import annotations

from ..errors import InputError
from ..grammar.compile import CompiledGrammar
from ..grammar.model import State, format_value
from ..grammar.twins import flip_state, twin_rules
from .derivation import Node, marked_spans


def _rederive(compiled: CompiledGrammar, node: Node, new_state: State) -> Node:
    if new_state == node.ground.state:
        return node
    candidates = twin_rules(compiled, node.ground, new_state)
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
            children.append(_rederive(compiled, old_child, new_child))
        else:  # a twin that has a phrase where the original had a word: keep shapes equal
            raise InputError(f"pair: twin `{ground.rule}` does not have the shape of `{node.ground.rule}`",
                                path=ground.rule.path, line=ground.rule.line,
                                fix="twin lines must have the same symbols in the same order")
    return Node(ground, tuple(children))


def make_bad(compiled: CompiledGrammar, root: Node) -> tuple[Node, list[tuple[Node, int, int]]]:
    """The ungrammatical twin of ``root`` and the marked nodes of the good tree, with their word spans.

    Raises :class:`~depthkit.errors.InputError` when the derivation has no marked node (or no twin).
    """
    pair = compiled.grammar.pair
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
            raise InputError(f"pair: {node.ground.node} has no {pair.flip} value in pair.values",
                                path=compiled.grammar.path, fix="list every value of the flipped feature in pair.values")
        replace[id(node)] = _rederive(compiled, node, flipped)

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
