"""Depth and complexity metrics computed from a bracketed tree.

All functions take an ``nltk.Tree`` whose labels are category names and whose leaves are the
words (``str``), as ``nltk.Tree.fromstring`` reads the trees of ``items.jsonl``, so verification
and analysis can recompute exactly what the generator recorded. Only the tree's methods are
used: importing this module does not import nltk.
References: Yngve 1960 and Frazier 1985 as operationalised by Roark et al. 2007;
center embedding after Miller & Chomsky 1963 / Karlsson 2007.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nltk import Tree


def _is_word(t: Tree | str) -> bool:
    return isinstance(t, str)


def _label(t: Tree | str) -> str:
    return str(t) if _is_word(t) else t.label()


def embedding_depth(tree: Tree | str, embedding: Collection[str]) -> int:
    """The largest number of embedding-category nodes on one root-to-leaf path."""
    if _is_word(tree):
        return 0
    here = 1 if tree.label() in embedding else 0
    return here + max((embedding_depth(c, embedding) for c in tree), default=0)


def center_embedding(tree: Tree, embedding: Collection[str], clauses: Collection[str]) -> int:
    """Degree of center embedding: nested embedding nodes with words of their enclosing clause on both sides.

    The enclosing clause of a node is its nearest proper ancestor whose label is in
    ``clauses`` (or the root). The degree is the most such nodes on one path.
    """
    best = 0

    def walk(t: Tree | str, start: int, clause_span: tuple[int, int], count: int) -> int:
        nonlocal best
        end = start + 1 if _is_word(t) else start + len(t.leaves())
        if _is_word(t):
            return end
        if t.label() in embedding and clause_span[0] < start and end < clause_span[1]:
            count += 1
        best = max(best, count)
        inner = (start, end) if t.label() in clauses or t.label() in embedding else clause_span
        i = start
        for child in t:
            i = walk(child, i, inner, count)
        return end

    n = len(tree.leaves())
    walk(tree, 0, (0, n), 0)
    return best


def yngve_depths(tree: Tree) -> list[int]:
    """Per word, the number of right siblings pending on its path from the root (Yngve 1960)."""
    out: list[int] = []

    def walk(t: Tree | str, acc: int) -> None:
        if _is_word(t):
            out.append(acc)
            return
        n = len(t)
        for i, child in enumerate(t):
            walk(child, acc + (n - i - 1))

    walk(tree, 0)
    return out


def frazier_scores(tree: Tree, clauses: Collection[str]) -> list[float]:
    """Per word, nonterminals it introduces (Frazier 1985 as in Roark et al. 2007).

    From the word's preterminal, climb while the current node is its parent's first child;
    each parent climbed into counts 1.5 if it is a clause node, else 1.
    """
    scores: list[float] = []
    for pos in tree.treepositions("leaves"):
        node = pos[:-1]  # the preterminal
        score = 0.0
        while node and node[-1] == 0:
            parent = node[:-1]
            score += 1.5 if _label(tree[parent]) in clauses else 1.0
            node = parent
        scores.append(score)
    return scores


def tree_metrics(tree: Tree, embedding: Collection[str], clauses: Collection[str]) -> dict[str, float | int]:
    """The structural metrics every item carries (snake_case keys, see docs/schema.md)."""
    yngve = yngve_depths(tree)
    frazier = frazier_scores(tree, clauses)
    n = len(tree.leaves())
    return {
        "n_words": n,
        "embedding_depth": embedding_depth(tree, embedding),
        "center_embedding": center_embedding(tree, embedding, clauses),
        "yngve_max": max(yngve, default=0),
        "yngve_total": sum(yngve),
        "yngve_mean": round(sum(yngve) / n, 4) if n else 0.0,
        "frazier": round(sum(frazier), 4),
        "frazier_mean": round(sum(frazier) / n, 4) if n else 0.0,
        "tree_height": tree.height(),
        "n_nodes": sum(1 for _ in tree.subtrees()),
    }
