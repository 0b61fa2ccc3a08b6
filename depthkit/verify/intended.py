"""What the generator intended for an item: its tree, PTB labels, matrix verbs, target, clausal depth.

:func:`intended_structure` reads what the generator meant (tree, target, controller) from an
item and decides which parser checks can apply to it; every check compares a parse with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nltk import Tree

from ..grammar import Grammar
from ..schema import Item

PTB_PHRASE_LABELS = frozenset({
    "ADJP", "ADVP", "CONJP", "FRAG", "INTJ", "LST", "NAC", "NP", "NX", "PP", "PRN", "PRT", "QP", "RRC",
    "S", "SBAR", "SBARQ", "SINV", "SQ", "UCP", "VP", "WHADJP", "WHADVP", "WHNP", "WHPP", "X",
})
CLAUSAL_PTB_LABELS = frozenset({"S", "SBAR", "SBARQ", "SINV", "SQ", "RRC"})
CONJUNCTIONS = frozenset({"and", "or", "but", "nor"})
# Used only when the grammar maps a category to no PTB label: names that conventionally mean a verb.
_VERB_CATEGORY = re.compile(r"^(V|IV|TV|DV|Verb|Aux|Modal)(\b|_|$)")


@dataclass(frozen=True)
class Intended:
    """What the generator intended for one item, with which parser checks can apply to it."""

    words: tuple[str, ...]
    tree: Tree | None  # category labels, as in items.jsonl (None: an imported suite item, no tree)
    ptb_tree: Tree | None  # the same tree with labels mapped through the grammar's ptb_labels
    depth: int
    target: tuple[int, int] | None
    controller: tuple[int, int] | None
    matrix_verbs: tuple[int, ...]  # the matrix clause's verb(s): one of them should be the root
    matrix_verb_reason: str | None  # why matrix_verbs is empty
    target_verb: bool  # the target is a verb (so the controller should be its subject)
    target_verb_reason: str | None
    clausal: bool  # depth counts embedded clauses (so dependency clause arcs can measure it)
    clausal_reason: str | None
    top_spans: tuple[tuple[int, int], ...]  # spans of the root's children (subject / predicate split)


def category(label: Any) -> str:
    """The category name of an NLTK label: a plain string or a feature structure's ``*type*``."""
    if isinstance(label, str):
        return label
    try:
        from nltk.featstruct import TYPE

        return str(label[TYPE])
    except (KeyError, TypeError):
        return str(label)


def bracketed(tree: Tree | str) -> str:
    """One-line bracketed string with category labels only (features dropped)."""
    if not isinstance(tree, Tree):
        return str(tree)
    return f"({category(tree.label())} {' '.join(bracketed(c) for c in tree)})"


def relabel(tree: Tree | str, grammar: Grammar) -> Tree | str:
    """The tree with every label mapped to its PTB label (``ptb_labels``; unmapped labels stay)."""
    if not isinstance(tree, Tree):
        return tree
    return Tree(grammar.ptb_label(category(tree.label())), [relabel(c, grammar) for c in tree])


def _is_preterminal(t: Tree) -> bool:
    return len(t) == 1 and not isinstance(t[0], Tree)


def _span(value: list[int] | None) -> tuple[int, int] | None:
    return (value[0], value[1]) if value is not None else None


NO_TREE = "not applicable: the item has no intended tree (imported from an external suite by `depthkit import`)"


