"""From a grammar to items: exact-depth test items with their minimal pairs, and matched controls.

:func:`generate` is pure: same grammar, seed and options give the same items, and no
global random state is touched (each depth and each control has its own seeded RNG).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..grammar import Grammar, compile_grammar, load_grammar
from ..logs import logger
from ..schema import Item
from .builder import build_item
from .controls import matched_control
from .sampling import MAX_WORDS_LIMIT, DepthTable, build_table

DEFAULT_DEPTHS = "0-4"  # the depths `generate` makes when none are asked for (library and CLI)
UNIQUE_ATTEMPTS = 50  # draws per wanted item before giving up on finding distinct sentences


def parse_depths(text: str) -> tuple[int, ...]:
    """``"0-6"``, ``"0,2,4"`` or ``"1-3,6"`` → sorted unique depths."""
    out: set[int] = set()
    try:
        for part in str(text).split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = part.split("-", 1)
                out.update(range(int(lo), int(hi) + 1))
            elif part:
                out.add(int(part))
    except ValueError:
        raise UsageError(f"cannot read depths {text!r}", fix="write e.g. 0-6, or 0,2,4, or 1-3,6") from None
    if not out or min(out) < 0:
        raise UsageError(f"cannot read depths {text!r}", fix="depths are non-negative integers, e.g. 0-6")
    return tuple(sorted(out))


@dataclass(frozen=True)
class Options:
    """Everything besides the grammar that decides which items come out."""

    depths: tuple[int, ...] = parse_depths(DEFAULT_DEPTHS)
    per_depth: int = 20
    seed: int = 0
    controls: bool = False
    uniform: bool = False  # ignore rule weights: uniform over derivations
    min_words: int | None = None
    max_words: int | None = None
    extra_words: int = 6  # without max_words: lengths up to the shortest possible + this
    length_mode: str = "uniform"  # "uniform" over reachable lengths, or "weighted" by derivation mass
    unique: bool = True  # no sentence twice at one depth

    def __post_init__(self) -> None:
        if self.per_depth < 1:
            raise UsageError("--per-depth must be at least 1", fix="e.g. --per-depth 20")
        if not self.depths or min(self.depths) < 0:
            raise UsageError("depths must be non-negative", fix="e.g. --depths 0-6 or --depths 0,2,4")
        if self.length_mode not in ("uniform", "weighted"):
            raise UsageError(f"unknown length mode {self.length_mode!r}", fix="use uniform or weighted")
        if self.min_words and self.max_words and self.min_words > self.max_words:
            raise UsageError("--min-words is larger than --max-words", fix="swap them")
        if self.extra_words < 0:
            raise UsageError("--extra-words must be 0 or more", fix="e.g. --extra-words 6")
        if self.max_words is not None and not 1 <= self.max_words <= MAX_WORDS_LIMIT:
            raise UsageError(f"--max-words must be between 1 and {MAX_WORDS_LIMIT}",
                             fix=f"derivation counts overflow beyond about {MAX_WORDS_LIMIT} words; ask for fewer")

    def to_manifest(self) -> dict[str, Any]:
        """The options as the manifest's ``generate.options`` records them (``unique`` only when off)."""
        out: dict[str, Any] = {
            "depths": list(self.depths), "per_depth": self.per_depth, "seed": self.seed, "controls": self.controls,
            "uniform": self.uniform, "min_words": self.min_words, "max_words": self.max_words,
            "extra_words": self.extra_words, "length_mode": self.length_mode,
        }
        if not self.unique:
            out["unique"] = False
        return out


def generate(grammar: Grammar | str | Path, depths: str | tuple[int, ...] | list[int] = DEFAULT_DEPTHS,
             per_depth: int = Options.per_depth, seed: int = Options.seed, **options: Any) -> list[Item]:
    """Sample ``per_depth`` items at each exact embedding depth (plus controls if asked).

    ``grammar`` is a :class:`Grammar`, a shipped grammar name or a file path; ``depths`` a list
    or text like ``"0-4"``. Other keyword options are the fields of :class:`Options`.
    """
    return generate_items(grammar if isinstance(grammar, Grammar) else load_grammar(grammar),
                          make_options(depths, per_depth, seed, **options))


def make_options(depths: str | tuple[int, ...] | list[int] = DEFAULT_DEPTHS, per_depth: int = Options.per_depth,
                 seed: int = Options.seed, **options: Any) -> Options:
    """:class:`Options` from :func:`generate`'s arguments (``depths`` as text or numbers)."""
    if isinstance(depths, str):
        depths = parse_depths(depths)
    return Options(depths=tuple(sorted(set(depths))), per_depth=per_depth, seed=seed, **options)


def generate_items(grammar: Grammar, opts: Options) -> list[Item]:
    """The items for ``opts``: per depth, the test items, each followed by its control when asked."""
    table = build_table(compile_grammar(grammar), max(opts.depths), need_words=opts.max_words,
                        weighted=not opts.uniform, max_words=opts.max_words)
    items: list[Item] = []
    for depth in opts.depths:
        for item in _sample_depth(table, depth, opts):
            items.append(item)
            if opts.controls:
                items.append(matched_control(table, item, opts.seed))
    _warn_unmatched_controls(items)
    return items


def _window(table: DepthTable, depth: int, opts: Options) -> list[int]:
    """The word lengths to draw from at ``depth``."""
    lengths = table.lengths(depth, opts.min_words or 1, opts.max_words)
    if not lengths:
        g = table.compiled.grammar
        raise UsageError(f"no sentence of depth {depth} fits the word limits "
                         f"({opts.min_words or 1}..{opts.max_words or table.max_words} words)", path=g.path,
                         fix="widen --min-words/--max-words")
    if opts.max_words is None:
        lengths = [n for n in lengths if n <= lengths[0] + opts.extra_words]
    return lengths


def _sample_depth(table: DepthTable, depth: int, opts: Options) -> list[Item]:
    grammar = table.compiled.grammar
    rng = random.Random(f"{opts.seed}/{grammar.name}/{depth}")
    lengths = _window(table, depth, opts)
    mass = [float(table.counts(depth)[n]) for n in lengths]
    seen: set[str] = set()
    items: list[Item] = []
    attempts = 0
    while len(items) < opts.per_depth and attempts < opts.per_depth * UNIQUE_ATTEMPTS:
        attempts += 1
        if opts.length_mode == "uniform":
            length = lengths[rng.randrange(len(lengths))]
        else:
            length = rng.choices(lengths, weights=mass)[0]
        node = table.sample(rng, depth, length)
        sentence = " ".join(node.words())
        if opts.unique and sentence in seen:
            continue
        seen.add(sentence)
        items.append(build_item(table.compiled, node, f"{grammar.name}/d{depth}/{len(items):03d}", depth, "test"))
    if len(items) < opts.per_depth:
        logger.warning(f"warning: {grammar.name}: only {len(items)} distinct sentences found at depth {depth} "
                       f"(asked for {opts.per_depth}); widen the length window or the lexicon")
    return items


def _warn_unmatched_controls(items: list[Item]) -> None:
    gaps = [abs(i.match["n_words"]) for i in items if i.is_control and i.match]
    if any(gaps):
        logger.warning(f"warning: {sum(1 for x in gaps if x)} of {len(gaps)} controls differ in length from their "
                       f"item (up to {max(gaps)} words; see `match` in items.jsonl): the grammar has too few ways to "
                       "make a long depth-0 sentence (e.g. let a place PP contain another)")


__all__ = ["DEFAULT_DEPTHS", "Options", "generate", "generate_items", "make_options", "parse_depths"]
