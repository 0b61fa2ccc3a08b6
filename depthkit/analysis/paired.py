"""Paired comparisons: the same set seen two ways (two depths, a test item and its control, two conditions).

Every table here pairs two judgments of one model and task that differ in one thing only, and
counts the pairs: both right, only the first right, only the second right, both wrong. It reports

* the two accuracies and their difference ``second - first`` with Newcombe's (1998, method 10)
  95% interval for a difference of paired proportions (:func:`paired_difference_interval`);
* the exact McNemar test (two-sided binomial test of the discordant pairs at 1/2);
* ``p_holm``: Holm's step-down correction over every row of the table (one family per table).

The pairings:

* :func:`control_comparison` — a test item and the structure-matched depth-0 control made for it
  (the control's ``control_of``), per depth of the test item. This is the contrast that separates
  depth from what the control holds equal (length, subject-verb distance, attractors: see the
  match table for how equal).
* :func:`depth_pairs` — within a set (a depth ladder: one lexical frame at every depth), the item
  at depth d beside the item of the same set and condition at the set's shallowest depth. A
  shallowest item without an attractor (nothing can attract at depth 0 in some grammars) is the
  baseline of the deeper item whose attractors *match* the controller (no number conflict, so
  only depth differs); deeper *mismatch* items have no baseline there and are compared with
  their match twins in :func:`condition_contrasts` instead. Each baseline item is used once per
  depth, so the pairs of a row are independent sets.
* :func:`condition_contrasts` — within a set and depth, the items that differ in one condition
  factor only: attractors ``mismatch`` vs ``match`` (the attraction effect), and the controller's
  values (e.g. ``pl`` vs ``sg``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .intervals import wilson_interval
from .tables import CELL, CELL_DEPTH

PAIR_COUNTS = ["n_pairs", "accuracy_first", "accuracy_second", "both_correct", "only_first", "only_second",
               "both_wrong", "difference", "diff_low", "diff_high", "mcnemar_p"]
CONDITION_FACTORS = (("attractor_condition", ("match", "mismatch")), ("controller", None))


def paired_difference_interval(both: int, only_first: int, only_second: int, neither: int) -> tuple[float, float]:
    """Newcombe's (1998) method-10 95% interval for ``accuracy_second - accuracy_first`` of paired data.

    The Wilson intervals of the two accuracies, combined with the phi correlation of the 2x2 table
    (phi = 0 when a margin is empty). NaNs when there are no pairs.
    """
    n = both + only_first + only_second + neither
    if n == 0:
        return (math.nan, math.nan)
    p1, p2 = (both + only_first) / n, (both + only_second) / n
    l1, u1 = wilson_interval(both + only_first, n)
    l2, u2 = wilson_interval(both + only_second, n)
    margins = (both + only_first) * (only_second + neither) * (both + only_second) * (only_first + neither)
    phi = (both * neither - only_first * only_second) / math.sqrt(margins) if margins else 0.0
    # the interval of p2 - p1: its lower end uses p2's lower and p1's upper distance, and vice versa
    below = math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2))
    above = math.sqrt(max(0.0, (u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2))
    difference = p2 - p1
    return (max(-1.0, difference - below), min(1.0, difference + above))


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar p: the discordant pairs against a fair coin (1.0 without discordant pairs)."""
    from scipy.stats import binomtest

    discordant = only_first + only_second
    return float(binomtest(only_second, discordant, 0.5).pvalue) if discordant else 1.0


def holm(p_values: Sequence[float] | pd.Series) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaNs stay NaN and do not count in the family)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        out[finite] = multipletests(p[finite], alpha=0.05, method="holm")[1]
    return out


