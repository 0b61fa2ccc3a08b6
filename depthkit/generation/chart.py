"""The grammar's own recognizer, fast, and aware of depth: at which depths does a sentence parse?

:class:`DepthChart` runs a bottom-up chart over the compiled (ground) grammar, the same rules the
sampler draws from, parse-only rules (weight 0) included. For a word sequence it returns the set of
embedding depths of all its derivations: empty when the grammar rejects the words, ``{d}`` when every
reading has depth ``d``, more than one depth when another reading exists. It is an order of magnitude
faster than NLTK's feature chart parser (which ``depthkit verify`` keeps as the independent check), so
``depthkit generate`` can test every item it makes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ..grammar.compile import CompiledGrammar
from ..grammar.model import State

_WORD = -1  # child kind marker in a production: (-1, word)


class DepthChart:
    """Depth-aware chart recognizer over a :class:`CompiledGrammar`."""

    def __init__(self, compiled: CompiledGrammar):
        self.compiled = compiled
        states = list(compiled.rules_for)
        self._index = {s: i for i, s in enumerate(states)}
        self._embedding = [compiled.is_embedding(s) for s in states]
        self._root = self._index[compiled.root]
        self._lexical: dict[str, set[int]] = defaultdict(set)  # word -> states rewriting to that word alone
        self._unary: dict[int, list[int]] = defaultdict(list)  # child state -> parents with one child
        self._prods: list[tuple[int, tuple]] = []  # (parent, children); a child is a state or (_WORD, word)
        self._by_first_state: dict[int, list[int]] = defaultdict(list)
        self._by_first_word: dict[str, list[int]] = defaultdict(list)
        for state, grounds in compiled.rules_for.items():
            parent = self._index[state]
            for g in grounds:
                children = tuple((_WORD, c) if isinstance(c, str) else self._index[c] for c in g.children)
                if len(children) == 1:
                    child = children[0]
                    if isinstance(child, tuple):
                        self._lexical[child[1]].add(parent)
                    else:
                        self._unary[child].append(parent)
                    continue
                p = len(self._prods)
                self._prods.append((parent, children))
                first = children[0]
                if isinstance(first, tuple):
                    self._by_first_word[first[1]].append(p)
                else:
                    self._by_first_state[first].append(p)

    def depths(self, words: Sequence[str]) -> frozenset[int]:
        """Embedding depths of every derivation of ``words`` from the start symbol (empty: not in the language)."""
        n = len(words)
        if n == 0:
            return frozenset()
        complete: list[list[dict[int, int] | None]] = [[None] * (n + 1) for _ in range(n + 1)]
        # active[j][i] = {(production, dot): depth mask} for items spanning [i, j) that need more children
        active: list[dict[int, dict[tuple[int, int], int]]] = [defaultdict(dict) for _ in range(n + 1)]
        for j in range(1, n + 1):
            word = words[j - 1]
            for i in range(j - 1, -1, -1):
                cell: dict[int, int] = {}
                if i == j - 1:
                    for s in self._lexical.get(word, ()):
                        cell[s] = cell.get(s, 0) | self._shift(s, 1)
                    for p in self._by_first_word.get(word, ()):
                        self._advance(active, i, j, p, 1, 1, cell)
                for k in range(i + 1, j):
                    items = active[k].get(i)
                    if not items:
                        continue
                    right = complete[k][j]
                    for (p, dot), mask in list(items.items()):
                        child = self._prods[p][1][dot]
                        if isinstance(child, tuple):
                            if k == j - 1 and child[1] == word:
                                self._advance(active, i, j, p, dot + 1, mask, cell)
                        elif right and child in right:
                            self._advance(active, i, j, p, dot + 1, _max_sets(mask, right[child]), cell)
                self._close_unary(cell)
                complete[i][j] = cell
                for s, mask in cell.items():
                    for p in self._by_first_state.get(s, ()):
                        self._advance(active, i, j, p, 1, mask, None)
        mask = (complete[0][n] or {}).get(self._root, 0)
        return frozenset(b for b in range(mask.bit_length()) if mask >> b & 1)

    def accepts(self, words: Sequence[str]) -> bool:
        return bool(self.depths(words))

    def _shift(self, state: int, mask: int) -> int:
        return mask << 1 if self._embedding[state] else mask

    def _advance(self, active, i: int, j: int, p: int, dot: int, mask: int, cell: dict[int, int] | None) -> None:
        parent, children = self._prods[p]
        if dot == len(children):
            assert cell is not None  # productions with one child are unary or lexical, never here
            cell[parent] = cell.get(parent, 0) | self._shift(parent, mask)
            return
        items = active[j].setdefault(i, {})
        items[(p, dot)] = items.get((p, dot), 0) | mask

    def _close_unary(self, cell: dict[int, int]) -> None:
        todo = list(cell)
        while todo:
            s = todo.pop()
            for parent in self._unary.get(s, ()):
                new = cell.get(parent, 0) | self._shift(parent, cell[s])
                if new != cell.get(parent, 0):
                    cell[parent] = new
                    todo.append(parent)


def _max_sets(a: int, b: int) -> int:
    """Depth sets as bit masks: {max(x, y) for x in a for y in b}."""
    out = 0
    x = a
    while x:
        low = x & -x
        dx = low.bit_length() - 1
        # every y <= dx gives dx; every y > dx gives y
        if b & ((1 << (dx + 1)) - 1):
            out |= low
        out |= b & ~((1 << (dx + 1)) - 1)
        x ^= low
    return out
