"""Derivation trees: the sampler's output before it becomes an item."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Union

from ..grammar.model import GroundRule, is_on


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
    marked = [(i, n, s, e) for i, (n, s, e) in enumerate(spans(node)) if is_on(n.ground.node.get(marker))]

    def below(a, b) -> bool:
        # In pre-order every node covers at least one word, so a later node whose span lies
        # inside b's span is one of b's descendants.
        return a[0] > b[0] and b[2] <= a[2] and a[3] <= b[3]

    if lowest:
        keep = [m for m in marked if not any(below(o, m) for o in marked)]
    else:
        keep = [m for m in marked if not any(below(m, o) for o in marked)]
    return [(n, s, e) for _, n, s, e in keep]
