"""Comparisons beside the accuracy curve: verified-only, parser agreement, critical regions, and two
tasks on the same items (controls are in :mod:`.paired`, answer bias in :mod:`.prompted`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import combinations

import pandas as pd

from ..schema import VerificationRecord
from .intervals import proportions, wilson_interval
from .tables import CELL_DEPTH, depth_rows

CHECKS = ("grammar", "spacy", "benepar")


def verified_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Accuracy on all test items beside accuracy on the verified ones (empty without verification)."""
    columns = CELL_DEPTH + ["n_all", "accuracy_all", "ci_low_all", "ci_high_all",
                            "n_verified", "accuracy_verified", "ci_low_verified", "ci_high_verified",
                            "n_unverified_items"]
    tests = depth_rows(table)
    tests = tests[tests["kind"] == "test"]
    if tests.empty or tests["verified"].isna().all():
        return pd.DataFrame(columns=columns)
    keep = ["n", "accuracy", "ci_low", "ci_high"]
    everything = proportions(tests, CELL_DEPTH)[CELL_DEPTH + keep]
    verified_rows = tests[tests["verified"] == True]  # noqa: E712 - column holds True/False/None
    verified = proportions(verified_rows, CELL_DEPTH)[CELL_DEPTH + keep] if not verified_rows.empty else \
        pd.DataFrame(columns=CELL_DEPTH + keep)
    merged = everything.merge(verified, on=CELL_DEPTH, how="left", suffixes=("_all", "_verified"))
    merged["n_verified"] = merged["n_verified"].fillna(0).astype(int)
    unverified = tests[tests["verified"] != True].groupby(CELL_DEPTH).size()  # noqa: E712
    merged["n_unverified_items"] = [int(unverified.get(tuple(r[c] for c in CELL_DEPTH), 0))
                                    for _, r in merged.iterrows()]
    return merged[columns]


# --------------------------------------------------------------------------- parsers

def verification_table(records: Iterable[VerificationRecord]) -> pd.DataFrame:
    """One row per item and check (``grammar``, ``spacy``, ``benepar``): its status, depth and kind."""
    rows = [{"item_id": record.item_id, "construction": record.construction or "", "depth": record.depth,
             "kind": record.kind, "check": check, "status": getattr(record, check).status, "verified": record.verified}
            for record in records for check in CHECKS]
    return pd.DataFrame(rows, columns=["item_id", "construction", "depth", "kind", "check", "status", "verified"])


def parser_agreement(checks: pd.DataFrame) -> pd.DataFrame:
    """Per check, construction and depth: how often the parse agreed with the intended tree.

    ``n`` counts items the check decided (``ok`` or ``failed``); ``not_run`` and ``error`` are
    counted beside it, not in it. Test items only.
    """
    columns = ["check", "construction", "depth", "n", "n_ok", "agreement", "ci_low", "ci_high",
               "n_not_run", "n_error"]
    rows = checks[checks["kind"] == "test"] if not checks.empty else checks
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for (check, construction, depth), group in rows.groupby(["check", "construction", "depth"], sort=True):
        status = group["status"]
        n_ok = int((status == "ok").sum())
        n = n_ok + int((status == "failed").sum())
        lo, hi = wilson_interval(n_ok, n)
        out.append({"check": check, "construction": construction, "depth": int(depth), "n": n, "n_ok": n_ok,
                    "agreement": n_ok / n if n else math.nan, "ci_low": lo, "ci_high": hi,
                    "n_not_run": int((status == "not_run").sum()), "n_error": int((status == "error").sum())})
    order = {c: i for i, c in enumerate(CHECKS)}
    result = pd.DataFrame(out, columns=columns)
    return result.sort_values(["check", "construction", "depth"],
                              key=lambda s: s.map(order) if s.name == "check" else s,
                              kind="stable").reset_index(drop=True)


def check_available(checks: pd.DataFrame, check: str) -> bool | None:
    """Whether ``check`` decided any item (None when there is no verification at all)."""
    if checks.empty:
        return None
    rows = checks[checks["check"] == check]
    return bool(rows["status"].isin(["ok", "failed"]).any())


