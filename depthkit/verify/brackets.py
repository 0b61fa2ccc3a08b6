"""A small evalb: the brackets of a constituency tree, labeled/unlabeled bracket F1, label depth.

The brackets of a tree are the (label, start, end) spans of its nodes except the root, nodes
spanning the whole sentence, and preterminals (a TOP/ROOT wrapper is stripped first); both
trees' brackets are multisets; labeled F1 compares label and span, unlabeled F1 span only.
Pure functions over ``nltk.Tree``.
"""

from __future__ import annotations

from collections import Counter

from nltk import Tree

WRAPPER_LABELS = ("TOP", "ROOT", "S1", "VROOT", "")



def strip_wrapper(tree: Tree) -> Tree:
    """Drop a unary TOP/ROOT wrapper node (benepar's output root)."""
    while isinstance(tree, Tree) and tree.label() in WRAPPER_LABELS and len(tree) == 1 and isinstance(tree[0], Tree):
        tree = tree[0]
    return tree


def brackets(tree: Tree, n_words: int | None = None) -> list[tuple[str, int, int]]:
    """The (label, start, end) spans scored: every node except the root, nodes spanning the whole
    sentence, and preterminals.

    With ``n_words``, leaves from that index on (a presentation period) are ignored: spans are
    clipped to it, and spans left empty (or now covering the whole sentence) are dropped.
    """
    tree = strip_wrapper(tree)
    out: list[tuple[str, int, int]] = []

    def walk(t: Tree | str, start: int, is_root: bool) -> int:
        if not isinstance(t, Tree):
            return start + 1
        end = start
        for child in t:
            end = walk(child, end, False)
        preterminal = len(t) == 1 and not isinstance(t[0], Tree)
        if not is_root and not preterminal:
            s, e = start, min(end, total)
            if s < e and (s, e) != (0, total):
                out.append((str(t.label()), s, e))
        return end

    total = len(tree.leaves()) if isinstance(tree, Tree) else 1
    if n_words is not None:
        total = min(total, n_words)
    walk(tree, 0, True)
    return out


def bracket_scores(gold: Tree, predicted: Tree, n_words: int | None = None) -> dict[str, float | None]:
    """Labeled and unlabeled precision, recall and F1 of ``predicted`` against ``gold`` (None: no brackets)."""
    g, p = brackets(gold, n_words), brackets(predicted, n_words)
    out: dict[str, float | None] = {}
    for kind, key in (("labeled", lambda b: b), ("unlabeled", lambda b: b[1:])):
        gc, pc = Counter(map(key, g)), Counter(map(key, p))
        match = sum((gc & pc).values())
        if not g and not p:
            prec = rec = f1 = None
        else:
            prec = match / len(p) if p else 0.0
            rec = match / len(g) if g else 0.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[f"{kind}_precision"] = None if prec is None else round(prec, 4)
        out[f"{kind}_recall"] = None if rec is None else round(rec, 4)
        out[f"{kind}_f1"] = None if f1 is None else round(f1, 4)
    return out


def label_depth(tree: Tree, labels: frozenset[str]) -> int:
    """Most nodes (root excluded) with a label in ``labels`` on one root-to-leaf path."""
    tree = strip_wrapper(tree)

    def walk(t: Tree | str) -> int:
        if not isinstance(t, Tree):
            return 0
        here = 1 if t.label() in labels else 0
        return here + max((walk(c) for c in t), default=0)

    return max((walk(c) for c in tree), default=0) if isinstance(tree, Tree) else 0
