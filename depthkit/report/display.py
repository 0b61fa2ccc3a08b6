"""The report's tables as shown: numbers formatted as text, one readable frame per analysis table.

Pure formatting: each ``display_*`` takes an analysis table and returns a frame of text cells;
:class:`Shown` says which columns are labels and which CSV the table comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..analysis import FIRTH_METHOD, GEE_METHOD, LOGIT_METHOD, MIXED_METHOD


def missing(value: Any) -> bool:
    """Whether a cell holds no value (None, NaN, NA); lists and other non-scalars are values."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other non-scalars
        return False


def fmt_num(value: Any, digits: int = 2) -> str:
    """``0.83``; a dash when missing."""
    return "—" if missing(value) else f"{float(value):.{digits}f}"


def fmt_ci(value: Any, low: Any, high: Any, digits: int = 2) -> str:
    """``0.83 [0.61, 0.94]``: a value and its interval; a dash when missing."""
    if missing(value):
        return "—"
    return f"{float(value):.{digits}f} [{float(low):.{digits}f}, {float(high):.{digits}f}]"


def fmt_p(value: Any) -> str:
    """A p-value: ``< 0.001`` or three decimals; a dash when missing."""
    if missing(value):
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_count(value: Any) -> str:
    """A whole number; a dash when missing."""
    return "—" if missing(value) else str(int(value))


@dataclass(frozen=True)
class Shown:
    """A table as the report shows it: text cells, which columns are labels, the CSV it comes from."""

    caption: str
    frame: pd.DataFrame | None
    labels: tuple[str, ...]
    csv: str | None = None


LABELS = ("model", "task", "construction", "method", "term", "check", "task A", "task B", "note")


