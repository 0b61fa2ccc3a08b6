"""The joined judgment table, accuracy per model x task x construction x depth, and chance.

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
# `depthkit import` gives imported items the suite's kind as their grammar (the suites contract)
SUITE_KINDS = ("blimp", "syntaxgym")


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
    source and run ``""``. Item facts (metrics, frame, set, condition, whether it has a bad member)
    are missing (NaN, None, paired) for a judgment whose item is not given.

    Design columns: ``set_id`` (the item's set; its ``frame`` when it has none), ``controller``,
    ``attractor_condition`` and ``pair_type`` (the item's ``condition``; None for a factor it does not
    have), ``good_value`` (the controller value of the good member, from ``pair``), ``target_lemma``
    (:func:`target_lemma`), ``match_*`` (a control's distance from its item) and ``suite`` (an item
    imported from an external suite, :data:`SUITE_KINDS`). Prompted-verdict columns (the task's
    ``scores``; NaN or None when a task does not write them): ``absolute_correct``, ``good_p_yes``,
    ``bad_p_yes`` (natural-log P(Yes)), ``position_bias``, ``good_answer``, ``bad_answer``, ``answer``.
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
        condition = (item.condition or {}) if item else {}
        match = (item.match or {}) if item else {}
        scores = j.scores
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
            "crit_diff": _difference(scores, "good_critical", "bad_critical"),
            "sum_diff": _difference(scores, "good_sum", "bad_sum"),
            "target_diff": _difference(scores, "good_target", "bad_target"),
            "good_member_correct": _flag(scores.get("good_correct")),
            "bad_member_correct": _flag(scores.get("bad_correct")),
            "n_words": _number(metrics.get("n_words")),
            "sv_distance": _number(metrics.get("sv_distance")),
            "attractors": _number(metrics.get("attractors")),
            "frame": item.frame if item else None,
            "verified": None if check is None else check.verified,
            "paired": bool(item.bad) if item else True,
            "set_id": (item.set_id or item.frame) if item else None,
            "controller": _text(condition.get("controller")),
            "attractor_condition": _text(condition.get("attractors")),
            "pair_type": _text(condition.get("pair_type")),
            "good_value": _text(item.pair.good_value) if item and item.pair else None,
            "target_lemma": target_lemma(item) if item else None,
            "match_n_words": _number(match.get("n_words")),
            "match_sv_distance": _number(match.get("sv_distance")),
            "match_attractors": _number(match.get("attractors")),
            "suite": bool(item and item.grammar in SUITE_KINDS),
            "absolute_correct": _flag(scores.get("absolute_correct")),
            "good_p_yes": _number(scores.get("good_p_yes")),
            "bad_p_yes": _number(scores.get("bad_p_yes")),
            "position_bias": _number(scores.get("position_bias")),
            "good_answer": _text(scores.get("good_answer")),
            "bad_answer": _text(scores.get("bad_answer")),
            "answer": _text(scores.get("answer")),
        })
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
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


TABLE_COLUMNS = ["run", "source", "item_id", "model", "task", "construction", "grammar", "depth", "kind",
                 "control_of", "correct", "verdict_by", "crit_diff", "sum_diff", "target_diff", "good_member_correct",
                 "bad_member_correct", "n_words", "sv_distance", "attractors", "frame", "verified", "paired",
                 "set_id", "controller", "attractor_condition", "pair_type", "good_value", "target_lemma",
                 "match_n_words", "match_sv_distance", "match_attractors", "suite", "absolute_correct", "good_p_yes",
                 "bad_p_yes", "position_bias", "good_answer", "bad_answer", "answer"]


def target_lemma(item: Item) -> str | None:
    """The verb (or other target) an item tests, the same for both of its forms.

    The target words of the good member and of its twin (the bad member), lower-cased, sorted and
    joined with ``/``: an item whose good member has *laughs* and bad *laugh* and one whose good
    member has *laugh* and bad *laughs* (singular and plural controllers) both give
    ``laugh/laughs``. Items without a bad member give their good target alone; items without a
    target region give None.
    """
    target = item.regions.target
    if target is None:
        return None
    forms = {" ".join(item.words[target.good[0]:target.good[1]]).lower()}
    if item.bad is not None and target.bad is not None:
        forms.add(" ".join(item.bad.split(" ")[target.bad[0]:target.bad[1]]).lower())
    forms.discard("")
    return "/".join(sorted(forms)) or None


def _sourced(entry: SourcedJudgment | Judgment) -> SourcedJudgment:
    return entry if isinstance(entry, SourcedJudgment) else SourcedJudgment(entry)


def _difference(scores: Mapping[str, Any], good: str, bad: str) -> float:
    g, b = scores.get(good), scores.get(bad)
    if isinstance(g, (int, float)) and isinstance(b, (int, float)):
        return float(g) - float(b)
    return math.nan


def _flag(value: Any) -> float:
    return float(value) if isinstance(value, bool) else math.nan


def _text(value: Any) -> str | None:
    """A condition or answer value as text (``sg``, ``True``, ``3``); None when absent."""
    return None if value is None else str(value)


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
    """Chance per group of ``by``: the mean guessing accuracy of its judgments (items with or without a bad
    member; judgments decided by an older verdict rule at that rule's chance)."""
    if table.empty:
        return {}
    paired = table["paired"] if "paired" in table else pd.Series(True, index=table.index)
    rules = table["verdict_by"] if "verdict_by" in table else pd.Series(None, index=table.index)
    guess = [chance_level(t, bool(p), r if isinstance(r, str) else None)
             for t, p, r in zip(table["task"], paired, rules)]
    means = pd.Series(guess, index=table.index).groupby([table[c] for c in by], sort=True).mean()
    return {(k if isinstance(k, tuple) else (k,)): float(v) for k, v in means.items()}


def depth_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of depthkit's own items (the depth analysis); imported suites are reported on their own."""
    return table[~table["suite"].astype(bool)] if "suite" in table else table


def cell_rows(frame: pd.DataFrame, key: tuple) -> pd.DataFrame:
    """The rows of ``frame`` belonging to one model x task x construction ``key``."""
    if frame.empty:
        return frame
    return frame[(frame[CELL] == pd.Series(dict(zip(CELL, key)))).all(axis=1)]

