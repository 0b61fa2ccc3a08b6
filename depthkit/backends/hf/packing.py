"""Packing token sequences for few, dense forward passes (pure: no torch).

* :func:`group_by_prefix` merges sequences that share a token prefix into a :class:`PrefixTree`
  (the two members of a minimal pair, repeated sentences, prompts with the same instructions): the
  shared tokens are computed once, each branch attends only to its own ancestors.
* :func:`pack_rows` packs trees side by side into rows of about a fixed width, and
  :func:`budget_batches` groups length-sorted rows into batches within a padded-token budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_SHARED_TOKENS = 2  # pack requests into one tree when they share at least this many tokens
MAX_TREE_TOKENS = 128  # ...and the tree stays this small (attention is quadratic in it)
ROW_TOKENS = 128  # trees are packed side by side into rows this long (less padding, little extra attention)
PROMPT_TREE_TOKENS = 512  # prompts share long instructions: bigger trees pay off there


@dataclass
class PrefixTree:
    """Token sequences merged on their common prefixes (nodes in creation order: parents first).

    ``tokens[k]``, ``parents[k]`` (-1 for a root) and ``positions[k]`` (depth in the tree) describe
    node ``k``; ``paths[i]`` lists the node of each token of sequence ``i``.
    """

    tokens: list[int]
    parents: list[int]
    positions: list[int]
    paths: dict[int, list[int]]

    @classmethod
    def build(cls, sequences: dict[int, list[int]]) -> "PrefixTree":
        tree = cls([], [], [], {})
        children: list[dict[int, int]] = []
        roots: dict[int, int] = {}
        for index, seq in sequences.items():
            node, path = -1, []
            for token in seq:
                table = roots if node < 0 else children[node]
                nxt = table.get(token)
                if nxt is None:
                    nxt = len(tree.tokens)
                    tree.tokens.append(token)
                    tree.parents.append(node)
                    tree.positions.append(0 if node < 0 else tree.positions[node] + 1)
                    children.append({})
                    table[token] = nxt
                path.append(nxt)
                node = nxt
            tree.paths[index] = path
        return tree


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def group_by_prefix(sequences: list[list[int]], share: bool = True, min_shared: int = MIN_SHARED_TOKENS,
                    max_tokens: int = MAX_TREE_TOKENS) -> list[PrefixTree]:
    """Prefix trees over ``sequences`` (indices kept), sharing only where it pays."""
    order = sorted(range(len(sequences)), key=lambda i: sequences[i])
    groups: list[list[int]] = []
    size = 0
    for pos, i in enumerate(order):
        if share and groups:
            prev = sequences[order[pos - 1]]
            shared = common_prefix(prev, sequences[i])
            new = len(sequences[i]) - shared
            if shared >= min_shared and size + new <= max_tokens:
                groups[-1].append(i)
                size += new
                continue
        groups.append([i])
        size = len(sequences[i])
    return [PrefixTree.build({i: sequences[i] for i in g}) for g in groups]


def row_len(row: list[PrefixTree]) -> int:
    return sum(len(t.tokens) for t in row)


def budget_batches(lengths: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """``(start, stop)`` runs of consecutive entries (sorted by length) whose padded size
    (longest x count) stays within ``budget`` tokens; an entry longer than the budget goes alone."""
    runs = []
    start = 0
    while start < len(lengths):
        stop = start + 1
        while stop < len(lengths) and lengths[stop] * (stop + 1 - start) <= budget:
            stop += 1
        runs.append((start, stop))
        start = stop
    return runs


def pack_rows(trees: list[PrefixTree], width: int) -> list[list[PrefixTree]]:
    """First-fit-decreasing packing of trees into rows of ``width`` tokens, rows sorted by length."""
    rows: list[list[PrefixTree]] = []
    free: list[int] = []
    for tree in sorted(trees, key=lambda t: -len(t.tokens)):
        n = len(tree.tokens)
        for r, room in enumerate(free):
            if n <= room:
                rows[r].append(tree)
                free[r] -= n
                break
        else:
            rows.append([tree])
            free.append(max(width, n) - n)
    return sorted(rows, key=row_len)


__all__ = ["MAX_TREE_TOKENS", "MIN_SHARED_TOKENS", "PROMPT_TREE_TOKENS", "PrefixTree", "ROW_TOKENS", "budget_batches",
           "common_prefix", "group_by_prefix", "pack_rows", "row_len"]