# --------------------------------------------------------------------------- scores and tasks

def critical_differences(table: pd.DataFrame) -> pd.DataFrame:
    """Summary of good_critical - bad_critical (nats) per cell and depth, test items with scores.

    ``share_positive`` is the share of pairs the critical region gets right; ``share_positive_sum``
    the same for whole-sentence sums. For depthkit's equal-length feature-flip pairs, whose critical
    region runs from the target to the end, good and bad share the prefix, so the two are equal.
    ``share_positive_target`` uses the target words alone (no spillover; NaN without target scores).
    """
    columns = CELL_DEPTH + ["n", "mean", "median", "q25", "q75", "share_positive", "share_positive_sum",
                            "share_positive_target"]
    rows = table[(table["kind"] == "test") & table["crit_diff"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for key, group in rows.groupby(CELL_DEPTH, sort=True):
        d = group["crit_diff"]
        s = group["sum_diff"].dropna()
        t = group["target_diff"].dropna() if "target_diff" in group else pd.Series(dtype=float)
        out.append(dict(zip(CELL_DEPTH, key), n=int(d.size), mean=float(d.mean()), median=float(d.median()),
                        q25=float(d.quantile(0.25)), q75=float(d.quantile(0.75)),
                        share_positive=float((d > 0).mean()),
                        share_positive_sum=float((s > 0).mean()) if s.size else math.nan,
                        share_positive_target=float((t > 0).mean()) if t.size else math.nan))
    return pd.DataFrame(out, columns=columns)


def task_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Two tasks on the very same items (same model, same generated set), per depth.

    Counts of both right / only one right / both wrong over items with a verdict from both
    tasks, the agreement rate, and an exact McNemar p-value on the discordant items.
    ``absolute_a`` / ``absolute_b``: the same items' accuracy under the task's answer-following
    verdict (``scores.absolute_correct``; NaN for a task that does not write one), shown beside
    the lead verdict.
    """
    from .paired import mcnemar_exact

    columns = ["model", "construction", "depth", "task_a", "task_b", "n_shared", "accuracy_a", "accuracy_b",
               "both_correct", "only_a", "only_b", "both_wrong", "agreement", "mcnemar_p", "absolute_a", "absolute_b"]
    tests = table[(table["kind"] == "test") & table["correct"].notna()]
    out = []
    for (model, construction), group in tests.groupby(["model", "construction"], sort=True):
        tasks = sorted(group["task"].unique())
        if len(tasks) < 2:
            continue
        index = ["source", "item_id", "depth"]
        wide = group.pivot_table(index=index, columns="task", values="correct", aggfunc="first")
        absolute = group.pivot_table(index=index, columns="task", values="absolute_correct", aggfunc="first",
                                     dropna=False)
        for a, b in combinations(tasks, 2):
            pair = wide[[a, b]].dropna()
            for depth, cell in pair.reset_index().groupby("depth", sort=True):
                x, y = cell[a].astype(bool), cell[b].astype(bool)
                both, only_a, only_b = int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum())
                wrong = int((~x & ~y).sum())
                n = len(cell)
                keys = pd.MultiIndex.from_frame(cell[index])
                out.append({"model": model, "construction": construction, "depth": int(depth), "task_a": a,
                            "task_b": b, "n_shared": n, "accuracy_a": float(x.mean()), "accuracy_b": float(y.mean()),
                            "both_correct": both, "only_a": only_a, "only_b": only_b, "both_wrong": wrong,
                            "agreement": (both + wrong) / n, "mcnemar_p": mcnemar_exact(only_a, only_b),
                            "absolute_a": _mean_at(absolute, a, keys), "absolute_b": _mean_at(absolute, b, keys)})
    return pd.DataFrame(out, columns=columns)


def _mean_at(wide: pd.DataFrame, column: str, keys: pd.MultiIndex) -> float:
    if column not in wide:
        return math.nan
    values = wide[column].reindex(keys).dropna()
    return float(values.mean()) if len(values) else math.nan
