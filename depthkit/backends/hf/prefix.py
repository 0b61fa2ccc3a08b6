"""The prefix key/value cache of prompted requests: instructions every prompt starts with, computed once.

Prompts of one task begin with the same tokens (chat template, system prompt, instructions, up to
the sentence). :func:`split_by_prefix` finds those shared prefixes among the prompts of a call (or
reuses one already known); :class:`PrefixCache` computes each prefix's keys and values once, keeps
the few most recent, and hands them out expanded to a batch (``past_key_values``), so a batch of
prompts computes only what follows the prefix.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .packing import common_prefix

MIN_PREFIX_TOKENS = 8  # a shared prefix shorter than this is not worth a cache entry
MAX_ENTRIES = 8  # prefixes kept (one per task prompt, and a few variants of the tokens after the instructions)


@dataclass
class Prefix:
    """A computed prefix: its tokens and per-layer (keys, values) of batch 1, shaped (1, heads, len, dim)."""

    tokens: tuple[int, ...]
    layers: list[tuple[Any, Any]]

    def past(self, batch: int) -> Any:
        """A fresh ``DynamicCache`` holding this prefix for each of ``batch`` rows (views: no copy until extended)."""
        from transformers import DynamicCache

        cache = DynamicCache()
        for layer, (keys, values) in enumerate(self.layers):
            cache.update(keys.expand(batch, -1, -1, -1), values.expand(batch, -1, -1, -1), layer)
        return cache


def split_by_prefix(encoded: Sequence[Sequence[int]], known: Sequence[tuple[int, ...]],
                    min_tokens: int = MIN_PREFIX_TOKENS) -> list[tuple[tuple[int, ...], list[int]]]:
    """Groups of prompt indices with the prefix each group shares (``()``: no prefix, computed whole).

    A prompt takes the longest ``known`` prefix it extends; the others are sorted and grouped while
    they share at least ``min_tokens`` tokens, and a group of two or more gets its common prefix.
    A prefix always leaves at least one token of every prompt to compute (the answer is read there).
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    rest = []
    for i, seq in enumerate(encoded):
        best: tuple[int, ...] = ()
        for p in known:
            if len(best) < len(p) < len(seq) and tuple(seq[:len(p)]) == p:
                best = p
        if best:
            groups.setdefault(best, []).append(i)
        else:
            rest.append(i)
    rest.sort(key=lambda i: list(encoded[i]))
    cluster: list[int] = []
    shared = 0

    def close() -> None:
        if len(cluster) > 1:
            n = min(shared, *(len(encoded[i]) - 1 for i in cluster))
            if n >= min_tokens:
                groups.setdefault(tuple(encoded[cluster[0]][:n]), []).extend(cluster)
                return
        groups.setdefault((), []).extend(cluster)

    for i in rest:
        if cluster:
            n = min(shared, common_prefix(list(encoded[cluster[-1]]), list(encoded[i])))
            if n >= min_tokens:
                cluster.append(i)
                shared = n
                continue
            close()
        cluster, shared = [i], len(encoded[i])
    if cluster:
        close()
    return [(p, sorted(g)) for p, g in groups.items()]


class PrefixCache:
    """The most recent computed prefixes; ``compute(tokens)`` runs the model on a prefix (batch 1)."""

    def __init__(self, compute: Callable[[tuple[int, ...]], list[tuple[Any, Any]]], entries: int = MAX_ENTRIES):
        self.compute = compute
        self.entries = entries
        self._store: OrderedDict[tuple[int, ...], Prefix] = OrderedDict()
        self.computed = 0  # prefixes computed (not found), for tests and benchmarks

    @property
    def known(self) -> list[tuple[int, ...]]:
        return list(self._store)

    def get(self, tokens: tuple[int, ...]) -> Prefix:
        found = self._store.get(tokens)
        if found is None:
            found = Prefix(tokens, self.compute(tokens))
            self.computed += 1
            self._store[tokens] = found
            while len(self._store) > self.entries:
                self._store.popitem(last=False)
        else:
            self._store.move_to_end(tokens)
        return found

    def clear(self) -> None:
        self._store.clear()


__all__ = ["MAX_ENTRIES", "MIN_PREFIX_TOKENS", "Prefix", "PrefixCache", "split_by_prefix"]