def intended_structure(item: Item, grammar: Grammar | None) -> Intended:
    """Read the intended structure of ``item`` (its tree, regions and depth) and decide which checks apply.

    An item without a tree (BLiMP, SyntaxGym) has only its words: no check against a structure applies,
    but parsers still parse it and record what they measure.
    """
    if item.tree is None or grammar is None:
        return Intended(words=tuple(item.words), tree=None, ptb_tree=None, depth=item.depth, target=None,
                        controller=None, matrix_verbs=(), matrix_verb_reason=NO_TREE, target_verb=False,
                        target_verb_reason=NO_TREE, clausal=False, clausal_reason=NO_TREE, top_spans=())
    tree = Tree.fromstring(item.tree)
    words = tuple(item.words)
    target = _span(item.regions.target.good) if item.regions.target is not None else None
    controller = _span(item.regions.controller)
    ptb = relabel(tree, grammar)

    matrix_verbs, mv_reason, target_verb, tv_reason = _verbs(tree, grammar, target)
    # Does depth count clauses? Only then can dependency clause arcs measure it.
    labels = {e: grammar.ptb_label(e) for e in sorted(grammar.embedding)}
    clausal, c_reason = True, None
    non_clausal = [f"{e}->{lab}" for e, lab in labels.items() if lab not in CLAUSAL_PTB_LABELS]
    if non_clausal:
        clausal = False
        unmapped = [e for e, lab in labels.items() if lab == e and lab not in PTB_PHRASE_LABELS]
        c_reason = (f"embedding categories do not map to clausal PTB labels ({', '.join(non_clausal)})"
                    + (f"; declare them in ptb_labels (e.g. {{{unmapped[0]}: SBAR}}) if they are clauses"
                       if unmapped else ": dependency clause arcs do not measure this depth"))
    elif _has_coordination(tree, grammar):
        clausal = False
        c_reason = "coordinated embedding: conjuncts attach with conj, which is not embedding"

    top_spans: list[tuple[int, int]] = []
    i = 0
    if isinstance(tree, Tree) and len(tree) > 1:
        for child in tree:
            n = len(child.leaves()) if isinstance(child, Tree) else 1
            top_spans.append((i, i + n))
            i += n
    return Intended(words=words, tree=tree, ptb_tree=ptb, depth=item.depth, target=target,
                    controller=controller, matrix_verbs=matrix_verbs, matrix_verb_reason=mv_reason,
                    target_verb=target_verb, target_verb_reason=tv_reason,
                    clausal=clausal, clausal_reason=c_reason, top_spans=tuple(top_spans))


def _is_verb(category_name: str, grammar: Grammar) -> bool:
    label = grammar.ptb_label(category_name)
    return label.startswith(("VB", "MD")) or (label == category_name and bool(_VERB_CATEGORY.match(category_name)))


def _verbs(tree: Tree, grammar: Grammar, target: tuple[int, int] | None
           ) -> tuple[tuple[int, ...], str | None, bool, str | None]:
    """The matrix clause's verbs (the target when it is one, else every verb outside embedded
    clauses) and whether the target is a verb, each with the reason when not."""
    clause_like = set(grammar.clauses) | set(grammar.embedding)
    verbs_in_matrix: list[int] = []
    is_verb: dict[int, bool] = {}
    for w, pos in enumerate(tree.treepositions("leaves")):
        cat = category(tree[pos[:-1]].label())
        is_verb[w] = _is_verb(cat, grammar)
        embedded = any(category(tree[pos[:k]].label()) in clause_like for k in range(1, len(pos) - 1))
        if is_verb[w] and not embedded:
            verbs_in_matrix.append(w)
    target_words = range(*target) if target else range(0)
    target_verb = any(is_verb.get(w, False) for w in target_words)
    tv_reason = None if target_verb else ("the item has no target region (no minimal pair)" if target is None
                                          else "the target word is not a verb")
    in_matrix = [w for w in target_words if w in verbs_in_matrix]
    if in_matrix:
        return tuple(in_matrix), None, target_verb, tv_reason
    if verbs_in_matrix:
        return tuple(verbs_in_matrix), None, target_verb, tv_reason
    return (), "no verb in the matrix clause (by the grammar's ptb_labels: VB*/MD)", target_verb, tv_reason


def _has_coordination(tree: Tree, grammar: Grammar) -> bool:
    for sub in tree.subtrees(lambda t: category(t.label()) in grammar.embedding):
        for child in sub:
            if isinstance(child, Tree):
                if grammar.ptb_label(category(child.label())) in ("CC", "CONJP"):
                    return True
                if _is_preterminal(child) and str(child[0]).lower() in CONJUNCTIONS:
                    return True
            elif str(child).lower() in CONJUNCTIONS:
                return True
    return False
