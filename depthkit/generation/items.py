"""From a grammar to items: exact-depth test items with their minimal pairs, and matched controls.

:func:`generate` is pure: same grammar, seed and options give the same items, and no
global random state is touched (each depth and each control has its own seeded RNG).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..grammar import Grammar, compile_grammar, load_grammar
from ..logs import logger
from ..schema import Item
from .conditions import conditions_for
from .controls import matched_control
from .sampling import MAX_WORDS_LIMIT, DepthTable, build_table
from .sets import SetMaker, SetPlan, Tally, sets_needed
from .validity import MAX_NESTING

DEFAULT_DEPTHS = "0-4"  # the depths `generate` makes when none are asked for (library and CLI)


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
    design: str | None = None  # "ladder" or "independent"; None: the grammar's design (its `design: sets:`)

    def __post_init__(self) -> None:
        if self.per_depth < 1:
            raise UsageError("--per-depth must be at least 1", fix="e.g. --per-depth 20")
        if not self.depths or min(self.depths) < 0:
            raise UsageError("depths must be non-negative", fix="e.g. --depths 0-6 or --depths 0,2,4")
        if self.design not in (None, "ladder", "independent"):
            raise UsageError(f"unknown design {self.design!r}",
                             fix="use ladder (one lexical frame at every depth) or independent (new words per depth)")
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
        if self.design is not None:
            out["design"] = self.design
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


@dataclass(frozen=True)
class Generation:
    """What one generation made: the items, the design used, and the frames drawn, kept and rejected."""

    items: list[Item]
    design: dict[str, Any]
    tally: Tally


def generate_items(grammar: Grammar, opts: Options) -> list[Item]:
    """The items for ``opts``: per depth, the test items, each followed by its control when asked."""
    return run_generation(grammar, opts).items


def run_generation(grammar: Grammar, opts: Options) -> Generation:
    """The items for ``opts`` with the facts the manifest records (design, sets drawn and rejected)."""
    compiled = compile_grammar(grammar)
    table = build_table(compiled, max(opts.depths), need_words=opts.max_words, weighted=not opts.uniform,
                        max_words=opts.max_words)
    design = opts.design or grammar.design.sets
    lengths = {d: _window(table, d, opts) for d in opts.depths}
    weights = ({d: [float(table.counts(d)[n]) for n in lengths[d]] for d in opts.depths}
               if opts.length_mode == "weighted" else None)
    n_sets = sets_needed(grammar, opts.per_depth)
    plan = SetPlan(design, opts.depths, n_sets, opts.seed, lengths, weights, opts.unique)
    tally = Tally()
    maker = SetMaker(compiled, table)
    tests = sorted(maker.make(plan, tally), key=lambda item: item.depth)  # stable: set and condition order kept
    _warn_missing_sets(grammar, plan, tests, tally)
    items: list[Item] = []
    for item in tests:
        items.append(item)
        if opts.controls and item.depth > 0:
            items.append(matched_control(table, item, opts.seed, maker.chart))
    _warn_unmatched_controls(items)
    facts = {"sets": design, "n_sets": n_sets, "conditions": [c.to_record() for c in conditions_for(grammar, True)],
             "frames_drawn": tally.drawn, "frames_kept": tally.kept}
    return Generation(items, facts, tally)


def _warn_missing_sets(grammar: Grammar, plan: SetPlan, tests: list[Item], tally: Tally) -> None:
    """A warning (with the commonest reasons) when fewer complete sets than asked could be made."""
    kept = len({i.set_id for i in tests if plan.design == "ladder"}) if plan.design == "ladder" else None
    per_depth = {d: len({i.set_id for i in tests if i.depth == d}) for d in plan.depths}
    short = {d: k for d, k in per_depth.items() if k < plan.n_sets}
    if not short:
        return
    reasons: dict[str, int] = {}
    for by_reason in tally.rejected.values():
        for reason, count in by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + count
    top = ", ".join(f"{r} {c}" for r, c in sorted(reasons.items(), key=lambda kv: -kv[1])[:3]) or "none"
    where = ", ".join(f"depth {d}: {k}" for d, k in sorted(short.items()))
    logger.warning(f"warning: {grammar.name}: only {where} of {plan.n_sets} complete sets "
                   f"({'ladders' if kept is not None else 'frames'}) could be made; frames rejected: {top} "
                   "(`depthkit grammar check` shows examples)")


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


def _warn_unmatched_controls(items: list[Item]) -> None:
    """One line saying how far controls stayed from their items (``match`` has the details per control)."""
    controls = [i for i in items if i.is_control and i.match]
    if not controls:
        return
    parts = []
    for key in ("sv_distance", "attractors", "n_words"):
        gaps = [abs(c.match[key]) for c in controls if c.match.get(key)]
        if gaps:
            parts.append(f"{key} in {len(gaps)} (up to {max(gaps)})")
    if parts:
        logger.warning(f"warning: of {len(controls)} controls, these differ from their item: {'; '.join(parts)} "
                       f"(see `match` in items.jsonl): the grammar has no closer depth-0 sentence within "
                       f"{MAX_NESTING} nested modifiers")


__all__ = ["DEFAULT_DEPTHS", "Generation", "Options", "generate", "generate_items", "make_options", "parse_depths",
           "run_generation"]
