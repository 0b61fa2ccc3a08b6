"""Every table of one report at once (:func:`analyze`), and one row per curve (:func:`glance`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..schema import VerificationRecord
from .comparisons import (answer_bias, check_available, control_comparison, critical_differences, parser_agreement,
                          task_comparison, verification_table, verified_comparison)
from .regression import depth_slopes, mixed_slopes
from .tables import CELL, accuracy_table, breaking_depths, cell_chance, cell_rows


@dataclass(frozen=True)
class Analysis:
    """All tables of one report; ``chance`` is the mean guessing accuracy per task over its test items."""

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


def analyze(table: pd.DataFrame, verification_records: Iterable[VerificationRecord] = (), threshold: float = 0.6,
            *, progress: Callable[[str], None] | None = None) -> Analysis:
    """Every table of the report from the joined judgment table and the verification records.

    ``progress``, if given, is called with a short note before each slow step.
    """
    note = progress or (lambda message: None)
    accuracy = accuracy_table(table, "test")
    checks = verification_table(verification_records)
    n_cells = table.groupby(CELL).ngroups
    note(f"logistic regressions for {n_cells} model x task x construction cells")
    slopes = depth_slopes(table)
    note(f"frame-grouped models (mixed logit, GEE) for {n_cells} cells")
    mixed = mixed_slopes(table, slopes)
    tests = table[table["kind"] == "test"]
    return Analysis(
        table=table, accuracy=accuracy, controls=control_comparison(table),
        breaking=breaking_depths(accuracy, threshold), verified=verified_comparison(table), checks=checks,
        parsers=parser_agreement(checks), critical=critical_differences(table), tasks=task_comparison(table),
        slopes=slopes, mixed=mixed, bias=answer_bias(table), threshold=threshold,
        benepar_available=check_available(checks, "benepar"),
        chance={task: value for (task,), value in cell_chance(tests if not tests.empty else table, ("task",)).items()},
    )


def glance(analysis: Analysis) -> pd.DataFrame:
    """One row per curve: first and last depth, the depth slope, breaking depth and the control gap."""
    columns = CELL + ["first_depth", "accuracy_first", "last_depth", "accuracy_last", "trend", "odds_ratio",
                      "or_low", "or_high", "p", "breaking_depth", "control_gap_last"]
    rows = []
    for key, group in analysis.accuracy.groupby(CELL, sort=True):
        group = group[group["n"] > 0].sort_values("depth")
        if group.empty:
            continue
        match = dict(zip(CELL, key))
        first, last = group.iloc[0], group.iloc[-1]
        slope = cell_rows(analysis.slopes, key)
        slope = slope[(slope["term"] == "depth") & slope["status"].isin(["ok", "separation"])]
        brk = cell_rows(analysis.breaking, key)
        ctrl = cell_rows(analysis.controls, key)
        ctrl = ctrl[ctrl["depth"] == last.depth]
        row = {**match, "first_depth": int(first.depth), "accuracy_first": float(first.accuracy),
               "last_depth": int(last.depth), "accuracy_last": float(last.accuracy), "trend": "not fitted",
               "odds_ratio": math.nan, "or_low": math.nan, "or_high": math.nan, "p": math.nan,
               "breaking_depth": brk.iloc[0]["breaking_depth"] if not brk.empty else pd.NA,
               "control_gap_last": float(ctrl.iloc[0]["gap"]) if not ctrl.empty else math.nan}
        if not slope.empty:
            s = slope.iloc[0]
            row.update(odds_ratio=math.exp(s["coef"]), or_low=math.exp(s["ci_low"]), or_high=math.exp(s["ci_high"]),
                       p=s["p"], trend="falls" if s["ci_high"] < 0 else "rises" if s["ci_low"] > 0
                       else "no reliable change")
        rows.append(row)
    out = pd.DataFrame(rows, columns=columns)
    out["breaking_depth"] = out["breaking_depth"].astype("Int64")
    return out

