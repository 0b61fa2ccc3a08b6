"""Every table of one report at once (:func:`analyze`), and one row per curve (:func:`glance`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..schema import ReferencePoint, SuiteMatch, VerificationRecord
from .breaking import breaking_depths
from .comparisons import (check_available, critical_differences, parser_agreement, task_comparison,
                          verification_table, verified_comparison)
from .design import collinearity, condition_accuracy, control_match
from .grouped import mixed_slopes
from .paired import condition_contrasts, control_comparison, depth_pairs
from .prompted import answer_bias, one_answer_cells, without_cells
from .regression import depth_slopes
from .suites import reference_table, suite_accuracy
from .tables import CELL, accuracy_table, cell_chance, cell_rows, depth_rows

ALPHA = 0.05  # the level of every "reliable" claim (after Holm's correction where a table has a family)


@dataclass(frozen=True)
class Analysis:
    """All tables of one report; ``chance`` is the mean guessing accuracy per task over its test items.

    ``accuracy``, ``slopes`` and the other depth tables cover depthkit's own items (not imported
    suites: ``suites``) and leave out the cells of ``one_answer`` (prompted tasks whose every
    answer was the same, so their verdicts show that bias only).
    """

    table: pd.DataFrame
    accuracy: pd.DataFrame
    controls: pd.DataFrame
    breaking: pd.DataFrame
    verified: pd.DataFrame
    checks: pd.DataFrame
    parsers: pd.DataFrame
    critical: pd.DataFrame
    tasks: pd.DataFrame
    slopes: pd.DataFrame
    mixed: pd.DataFrame
    bias: pd.DataFrame
    threshold: float
    benepar_available: bool | None
    chance: Mapping[str, float] = field(default_factory=dict)
    ladder: pd.DataFrame = field(default_factory=pd.DataFrame)
    conditions: pd.DataFrame = field(default_factory=pd.DataFrame)
    contrasts: pd.DataFrame = field(default_factory=pd.DataFrame)
    collinearity: pd.DataFrame = field(default_factory=pd.DataFrame)
    match: pd.DataFrame = field(default_factory=pd.DataFrame)
    one_answer: pd.DataFrame = field(default_factory=pd.DataFrame)
    suites: pd.DataFrame = field(default_factory=pd.DataFrame)
    references: pd.DataFrame = field(default_factory=pd.DataFrame)


def analyze(table: pd.DataFrame, verification_records: Iterable[VerificationRecord] = (), threshold: float = 0.6,
            *, matches: Iterable[SuiteMatch] = (), references: Iterable[ReferencePoint] = (),
            progress: Callable[[str], None] | None = None) -> Analysis:
    """Every table of the report from the joined judgment table and the verification records.

    ``matches`` pair suite paradigms with depthkit grammars and depths; ``references`` are the
    published points to show (none unless the report was asked for them). ``progress``, if
    given, is called with a short note before each slow step.
    """
    note = progress or (lambda message: None)
    matches = tuple(matches)
    own = depth_rows(table)
    one_answer = one_answer_cells(own)
    curves = without_cells(own, one_answer)
    accuracy = accuracy_table(curves, "test")
    checks = verification_table(verification_records)
    n_cells = curves.groupby(CELL).ngroups
    note(f"logistic regressions for {n_cells} model x task x construction cells")
    slopes = depth_slopes(curves)
    note(f"set- and lemma-grouped models (mixed logit, GEE) for {n_cells} cells")
    mixed = mixed_slopes(curves, slopes)
    tests = curves[curves["kind"] == "test"]
    return Analysis(
        table=table, accuracy=accuracy, controls=control_comparison(curves),
        breaking=breaking_depths(accuracy, threshold), verified=verified_comparison(curves), checks=checks,
        parsers=parser_agreement(checks), critical=critical_differences(curves), tasks=task_comparison(own),
        slopes=slopes, mixed=mixed, bias=answer_bias(own), threshold=threshold,
        benepar_available=check_available(checks, "benepar"),
        chance={task: value for (task,), value in cell_chance(tests if not tests.empty else curves, ("task",)).items()},
        ladder=depth_pairs(curves), conditions=condition_accuracy(curves), contrasts=condition_contrasts(curves),
        collinearity=collinearity(own), match=control_match(own), one_answer=one_answer,
        suites=suite_accuracy(table, matches), references=reference_table(references, matches, table),
    )


GLANCE_COLUMNS = CELL + ["first_depth", "accuracy_first", "last_depth", "accuracy_last", "trend", "odds_ratio",
                         "or_low", "or_high", "p", "p_holm", "grouped", "inseparable", "breaking_depth",
                         "breaking_status", "control_gap_last", "control_gap_low", "control_gap_high",
                         "control_p_holm"]


def slope_trend(slope: pd.Series | None, grouped: pd.DataFrame) -> tuple[str, str]:
    """(trend, grouped) for one curve.

    ``falls`` / ``rises`` only when the depth slope's interval excludes no change, its
    Holm-adjusted p is below :data:`ALPHA`, and every grouped fit that ran (mixed, GEE) has its
    interval on the same side of zero; otherwise ``no reliable change`` (``not fitted`` without a
    slope). ``grouped`` says how the grouped fits came out: ``agree``, ``include no change``
    (some interval contains zero or points the other way) or ``not fitted``.
    """
    if slope is None:
        return "not fitted", "not fitted"
    direction = "falls" if slope["ci_high"] < 0 else "rises" if slope["ci_low"] > 0 else None
    fitted = grouped[grouped["status"] == "ok"]
    if fitted.empty:
        agreement = "not fitted"
    elif direction == "falls" and (fitted["ci_high"] < 0).all() or direction == "rises" and (fitted["ci_low"] > 0).all():
        agreement = "agree"
    else:
        agreement = "include no change"
    holm = slope.get("p_holm", slope["p"])
    if direction is None or not (holm < ALPHA) or agreement == "include no change":
        return "no reliable change", agreement
    return direction, agreement


def glance(analysis: Analysis) -> pd.DataFrame:
    """One row per curve: first and last depth, the depth slope and its verdict, breaking status, control contrast."""
    rows = []
    for key, group in analysis.accuracy.groupby(CELL, sort=True):
        group = group[group["n"] > 0].sort_values("depth")
        if group.empty:
            continue
        first, last = group.iloc[0], group.iloc[-1]
        slope = cell_rows(analysis.slopes, key)
        slope = slope[(slope["term"] == "depth") & slope["status"].isin(["ok", "separation"])]
        grouped = cell_rows(analysis.mixed, key)
        grouped = grouped[grouped["term"] == "depth"] if not grouped.empty else grouped
        brk = cell_rows(analysis.breaking, key)
        ctrl = cell_rows(analysis.controls, key)
        ctrl = ctrl[ctrl["depth"] == last.depth] if not ctrl.empty else ctrl
        s = slope.iloc[0] if not slope.empty else None
        trend, agreement = slope_trend(s, grouped)
        c = ctrl.iloc[0] if not ctrl.empty else None
        rows.append({**dict(zip(CELL, key)), "first_depth": int(first.depth), "accuracy_first": float(first.accuracy),
                     "last_depth": int(last.depth), "accuracy_last": float(last.accuracy), "trend": trend,
                     "odds_ratio": math.exp(s["coef"]) if s is not None else math.nan,
                     "or_low": math.exp(s["ci_low"]) if s is not None else math.nan,
                     "or_high": math.exp(s["ci_high"]) if s is not None else math.nan,
                     "p": s["p"] if s is not None else math.nan, "p_holm": s["p_holm"] if s is not None else math.nan,
                     "grouped": agreement, "inseparable": (s["inseparable"] or "") if s is not None else "",
                     "breaking_depth": brk.iloc[0]["breaking_depth"] if not brk.empty else pd.NA,
                     "breaking_status": brk.iloc[0]["status"] if not brk.empty else "",
                     "control_gap_last": float(c["gap"]) if c is not None else math.nan,
                     "control_gap_low": float(c["gap_low"]) if c is not None else math.nan,
                     "control_gap_high": float(c["gap_high"]) if c is not None else math.nan,
                     "control_p_holm": float(c["p_holm"]) if c is not None else math.nan})
    out = pd.DataFrame(rows, columns=GLANCE_COLUMNS)
    out["breaking_depth"] = out["breaking_depth"].astype("Int64")
    return out
