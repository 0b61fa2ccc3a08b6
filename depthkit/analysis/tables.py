"""The joined judgment table, accuracy per model x task x construction x depth, chance and breaking depth.

:func:`judgment_table` joins judgments with their items and verification into one row per
judgment; the other functions here and in the sibling modules take that table (or another
function's output) and return a new table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..schema import Item, Judgment, VerificationRecord
from ..tasks.info import chance_level
from .intervals import proportions

CELL = ["model", "task", "construction"]
CELL_DEPTH = CELL + ["depth"]
COVARIATES = ("n_words", "sv_distance")


# --------------------------------------------------------------------------- the joined table

ItemKey = tuple[str, str]  # (source, item id): the generated folder an item came from, and its id


@dataclass(frozen=True)
class SourcedJudgment:
    """A judgment with the run folder it came from and the generated folder (``source``) of its item."""

    judgment: Judgment
    run: str = ""
    source: str = ""


def judgment_table(judgments: Iterable[SourcedJudgment | Judgment],
                   items: Mapping[ItemKey, Item] | None = None,
                   verification: Mapping[ItemKey, VerificationRecord] | None = None) -> pd.DataFrame:
    """One row per judgment, joined with its item and verification record.

    ``items`` and ``verification`` are keyed by ``(source, item id)``; a bare :class:`Judgment` has
    source and run ``""``. Item facts (metrics, frame, whether it has a bad member) are missing
    (NaN, None, paired) for a judgment whose item is not given.
    """
    items = items or {}
    verification = verification or {}
    rows = []
    for entry in judgments:
        entry = _sourced(entry)
        j, source = entry.judgment, entry.source
        key = (source, j.item_id)
        item = items.get(key)
        metrics = item.metrics if item else {}
        check = verification.get(key)
        rows.append({
            "run": entry.run,
            "source": source,
            "item_id": j.item_id,
            "model": j.model,
            "task": j.task,
            "construction": j.construction or (item.construction or item.grammar if item else "") or "",
            "grammar": item.grammar if item else "",
            "depth": j.depth,
            "kind": j.kind,
            "control_of": j.control_of if j.control_of is not None else (item.control_of if item else None),
            "correct": math.nan if j.correct is None else float(j.correct),
            "verdict_by": j.verdict_by,
            "crit_diff": _difference(j.scores, "good_critical", "bad_critical"),
            "sum_diff": _difference(j.scores, "good_sum", "bad_sum"),
            "target_diff": _difference(j.scores, "good_target", "bad_target"),
            "good_member_correct": _flag(j.scores.get("good_correct")),
            "bad_member_correct": _flag(j.scores.get("bad_correct")),
            "n_words": _number(metrics.get("n_words")),
            "sv_distance": _number(metrics.get("sv_distance")),
            "attractors": _number(metrics.get("attractors")),
            "frame": item.frame if item else None,
            "verified": None if check is None else check.verified,
            "paired": bool(item.bad) if item else True,
        })
    columns = ["run", "source", "item_id", "model", "task", "construction", "grammar", "depth", "kind",
               "control_of", "correct", "verdict_by", "crit_diff", "sum_diff", "target_diff", "good_member_correct",
               "bad_member_correct", "n_words", "sv_distance",
               "attractors", "frame", "verified", "paired"]
    table = pd.DataFrame(rows, columns=columns)
    table["depth"] = table["depth"].astype(int)
    # Controls are compared at the depth of the test item they were matched to.
    depth_of = {(r.source, r.item_id): r.depth for r in table.itertuples() if r.kind == "test"}
    for key, item in items.items():
        if item.kind == "test":
            depth_of.setdefault(key, item.depth)
    table["matched_depth"] = [
        depth_of.get((r.source, r.control_of), r.depth) if r.kind == "control" else r.depth
        for r in table.itertuples()
    ]
    return table


def _sourced(entry: SourcedJudgment | Judgment) -> SourcedJudgment:
    return entry if isinstance(entry, SourcedJudgment) else SourcedJudgment(entry)


def _difference(scores: Mapping[str, Any], good: str, bad: str) -> float:
    g, b = scores.get(good), scores.get(bad)
    if isinstance(g, (int, float)) and isinstance(b, (int, float)):
        return float(g) - float(b)
    return math.nan


def _flag(value: Any) -> float:
    return float(value) if isinstance(value, bool) else math.nan


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


# --------------------------------------------------------------------------- accuracy

def accuracy_table(table: pd.DataFrame, kind: str = "test") -> pd.DataFrame:
    """Accuracy per model x task x construction x depth: n, accuracy, Wilson 95% interval, chance.

    ``kind="control"`` groups controls by the depth of the test item they match. Chance comes from
    the task's facts (:func:`depthkit.tasks.info.chance_level`), averaged over the cell's items.
    """
    rows = table[table["kind"] == kind]
    columns = CELL_DEPTH + ["n", "n_correct", "accuracy", "ci_low", "ci_high", "n_no_verdict", "chance"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    if kind == "control":
        rows = rows.assign(depth=rows["matched_depth"])
    out = proportions(rows, CELL_DEPTH)
    cells = cell_chance(rows)
    out["chance"] = [cells.get(tuple(r[c] for c in CELL), chance_level(r["task"])) for _, r in out.iterrows()]
    return out[columns]


def cell_chance(table: pd.DataFrame, by: tuple[str, ...] = tuple(CELL)) -> dict[tuple, float]:
    """Chance per group of ``by``: the mean guessing accuracy of its judgments (items with or without a bad member)."""
    if table.empty:
        return {}
    paired = table["paired"] if "paired" in table else pd.Series(True, index=table.index)
    guess = [chance_level(t, bool(p)) for t, p in zip(table["task"], paired)]
    means = pd.Series(guess, index=table.index).groupby([table[c] for c in by], sort=True).mean()
    return {(k if isinstance(k, tuple) else (k,)): float(v) for k, v in means.items()}


def breaking_depths(accuracy: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Smallest depth whose whole 95% interval lies below ``threshold``, per model x task x construction.

    ``breaking_depth`` is NA when no depth qualifies; ``min_depth`` and ``max_depth`` say which depths
    the data cover (a breaking depth equal to ``min_depth`` means the curve starts below the threshold);
    ``n_verdicts`` counts judgments with a verdict (0: nothing was tested, e.g. items without a bad twin).
    """
    rows = []
    for key, group in accuracy.groupby(CELL, sort=True):
        group = group.sort_values("depth")
        below = group[(group["n"] > 0) & (group["ci_high"] < threshold)]
        first = below.iloc[0] if not below.empty else None
        rows.append(dict(zip(CELL, key), threshold=threshold,
                         breaking_depth=None if first is None else int(first["depth"]),
                         accuracy=None if first is None else float(first["accuracy"]),
                         ci_high=None if first is None else float(first["ci_high"]),
                         min_depth=int(group["depth"].min()), max_depth=int(group["depth"].max()),
                         n_verdicts=int(group["n"].sum())))
    out = pd.DataFrame(rows, columns=CELL + ["threshold", "breaking_depth", "accuracy", "ci_high", "min_depth",
                                             "max_depth", "n_verdicts"])
    out["breaking_depth"] = out["breaking_depth"].astype("Int64")
    return out


def cell_rows(frame: pd.DataFrame, key: tuple) -> pd.DataFrame:
    """The rows of ``frame`` belonging to one model x task x construction ``key``."""
    if frame.empty:
        return frame
    return frame[(frame[CELL] == pd.Series(dict(zip(CELL, key)))).all(axis=1)]

