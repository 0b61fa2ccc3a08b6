"""Derivation trees: the sampler's output before it becomes an item."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Union

from .grammar import GroundRule, is_on


@dataclass(frozen=True)
class Node:
    """One node of a derivation: the ground rule used there and the subtrees below it."""

    ground: GroundRule
    children: tuple[Union["Node", str], ...]

    @property
    def label(self) -> str:
        return self.ground.node.category

    def words(self) -> list[str]:
        out: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                out.append(child)
            else:
                out.extend(child.words())
        return out

    def bracketed(self) -> str:
        """The tree in the bracket notation ``nltk.Tree.fromstring`` reads (labels are categories)."""
        parts = [self.label]
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.bracketed())
        return "(" + " ".join(parts) + ")"

    def skeleton(self) -> str:
        """The tree with every word replaced by ``_``: the derivation's lexical frame."""
        parts = [self.label]
        for child in self.children:
            parts.append("_" if isinstance(child, str) else child.skeleton())
        return "(" + " ".join(parts) + ")"

    def frame_id(self) -> str:
        return hashlib.sha1(self.skeleton().encode()).hexdigest()[:10]


def spans(node: Node, start: int = 0) -> list[tuple[Node, int, int]]:
    """Every node with its half-open word span, in pre-order."""
    out: list[tuple[Node, int, int]] = []

    def walk(n: Node, i: int) -> int:
        entry = [n, i, i]
        out.append(entry)  # type: ignore[arg-type]
        for child in n.children:
            i = i + 1 if isinstance(child, str) else walk(child, i)
        entry[2] = i
        return i

    walk(node, start)
    return [tuple(e) for e in out]  # type: ignore[misc]


def marked_spans(node: Node, marker: str, lowest: bool = False) -> list[tuple[Node, int, int]]:
    """Spans of the nodes carrying ``marker``: the topmost ones, or the lowest ones."""
    marked = [(n, s, e) for n, s, e in spans(node) if is_on(n.ground.node.get(marker))]
    if lowest:
        return [m for m in marked if not any(o is not m and m[1] <= o[1] and o[2] <= m[2] and o[0] is not m[0]
                                             and _contains(m[0], o[0]) for o in marked)]
    return [m for m in marked if not any(o[0] is not m[0] and _contains(o[0], m[0]) for o in marked)]


def _contains(outer: Node, inner: Node) -> bool:
    for child in outer.children:
        if isinstance(child, Node) and (child is inner or _contains(child, inner)):
            return True
    return False
