"""What generation can reach: rules of positive weight only (``@ 0`` rules are parse-only).

A grammar whose start symbol, embedding categories or shortest sentence (against ``max_words``) need a
parse-only rule loads and compiles, but could never make an item; :func:`check_generable` says so at load,
naming the key to blame, instead of `depthkit generate` failing later with a depth that "cannot be reached".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from .compile import CompiledGrammar


def check_generable(compiled: CompiledGrammar, fail: Callable[..., NoReturn]) -> None:
    """Generation uses rules of positive weight only: the start symbol, an embedding category and a
    sentence of at most ``max_words`` must be reachable with them (``@ 0`` rules are parse-only)."""
    shortest: dict = {}
    changed = True
    while changed:  # shortest sentence of each state, through rules of positive weight
        changed = False
        for state, grounds in compiled.rules_for.items():
            for g in grounds:
                if g.rule.weight <= 0 or not all(isinstance(c, str) or c in shortest for c in g.children):
                    continue
                n = sum(1 if isinstance(c, str) else shortest[c] for c in g.children)
                if n < shortest.get(state, n + 1):
                    shortest[state] = n
                    changed = True
    root = compiled.root
    if root not in shortest:
        fail(f"every derivation of the start symbol {root.category} uses a parse-only rule (weight 0), so "
                  "nothing can be generated", "rules", fix="give at least one way out of each rule a positive weight")
    seen, queue = {root}, [root]
    while queue:
        for g in compiled.rules_for.get(queue.pop(), []):
            if g.rule.weight > 0 and all(isinstance(c, str) or c in shortest for c in g.children):
                for c in g.children:
                    if not isinstance(c, str) and c not in seen:
                        seen.add(c)
                        queue.append(c)
    if not any(s.category in compiled.grammar.embedding for s in seen):
        fail(f"the embedding categories ({', '.join(sorted(compiled.grammar.embedding))}) are reached only "
                  "through parse-only rules (weight 0), so no item deeper than 0 can be generated", "embedding",
                  fix="give the rule that introduces the embedding a positive weight (`@ 1`)")
    max_words = compiled.grammar.max_words
    if max_words is not None and max_words < shortest[root]:
        fail(f"max_words {max_words} is shorter than the shortest sentence ({shortest[root]} words)",
                  "max_words", fix=f"raise max_words (depth 0 needs {shortest[root]} words, deeper items more)")


__all__ = ["check_generable"]
