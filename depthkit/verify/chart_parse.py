"""The generating grammar's own view of an item: chart parses, ambiguity, bad twin rejected.

:class:`GrammarChecker` parses ``good`` and ``bad`` with NLTK's feature chart parser over the
same grammar and counts the distinct trees of ``good`` (capped).
"""

from __future__ import annotations

import itertools

from ..grammar import Grammar
from ..schema import GrammarCheck, Item
from .intended import Intended, bracketed

CACHE_SIZE = 20_000  # sentences; controls and twins repeat, and chart parsing is the slow check


class GrammarChecker:
    """Chart-parse items with the grammar that generated them (NLTK ``FeatureChartParser``)."""

    def __init__(self, grammar: Grammar, max_parses: int = 10):
        from nltk.parse import FeatureChartParser

        self.grammar = grammar
        self.max_parses = max(1, int(max_parses))
        self._parser = FeatureChartParser(grammar.nltk_grammar, trace=0)
        self._cache: dict[tuple[str, ...], tuple[list[str], bool, str | None]] = {}

    def distinct_parses(self, words: list[str]) -> tuple[list[str], bool, str | None]:
        """Distinct category-level trees of ``words`` (at most max_parses + 1), whether the count
        was capped, and why there is no parse when the words are outside the lexicon."""
        key = tuple(words)
        if key not in self._cache:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = self._distinct_parses(words)
        return self._cache[key]

    def _distinct_parses(self, words: list[str]) -> tuple[list[str], bool, str | None]:
        try:
            parses = self._parser.parse(words)
        except ValueError as exc:  # NLTK: "Grammar does not cover some of the input words"
            if "does not cover" in str(exc):
                return [], False, f"words outside the grammar's lexicon: {str(exc).split(':', 1)[-1].strip()}"
            raise
        seen: list[str] = []
        # Feature-level duplicates of one structure are not ambiguity; bound the raw trees read.
        for tree in itertools.islice(parses, self.max_parses * 20):
            text = bracketed(tree)
            if text not in seen:
                seen.append(text)
                if len(seen) > self.max_parses:
                    return seen, True, None
        return seen, False, None

    def check(self, item: Item, intended: Intended) -> GrammarCheck:
        """The ``grammar`` part of a verification record."""
        good, capped, why = self.distinct_parses(list(intended.words))
        n = len(good)
        intended_found = bracketed(intended.tree) in good
        bad = item.bad
        bad_rejected = None
        if bad is not None:
            bad_parses, _, _ = self.distinct_parses(bad.split(" "))
            bad_rejected = not bad_parses
        reasons = []
        if n == 0:
            reasons.append(why or "good has no parse under the grammar")
        elif not intended_found and not capped:
            reasons.append("no parse equals the intended tree")
        if n > 1:
            reasons.append(f"{'more than ' + str(self.max_parses) if capped else n} parses: the depth label is ambiguous")
        if bad_rejected is False:
            reasons.append("bad also parses: the pair is not grammatical vs ungrammatical under this grammar")
        ok = n == 1 and intended_found and bad_rejected is not False
        return GrammarCheck(
            status="ok" if ok else "failed",
            in_language=n > 0,
            bad_rejected=bad_rejected,
            n_parses=n if not capped else self.max_parses + 1,
            capped=capped,
            ambiguous=n > 1,
            intended_parse=intended_found,
            reason="; ".join(reasons) or None,
        )
