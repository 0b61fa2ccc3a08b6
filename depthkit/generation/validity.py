"""What makes a generated item acceptable beyond being derivable: one reading, a real violation, no
repeated words, no piled-up modifiers.

* The good sentence must parse at its intended depth only (another reading at another depth would
  let a model succeed or fail for the wrong reason). The grammar's own parse-only rules (``@ 0``)
  describe the readings English has that the grammar must not produce (stacked relative clauses,
  subjunctives).
* The bad sentence must not be in the grammar's language (a "violation" that is grammatical is noise).
* No content word twice in one sentence (by lemma: twin words count as one) unless its category is
  listed in ``may_repeat:`` or has a single word (``the``, ``that``).
* In controls, no category that is not an embedding category nests more than :data:`MAX_NESTING`
  times (a chain of three place PPs is word salad, not a control).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..grammar.compile import CompiledGrammar
from .chart import DepthChart
from .derivation import Node

MAX_NESTING = 2

# rejection reasons, as the manifest and `grammar check` count them
OTHER_DEPTH = "other_depth"  # the good sentence also parses at another depth
NOT_PARSED = "not_parsed"  # the good sentence does not parse (a depthkit bug or a parse-only clash)
BAD_ACCEPTED = "bad_accepted"  # the ungrammatical member is in the grammar's language
REPEATED_WORD = "repeated_word"
NO_LADDER = "no_ladder"  # no way to remove an embedding level while keeping controller and target
NO_CONDITION = "no_condition"  # the grammar does not allow a condition of the design for this frame
REASONS = (OTHER_DEPTH, BAD_ACCEPTED, REPEATED_WORD, NO_LADDER, NO_CONDITION, NOT_PARSED)


def lexical_nodes(node: Node) -> list[Node]:
    out: list[Node] = []
    for child in node.children:
        if isinstance(child, Node):
            if child.ground.rule.is_lexical:
                out.append(child)
            else:
                out.extend(lexical_nodes(child))
    return out


_FREE: dict[int, tuple[CompiledGrammar, frozenset[str]]] = {}


def free_categories(compiled: CompiledGrammar) -> frozenset[str]:
    """Categories whose words may repeat: ``may_repeat:`` and those with a single word (``the``, ``that``)."""
    cached = _FREE.get(id(compiled))
    if cached is None or cached[0] is not compiled:
        cached = _FREE[id(compiled)] = (compiled, compiled.grammar.may_repeat | _single_word_categories(compiled))
    return cached[1]


def _single_word_categories(compiled: CompiledGrammar) -> frozenset[str]:
    words: dict[str, set[str]] = {}
    for rule in compiled.grammar.rules:
        if rule.is_lexical and rule.weight > 0:
            words.setdefault(rule.lhs.category, set()).update(rule.rhs)
    return frozenset(c for c, w in words.items() if len(w) <= 1)


_STEMS: dict[int, tuple[CompiledGrammar, dict[tuple[str, int, int], str]]] = {}


def _stem(word: str) -> str:
    """A word without its genitive ending: ``friend's`` and ``friends'`` -> ``friend``/``friends``."""
    if word.endswith("'s"):
        return word[:-2]
    return word[:-1] if word.endswith("'") else word


def _lemma_stems(compiled: CompiledGrammar) -> dict[tuple[str, int, int], str]:
    """For each lexical position (category, alternative, line length): the stem of its first-listed word.

    Twin lines share the position, so ``admires``/``admire`` get one stem; a category of genitives
    listed in the order of its base category (``NGR`` after ``NR``) gets the base word's stem too.
    """
    cached = _STEMS.get(id(compiled))
    if cached is None or cached[0] is not compiled:
        stems: dict[tuple[str, int, int], str] = {}
        for rule in compiled.grammar.rules:
            if rule.is_lexical and rule.weight > 0:
                stems.setdefault((rule.lhs.category, rule.alt, rule.n_alts), _stem(" ".join(rule.rhs)))
        cached = _STEMS[id(compiled)] = (compiled, stems)
    return cached[1]


def repeated_words(compiled: CompiledGrammar, node: Node) -> list[str]:
    """Content words that occur twice, in order of first repeat. Twin forms count as one word, and so do
    a word and its genitive in another category (``friend`` and ``friends'``), by stem."""
    free = free_categories(compiled)
    stems = _lemma_stems(compiled)
    seen: Counter = Counter()
    out: list[str] = []
    for leaf in lexical_nodes(node):
        if leaf.label in free:
            continue
        rule = leaf.ground.rule
        text = " ".join(leaf.words())
        lemma = (rule.lhs.category, rule.alt, rule.n_alts)  # twin lines share category and position
        keys = {lemma, _stem(text), stems.get(lemma, _stem(text))}
        if any(seen[k] for k in keys) and text not in out:
            out.append(text)
        for k in keys:
            seen[k] += 1
    return out


def lemma_keys(compiled: CompiledGrammar, node: Node) -> set:
    """What :func:`repeated_words` counts for each content word of ``node`` (twin position and stem), so a
    word whose keys meet this set would repeat one of ``node``'s words."""
    free = free_categories(compiled)
    stems = _lemma_stems(compiled)
    out: set = set()
    for leaf in lexical_nodes(node):
        if leaf.label not in free:
            rule = leaf.ground.rule
            text = " ".join(leaf.words())
            lemma = (rule.lhs.category, rule.alt, rule.n_alts)
            out |= {lemma, _stem(text), stems.get(lemma, _stem(text))}
    return out


def deepest_nesting(compiled: CompiledGrammar, node: Node) -> int:
    """The most nested nodes of one non-embedding category on one path (PP inside PP inside PP: 3)."""
    def walk(n: Node, counts: dict[str, int]) -> int:
        cat = n.ground.state.category
        here = dict(counts)
        if not compiled.is_embedding(n.ground.state) and not n.ground.rule.is_lexical:
            here[cat] = here.get(cat, 0) + 1
        best = here.get(cat, 0)
        for child in n.children:
            if isinstance(child, Node):
                best = max(best, walk(child, here))
        return best

    return walk(node, {})


def reading_problem(chart: DepthChart, good: Sequence[str], bad: Sequence[str] | None, depth: int) -> str | None:
    """Why an item's pair is not a clean test at ``depth`` (a reason of :data:`REASONS`), or None."""
    depths = chart.depths(good)
    if depth not in depths:
        return NOT_PARSED
    if depths != {depth}:
        return OTHER_DEPTH
    if bad is not None and chart.accepts(bad):
        return BAD_ACCEPTED
    return None


__all__ = ["BAD_ACCEPTED", "MAX_NESTING", "NOT_PARSED", "NO_CONDITION", "NO_LADDER", "OTHER_DEPTH", "REASONS",
           "REPEATED_WORD", "deepest_nesting", "lemma_keys", "lexical_nodes", "reading_problem", "repeated_words"]
