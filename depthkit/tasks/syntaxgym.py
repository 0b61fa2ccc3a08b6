"""``syntaxgym``: a SyntaxGym suite's own predictions, evaluated as SyntaxGym defines them.

For an item imported by ``depthkit import syntaxgym`` (it carries the suite's region table,
:class:`~depthkit.schema.SuiteTable`), every condition's sentence — its non-empty regions joined
with single spaces, as written (no capitalisation or period added) — is scored after the backend's
start token. A region's surprisal is ``-log2 p`` (bits) of the tokens that start inside it (a
token's leading space belongs to the region after it), aggregated by the suite's metric (``sum``
as published); an empty region has surprisal 0. Each prediction formula
(:mod:`depthkit.suites.formula`) is evaluated on these; the item is correct when every prediction
holds (the published suites have one prediction each).

Items without a region table get no verdict. Chance depends on the formula (0.5 for one
inequality, 0.25 for two conjoined ones); ``chance`` below is that of one inequality.

Scores: ``surprisal`` (condition -> per-region surprisal, bits, in region order), ``regions`` (the
region names), ``predictions`` (each formula's truth value), ``formulas``, ``metric``, ``unit``
("bits"), ``good_sum`` and ``bad_sum`` (log p, nats, of the item's good and bad conditions).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..backends.base import ScoreRequest, TokenScores
from ..schema import Item, SuiteTable
from .base import Task, Verdict

LN2 = math.log(2)


@dataclass(frozen=True)
class SyntaxGymTask(Task):
    name: ClassVar[str] = "syntaxgym"
    kind: ClassVar[str] = "score"
    paired: ClassVar[bool] = False
    chance: ClassVar[float] = 0.5
    rank: ClassVar[int] = 0  # a log-probability task: listed before the prompted ones
    description: ClassVar[str] = "a SyntaxGym suite's predictions over region surprisals (imported suites)"

    def requests(self, item: Item) -> list[ScoreRequest]:
        if item.suite is None:
            return []
        return [ScoreRequest("", region_text(contents)[0]) for contents in item.suite.conditions.values()]

    def verdict(self, item: Item, responses: Sequence[TokenScores]) -> Verdict:
        table = item.suite
        if table is None or not responses:
            return None, None, {}
        return judge_syntaxgym(item, table, responses)

    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "unit": "bits", "text": "regions joined with spaces, as written",
                "verdict": "every prediction holds"}

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "text": "regions joined with spaces, as written"}


def region_text(contents: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The sentence of one condition and each region's character span (leading space included; empty: 0 wide)."""
    text, spans = "", []
    for content in contents:
        if not content:
            spans.append((len(text), len(text)))
            continue
        start = len(text)
        text = f"{text} {content}" if text else content
        spans.append((start, len(text)))
    return text, spans


def region_surprisals(contents: Sequence[str], scores: TokenScores, metric: str = "sum") -> list[float]:
    """Surprisal (bits) of each region: its tokens' ``-log2 p`` aggregated by ``metric`` (0 for an empty region)."""
    _, spans = region_text(contents)
    out = []
    for start, end in spans:
        values = [-lp / LN2 for off, lp in zip(scores.offsets, scores.logprobs) if start <= off < end]
        out.append(aggregate(values, metric))
    return out


def aggregate(values: list[float], metric: str) -> float:
    if not values:
        return 0.0
    if metric == "sum":
        return float(sum(values))
    if metric == "mean":
        return float(statistics.fmean(values))
    if metric == "median":
        return float(statistics.median(values))
    if metric == "range":
        return float(max(values) - min(values))
    return float(max(values) if metric == "max" else min(values))


def judge_syntaxgym(item: Item, table: SuiteTable, responses: Sequence[TokenScores]) -> Verdict:
    """Verdict: every prediction of the suite holds on this item's region surprisals."""
    from ..suites.formula import holds

    names = list(table.conditions)
    surprisal = {name: region_surprisals(table.conditions[name], r, table.metric) for name, r in zip(names, responses)}
    values = {(name, k + 1): v for name, per in surprisal.items() for k, v in enumerate(per)}
    results = [holds(formula, values) for formula in table.predictions]
    totals = {name: r.total for name, r in zip(names, responses)}
    condition = item.condition or {}
    scores: dict[str, Any] = {"surprisal": surprisal, "regions": list(table.regions), "predictions": results,
                              "formulas": list(table.predictions), "metric": table.metric, "unit": "bits",
                              "good_sum": totals.get(str(condition.get("good"))),
                              "bad_sum": totals.get(str(condition.get("bad")))}
    if not results:
        return None, None, scores
    return all(results), "prediction" if len(results) == 1 else "predictions", scores


__all__ = ["SyntaxGymTask", "judge_syntaxgym", "region_surprisals", "region_text"]