def display_accuracy(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Depth rows x (model · task) columns, each cell 'accuracy [CI] · n'."""
    if accuracy.empty:
        return pd.DataFrame()
    acc = accuracy.copy()
    acc["series"] = acc["model"] + " · " + acc["task"]

    def cell(r) -> str:
        if r["n"] == 0:
            return "no verdicts"
        text = f"{fmt_ci(r['accuracy'], r['ci_low'], r['ci_high'])} · n {int(r['n'])}"
        return text + (f" ({int(r['n_no_verdict'])} no verdict)" if r["n_no_verdict"] else "")

    acc["cell"] = acc.apply(cell, axis=1)
    wide = acc.pivot_table(index=["construction", "depth"], columns="series", values="cell", aggfunc="first")
    wide = wide.reset_index().fillna("—")
    wide.columns.name = None
    return wide


def display_breaking(breaking: pd.DataFrame, threshold: float) -> pd.DataFrame:
    rows = []
    for r in breaking.itertuples():
        found = not missing(r.breaking_depth)
        rows.append({"model": r.model, "task": r.task, "construction": r.construction,
                     f"breaking depth (CI below {threshold:g})": (
                         f"{int(r.breaking_depth)} (already at the shallowest depth)"
                         if found and int(r.breaking_depth) == r.min_depth
                         else str(int(r.breaking_depth)) if found
                         else "no verdicts" if not r.n_verdicts else f"not reached (tested to {r.max_depth})"),
                     "accuracy there": fmt_num(r.accuracy) if found else "—",
                     "CI upper bound": fmt_num(r.ci_high) if found else "—"})
    return pd.DataFrame(rows)


def display_controls(controls: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth,
        "deep items": f"{fmt_ci(r.accuracy_test, r.ci_low_test, r.ci_high_test)} · n {r.n_test}",
        "matched depth-0 controls":
            f"{fmt_ci(r.accuracy_control, r.ci_low_control, r.ci_high_control)} · n {r.n_control}",
        "gap (controls − deep)": fmt_num(r.gap)} for r in controls.itertuples()])


def display_regression(regression: pd.DataFrame, depth_only: bool) -> pd.DataFrame:
    rows = []
    frame = regression[regression["term"] == "depth"] if depth_only else regression
    order = {LOGIT_METHOD: 0, FIRTH_METHOD: 0, MIXED_METHOD: 1, GEE_METHOD: 2}  # plain fit, then the grouped ones
    frame = frame.assign(_order=frame["method"].map(lambda m: order.get(m, len(order))))
    frame = frame.sort_values(["model", "task", "construction", "_order"], kind="stable")
    for r in frame.itertuples():
        fitted = r.status not in ("skipped", "failed")
        row = {"model": r.model, "task": r.task, "construction": r.construction, "method": r.method}
        if not depth_only:
            row["term"] = r.term
        row.update({
            "odds ratio per unit [95% CI]":
                f"{r.odds_ratio:.2f} [{math.exp(r.ci_low):.2f}, {math.exp(r.ci_high):.2f}]" if fitted else "—",
            "coef (log-odds)": fmt_ci(r.coef, r.ci_low, r.ci_high) if fitted else "—",
            "p": fmt_p(r.p) if fitted else "—",
            "n": fmt_count(r.n), "frames": fmt_count(r.n_groups),
            "note": r.status if missing(r.note) or not str(r.note) else str(r.note),
        })
        rows.append(row)
    return pd.DataFrame(rows)


def display_verified(verified: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth,
        "all items": f"{fmt_ci(r.accuracy_all, r.ci_low_all, r.ci_high_all)} · n {r.n_all}",
        "verified only": (f"{fmt_ci(r.accuracy_verified, r.ci_low_verified, r.ci_high_verified)} · n {r.n_verified}"
                          if r.n_verified else "none verified"),
        "unverified items": r.n_unverified_items} for r in verified.itertuples()])


# what each verification check is called in tables and figures
CHECK_NAMES = {"grammar": "grammar chart parse", "spacy": "spaCy (dependency)", "benepar": "benepar (constituency)"}


def display_parsers(parsers: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "check": CHECK_NAMES.get(r.check, r.check), "construction": r.construction, "depth": r.depth,
        "agreement [95% CI]": fmt_ci(r.agreement, r.ci_low, r.ci_high) if r.n else "—",
        "decided": r.n, "not run": r.n_not_run, "error": r.n_error} for r in parsers.itertuples()])


def display_critical(critical: pd.DataFrame) -> pd.DataFrame:
    with_target = "share_positive_target" in critical and critical["share_positive_target"].notna().any()
    rows = []
    for r in critical.itertuples():
        row = {"model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth, "n": r.n,
               "median [IQR] (nats)": f"{r.median:.2f} [{r.q25:.2f}, {r.q75:.2f}]", "mean": fmt_num(r.mean),
               "critical region prefers good": fmt_num(r.share_positive),
               "whole-sentence sum prefers good": fmt_num(r.share_positive_sum)}
        if with_target:
            row["target words alone prefer good"] = fmt_num(r.share_positive_target)
        rows.append(row)
    return pd.DataFrame(rows)


def display_glance(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction,
        "accuracy, shallowest": f"{r.accuracy_first:.2f} (depth {r.first_depth})",
        "accuracy, deepest": f"{r.accuracy_last:.2f} (depth {r.last_depth})",
        "odds ratio per level [95% CI]":
            "—" if missing(r.odds_ratio) else f"{r.odds_ratio:.2f} [{r.or_low:.2f}, {r.or_high:.2f}]",
        "trend": r.trend,
        "breaking depth": "—" if missing(r.breaking_depth) else str(int(r.breaking_depth)),
        "control gap, deepest": fmt_num(r.control_gap_last)} for r in table.itertuples()])


def display_bias(bias: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "pairs": r.n,
        "accepts grammatical": fmt_num(r.accept_good), "accepts ungrammatical": fmt_num(r.accept_bad)}
        for r in bias.itertuples()])


def display_tasks(tasks: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "construction": r.construction, "depth": r.depth, "task A": r.task_a, "task B": r.task_b,
        "items": r.n_shared, "accuracy A": fmt_num(r.accuracy_a), "accuracy B": fmt_num(r.accuracy_b),
        "both right": r.both_correct, "only A": r.only_a, "only B": r.only_b, "both wrong": r.both_wrong,
        "agreement": fmt_num(r.agreement), "McNemar p": fmt_p(r.mcnemar_p)} for r in tasks.itertuples()])