def pair_summary(first: pd.Series, second: pd.Series) -> dict[str, float | int]:
    """The :data:`PAIR_COUNTS` of two aligned boolean series (one pair per position)."""
    x, y = first.astype(bool).to_numpy(), second.astype(bool).to_numpy()
    both, only_x, only_y = int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum())
    neither = int((~x & ~y).sum())
    n = len(x)
    low, high = paired_difference_interval(both, only_x, only_y, neither)
    return {"n_pairs": n, "accuracy_first": (both + only_x) / n if n else math.nan,
            "accuracy_second": (both + only_y) / n if n else math.nan, "both_correct": both, "only_first": only_x,
            "only_second": only_y, "both_wrong": neither, "difference": (only_y - only_x) / n if n else math.nan,
            "diff_low": low, "diff_high": high, "mcnemar_p": mcnemar_exact(only_x, only_y)}


def _with_holm(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["p_holm"] = holm(frame["mcnemar_p"]) if not frame.empty else pd.Series(dtype=float)
    return frame


def _verdicts(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    rows = table[(table["kind"] == kind) & table["correct"].notna()]
    return rows[~rows["suite"].astype(bool)] if "suite" in rows else rows


# --------------------------------------------------------------------------- test items vs their controls

CONTROL_COLUMNS = CELL_DEPTH + ["n_test", "accuracy_test", "ci_low_test", "ci_high_test", "n_control",
                                "accuracy_control", "ci_low_control", "ci_high_control", "both_correct",
                                "only_test", "only_control", "both_wrong", "gap", "gap_low", "gap_high", "mcnemar_p",
                                "p_holm"]


def control_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Each test item beside its own control, per model x task x construction x depth of the test item.

    Only pairs where both have a verdict count (``n_test`` = ``n_control`` = pairs). ``gap`` is
    control accuracy minus test accuracy (positive: the deep items lose what their controls keep),
    with Newcombe's paired interval (``gap_low``, ``gap_high``), the exact McNemar p and Holm's
    correction over every row (depths and curves) of the table.
    """
    tests = _verdicts(table, "test")
    controls = _verdicts(table, "control")
    if tests.empty or controls.empty:
        return pd.DataFrame(columns=CONTROL_COLUMNS)
    merged = controls[CELL + ["source", "control_of", "correct"]].merge(
        tests[CELL + ["source", "item_id", "depth", "correct"]], left_on=CELL + ["source", "control_of"],
        right_on=CELL + ["source", "item_id"], suffixes=("_control", "_test"))
    rows = []
    for key, group in merged.groupby(CELL_DEPTH, sort=True):
        s = pair_summary(group["correct_test"], group["correct_control"])
        n = s["n_pairs"]
        k_test, k_control = s["both_correct"] + s["only_first"], s["both_correct"] + s["only_second"]
        rows.append({**dict(zip(CELL_DEPTH, key)), "n_test": n, "accuracy_test": s["accuracy_first"],
                     **dict(zip(("ci_low_test", "ci_high_test"), wilson_interval(k_test, n))),
                     "n_control": n, "accuracy_control": s["accuracy_second"],
                     **dict(zip(("ci_low_control", "ci_high_control"), wilson_interval(k_control, n))),
                     "both_correct": s["both_correct"], "only_test": s["only_first"],
                     "only_control": s["only_second"], "both_wrong": s["both_wrong"], "gap": s["difference"],
                     "gap_low": s["diff_low"], "gap_high": s["diff_high"], "mcnemar_p": s["mcnemar_p"]})
    return _with_holm(rows, CONTROL_COLUMNS[:-1])


# --------------------------------------------------------------------------- depth d vs the set's shallowest depth

DEPTH_PAIR_COLUMNS = CELL_DEPTH + ["base_depth"] + PAIR_COUNTS + ["p_holm"]


def _condition_keys(rows: pd.DataFrame) -> list[str]:
    """One text key per row for its condition; no attractor (e.g. at depth 0) counts as ``match`` (no conflict)."""
    def text(value) -> str:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)

    return [f"{text(c)}\x1f{text(a) or 'match'}\x1f{text(t)}"
            for c, a, t in zip(rows["controller"], rows["attractor_condition"], rows["pair_type"])]


def depth_pairs(table: pd.DataFrame) -> pd.DataFrame:
    """Within each set (ladder): the item at depth d beside the same set's item at its shallowest depth.

    Pairs share set and condition (see the module docstring for baselines without attractors).
    ``difference`` is accuracy at depth d minus accuracy at ``base_depth`` over the same sets
    (negative: the same frames lose accuracy when embedded deeper). Empty when no set spans
    two depths (items drawn independently per depth).
    """
    tests = _verdicts(table, "test")
    tests = tests[tests["set_id"].notna()]
    if tests.empty:
        return pd.DataFrame(columns=DEPTH_PAIR_COLUMNS)
    tests = tests.assign(_cond=_condition_keys(tests))
    base_depth = tests.groupby(["source", "set_id"])["depth"].transform("min")
    base = tests[tests["depth"] == base_depth]
    deep = tests[tests["depth"] > base_depth]
    if deep.empty:
        return pd.DataFrame(columns=DEPTH_PAIR_COLUMNS)
    merged = deep[CELL + ["source", "set_id", "_cond", "depth", "correct"]].merge(
        base[CELL + ["source", "set_id", "_cond", "depth", "correct"]], on=CELL + ["source", "set_id", "_cond"],
        suffixes=("", "_base"))
    rows = []
    for (model, task, construction, depth, base), group in merged.groupby(CELL_DEPTH + ["depth_base"], sort=True):
        rows.append({"model": model, "task": task, "construction": construction, "depth": int(depth),
                     "base_depth": int(base), **pair_summary(group["correct_base"], group["correct"])})
    return _with_holm(rows, DEPTH_PAIR_COLUMNS[:-1])


# --------------------------------------------------------------------------- one condition factor at a time

CONTRAST_COLUMNS = CELL_DEPTH + ["factor", "first", "second"] + PAIR_COUNTS + ["p_holm"]


def condition_contrasts(table: pd.DataFrame) -> pd.DataFrame:
    """Items of one set and depth that differ in one condition factor only, paired.

    ``attractor_condition``: ``mismatch`` (second) vs ``match`` (first): a negative difference is
    attraction (a noun of the other number between controller and target costs accuracy).
    ``controller``: its two values in sorted order (e.g. ``pl`` first, ``sg`` second). A factor
    with other than two values in a cell is left out.
    """
    tests = _verdicts(table, "test")
    tests = tests[tests["set_id"].notna()]
    rows = []
    for factor, levels in CONDITION_FACTORS:
        others = [f for f in ("controller", "attractor_condition", "pair_type") if f != factor]
        rows_f = tests[tests[factor].notna()]
        if rows_f.empty:
            continue
        rows_f = rows_f.assign(**{f"_{f}": rows_f[f].fillna("").astype(str) for f in others})
        for key, cell in rows_f.groupby(CELL_DEPTH, sort=True):
            values = sorted(cell[factor].unique())
            first, second = levels if levels else (values + [None, None])[:2]
            if set(values) != {first, second}:
                continue
            on = ["source", "set_id"] + [f"_{f}" for f in others]
            a = cell[cell[factor] == first][on + ["correct"]]
            b = cell[cell[factor] == second][on + ["correct"]]
            merged = a.merge(b, on=on, suffixes=("_first", "_second"))
            if merged.empty:
                continue
            rows.append({**dict(zip(CELL_DEPTH, key)), "factor": factor, "first": first, "second": second,
                         **pair_summary(merged["correct_first"], merged["correct_second"])})
    return _with_holm(rows, CONTRAST_COLUMNS[:-1])


__all__ = ["CONDITION_FACTORS", "CONTRAST_COLUMNS", "CONTROL_COLUMNS", "DEPTH_PAIR_COLUMNS", "PAIR_COUNTS",
           "condition_contrasts", "control_comparison", "depth_pairs", "holm", "mcnemar_exact", "pair_summary",
           "paired_difference_interval"]
