"""Accuracy-versus-depth analysis: pure functions over pandas tables.

The input is one row per judgment (:func:`judgment_table` joins ``judgments.jsonl`` with the
items and their verification); every other function takes that table (or another function's
output) and returns a new table. Nothing here reads files, draws or prints.

Conventions, stated once:

* A judgment whose ``correct`` is null (no verdict possible) is left out of ``n`` and counted
  in ``n_no_verdict``.
* Intervals on proportions are Wilson 95% score intervals.
* Controls (depth-0 items matched to a test item in word count and, as far as the grammar
  allows, subject-verb distance) are compared at the depth of the test item they match
  (``matched_depth``).
* Regressions are fitted per model x task x construction on test items *and* controls (controls
  enter at their real depth, 0): the controls are what separates depth from length.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

Z95 = 1.959963984540054
CHANCE_DEFAULT = 0.5
# Guessing accuracy per task. `judgment` asks yes/no about each member and is right only when both
# answers are, so a coin scores 0.25 (and a model that always says the same word scores 0).
CHANCE_BY_TASK = {"minimal-pair": 0.5, "forced-choice": 0.5, "judgment": 0.25}
# Items without an ungrammatical twin (a grammar without `pair:`): `judgment` asks about one member only.
CHANCE_ONE_MEMBER = {"judgment": 0.5}
CELL = ["model", "task", "construction"]
CELL_DEPTH = CELL + ["depth"]
COVARIATES = ("n_words", "sv_distance")
CHECKS = ("grammar", "spacy", "benepar")
MIN_ROWS_LOGIT = 10
MIN_ROWS_MIXED = 20
MIN_FRAMES_MIXED = 5
SEPARATION_SE = 1e3  # a standard error this large means the likelihood has no finite maximum


# --------------------------------------------------------------------------- intervals

def wilson_interval(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes out of ``n`` (NaNs when ``n`` is 0)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


# --------------------------------------------------------------------------- the joined table

def judgment_table(judgments: Iterable[Mapping[str, Any]],
                   items: Mapping[tuple[str, str], Mapping[str, Any]],
                   verification: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """One row per judgment, joined with its item and verification record.

    ``judgments`` are ``judgments.jsonl`` records, each with two extra keys the loader adds:
    ``run`` (the run folder) and ``source`` (the generated folder its items came from).
    ``items`` and ``verification`` are keyed by ``(source, item_id)``.
    """
    verification = verification or {}
    rows = []
    for j in judgments:
        source = j.get("source", "")
        key = (source, j["item_id"])
        item = items.get(key, {})
        metrics = item.get("metrics") or {}
        scores = j.get("scores") or {}
        check = verification.get(key)
        correct = j.get("correct")
        rows.append({
            "run": j.get("run", ""),
            "source": source,
            "item_id": j["item_id"],
            "model": str(j.get("model", "")),
            "task": str(j.get("task", "")),
            "construction": str(j.get("construction") or item.get("construction") or item.get("grammar") or ""),
            "grammar": str(item.get("grammar") or ""),
            "depth": int(j["depth"] if j.get("depth") is not None else item.get("depth", 0)),
            "kind": str(j.get("kind") or item.get("kind") or "test"),
            "control_of": j.get("control_of") if j.get("control_of") is not None else item.get("control_of"),
            "correct": math.nan if correct is None else float(bool(correct)),
            "verdict_by": j.get("verdict_by"),
            "crit_diff": _difference(scores, "good_critical", "bad_critical"),
            "sum_diff": _difference(scores, "good_sum", "bad_sum"),
            "target_diff": _difference(scores, "good_target", "bad_target"),
            "good_member_correct": _flag(scores.get("good_correct")),
            "bad_member_correct": _flag(scores.get("bad_correct")),
            "n_words": _number(metrics.get("n_words")),
            "sv_distance": _number(metrics.get("sv_distance")),
            "attractors": _number(metrics.get("attractors")),
            "frame": item.get("frame"),
            "verified": None if check is None or check.get("verified") is None else bool(check["verified"]),
            "paired": bool(item.get("bad")) if item else True,
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
        if item.get("kind", "test") == "test" and "depth" in item:
            depth_of.setdefault(key, int(item["depth"]))
    table["matched_depth"] = [
        depth_of.get((r.source, r.control_of), r.depth) if r.kind == "control" else r.depth
        for r in table.itertuples()
    ]
    return table


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

def _proportions(frame: pd.DataFrame, by: list[str], value: str = "correct") -> pd.DataFrame:
    grouped = frame.groupby(by, dropna=False, sort=True)[value]
    out = pd.DataFrame({
        "n": grouped.count(),
        "n_correct": grouped.sum(min_count=0),
        "n_no_verdict": grouped.apply(lambda s: int(s.isna().sum())),
    }).reset_index()
    out["n"] = out["n"].astype(int)
    out["n_correct"] = out["n_correct"].fillna(0).astype(int)
    out["accuracy"] = [k / n if n else math.nan for k, n in zip(out["n_correct"], out["n"])]
    bounds = [wilson_interval(k, n) for k, n in zip(out["n_correct"], out["n"])]
    out["ci_low"] = [b[0] for b in bounds]
    out["ci_high"] = [b[1] for b in bounds]
    return out


def accuracy_table(table: pd.DataFrame, kind: str = "test", chance: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Accuracy per model x task x construction x depth: n, accuracy, Wilson 95% interval, chance.

    ``kind="control"`` groups controls by the depth of the test item they match.
    """
    rows = table[table["kind"] == kind]
    columns = CELL_DEPTH + ["n", "n_correct", "accuracy", "ci_low", "ci_high", "n_no_verdict", "chance"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    if kind == "control":
        rows = rows.assign(depth=rows["matched_depth"])
    out = _proportions(rows, CELL_DEPTH)
    cells = cell_chance(rows, chance)
    out["chance"] = [cells.get(tuple(r[c] for c in CELL), chance_level(r["task"], chance))
                     for _, r in out.iterrows()]
    return out[columns]


def chance_level(task: str, chance: Mapping[str, float] | None = None, paired: bool = True) -> float:
    """Accuracy of guessing for ``task``: given in ``chance``, else :data:`CHANCE_BY_TASK`, else 0.5.

    ``paired=False`` is for items without a bad member: ``judgment`` then asks about one sentence (0.5).
    """
    if chance and task in chance:
        return float(chance[task])
    if not paired and task in CHANCE_ONE_MEMBER:
        return CHANCE_ONE_MEMBER[task]
    return CHANCE_BY_TASK.get(task, CHANCE_DEFAULT)


def cell_chance(table: pd.DataFrame, chance: Mapping[str, float] | None = None,
                by: tuple[str, ...] = tuple(CELL)) -> dict[tuple, float]:
    """Chance per group of ``by``: the mean guessing accuracy of its judgments (paired or not)."""
    if table.empty:
        return {}
    paired = table["paired"] if "paired" in table else pd.Series(True, index=table.index)
    guess = [chance_level(t, chance, bool(p)) for t, p in zip(table["task"], paired)]
    means = pd.Series(guess, index=table.index).groupby([table[c] for c in by], sort=True).mean()
    return {(k if isinstance(k, tuple) else (k,)): float(v) for k, v in means.items()}


def control_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Test items beside the length-matched controls made for them, per depth of the test items."""
    tests = accuracy_table(table, "test")
    controls = accuracy_table(table, "control")
    columns = CELL_DEPTH + ["n_test", "accuracy_test", "ci_low_test", "ci_high_test",
                            "n_control", "accuracy_control", "ci_low_control", "ci_high_control", "gap"]
    if controls.empty or tests.empty:
        return pd.DataFrame(columns=columns)
    keep = ["n", "accuracy", "ci_low", "ci_high"]
    merged = tests[CELL_DEPTH + keep].merge(controls[CELL_DEPTH + keep], on=CELL_DEPTH, how="inner",
                                            suffixes=("_test", "_control"))
    merged["gap"] = merged["accuracy_control"] - merged["accuracy_test"]
    return merged[columns]


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


def verified_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Accuracy on all test items beside accuracy on the verified ones (empty without verification)."""
    columns = CELL_DEPTH + ["n_all", "accuracy_all", "ci_low_all", "ci_high_all",
                            "n_verified", "accuracy_verified", "ci_low_verified", "ci_high_verified",
                            "n_unverified_items"]
    tests = table[table["kind"] == "test"]
    if tests.empty or tests["verified"].isna().all():
        return pd.DataFrame(columns=columns)
    keep = ["n", "accuracy", "ci_low", "ci_high"]
    everything = _proportions(tests, CELL_DEPTH)[CELL_DEPTH + keep]
    verified_rows = tests[tests["verified"] == True]  # noqa: E712 - column holds True/False/None
    verified = _proportions(verified_rows, CELL_DEPTH)[CELL_DEPTH + keep] if not verified_rows.empty else \
        pd.DataFrame(columns=CELL_DEPTH + keep)
    merged = everything.merge(verified, on=CELL_DEPTH, how="left", suffixes=("_all", "_verified"))
    merged["n_verified"] = merged["n_verified"].fillna(0).astype(int)
    unverified = tests[tests["verified"] != True].groupby(CELL_DEPTH).size()  # noqa: E712
    merged["n_unverified_items"] = [int(unverified.get(tuple(r[c] for c in CELL_DEPTH), 0))
                                    for _, r in merged.iterrows()]
    return merged[columns]


# --------------------------------------------------------------------------- parsers

def verification_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per item and check (``grammar``, ``spacy``, ``benepar``): its status, depth and kind."""
    rows = []
    for record in records:
        for check in CHECKS:
            facts = record.get(check)
            if isinstance(facts, Mapping) and "status" in facts:
                rows.append({"source": record.get("source", ""), "item_id": record.get("item_id"),
                             "construction": str(record.get("construction") or ""),
                             "depth": int(record.get("depth") or 0), "kind": record.get("kind") or "test",
                             "check": check, "status": str(facts.get("status")),
                             "verified": record.get("verified")})
    return pd.DataFrame(rows, columns=["source", "item_id", "construction", "depth", "kind", "check",
                                       "status", "verified"])


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
    """
    from scipy.stats import binomtest

    columns = ["model", "construction", "depth", "task_a", "task_b", "n_shared", "accuracy_a", "accuracy_b",
               "both_correct", "only_a", "only_b", "both_wrong", "agreement", "mcnemar_p"]
    tests = table[(table["kind"] == "test") & table["correct"].notna()]
    out = []
    for (model, construction), group in tests.groupby(["model", "construction"], sort=True):
        tasks = sorted(group["task"].unique())
        if len(tasks) < 2:
            continue
        wide = group.pivot_table(index=["source", "item_id", "depth"], columns="task", values="correct",
                                 aggfunc="first")
        for a, b in combinations(tasks, 2):
            pair = wide[[a, b]].dropna().reset_index()
            for depth, cell in pair.groupby("depth", sort=True):
                x, y = cell[a].astype(bool), cell[b].astype(bool)
                both, only_a, only_b = int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum())
                wrong = int((~x & ~y).sum())
                n = len(cell)
                discordant = only_a + only_b
                p = binomtest(only_a, discordant, 0.5).pvalue if discordant else 1.0
                out.append({"model": model, "construction": construction, "depth": int(depth), "task_a": a,
                            "task_b": b, "n_shared": n, "accuracy_a": float(x.mean()), "accuracy_b": float(y.mean()),
                            "both_correct": both, "only_a": only_a, "only_b": only_b, "both_wrong": wrong,
                            "agreement": (both + wrong) / n, "mcnemar_p": float(p)})
    return pd.DataFrame(out, columns=columns)


def answer_bias(table: pd.DataFrame) -> pd.DataFrame:
    """For prompted tasks judging each member alone: how often the model accepts good and bad sentences.

    ``accept_good`` is the share of grammatical members judged acceptable, ``accept_bad`` the share of
    ungrammatical ones; both high (or both low) means the answers follow a bias, not the grammar.
    """
    columns = ["model", "task", "construction", "n", "accept_good", "accept_bad"]
    rows = table[(table["kind"] == "test") & table["good_member_correct"].notna() & table["bad_member_correct"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = []
    for key, group in rows.groupby(CELL, sort=True):
        out.append(dict(zip(CELL, key), n=len(group), accept_good=float(group["good_member_correct"].mean()),
                        accept_bad=float(1 - group["bad_member_correct"].mean())))
    return pd.DataFrame(out, columns=columns)


# --------------------------------------------------------------------------- regressions

SLOPE_COLUMNS = CELL + ["method", "term", "coef", "se", "ci_low", "ci_high", "odds_ratio", "p", "n",
                        "n_groups", "status", "note"]


def _design(data: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Covariates usable next to depth, and notes on the ones left out (constant, missing, collinear)."""
    notes: list[str] = []
    used: list[str] = []
    for name in COVARIATES:
        column = data[name]
        if column.isna().all():
            continue
        if column.isna().any():
            notes.append(f"{name} left out: missing for some items")
            continue
        if column.nunique() < 2:
            notes.append(f"{name} left out: the same for every item")
            continue
        X = np.column_stack([np.ones(len(data)), data["depth"].to_numpy(float)]
                            + [data[c].to_numpy(float) for c in used + [name]])
        if np.linalg.matrix_rank(X) < X.shape[1]:
            notes.append(f"{name} left out: it is an exact linear function of depth"
                         + (" and " + ", ".join(used) if used else "") + " in these items")
            continue
        used.append(name)
    if "n_words" in used:
        r = np.corrcoef(data["depth"].to_numpy(float), data["n_words"].to_numpy(float))[0, 1]
        if abs(r) > 0.9:
            notes.append(f"depth and n_words are nearly collinear (r = {r:.2f}): the depth slope is uncertain; "
                         "generate with --controls to separate depth from length")
    return used, notes


def _regression_data(group: pd.DataFrame) -> pd.DataFrame:
    return group[group["correct"].notna()].reset_index(drop=True)


def _skip_reason(data: pd.DataFrame, minimum: int) -> str | None:
    if len(data) < minimum:
        return f"skipped: only {len(data)} judgments with a verdict (need at least {minimum})"
    if data["depth"].nunique() < 2:
        return "skipped: only one depth"
    if data["correct"].nunique() < 2:
        which = "correct" if data["correct"].iloc[0] == 1 else "wrong"
        return f"skipped: every answer is {which}, so there is no slope to estimate"
    return None


def firth_logit(X: np.ndarray, y: np.ndarray, max_iter: int = 200,
                tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray, float]:
    """Firth's bias-reduced logistic regression: finite estimates even under perfect separation.

    Returns (coefficients, covariance, penalized log-likelihood).
    """
    beta = np.zeros(X.shape[1])

    def penalized(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        p = 1 / (1 + np.exp(-(X @ b)))
        p = np.clip(p, 1e-12, 1 - 1e-12)
        w = p * (1 - p)
        info = X.T @ (w[:, None] * X)
        sign, logdet = np.linalg.slogdet(info)
        ll = float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * logdet)
        return ll, p, info

    ll, p, info = penalized(beta)
    for _ in range(max_iter):
        inv = np.linalg.pinv(info)
        w = p * (1 - p)
        hat = np.einsum("ij,jk,ik->i", X, inv, X) * w
        step = inv @ (X.T @ (y - p + hat * (0.5 - p)))
        scale = 1.0
        while True:
            candidate = beta + scale * step
            new_ll, new_p, new_info = penalized(candidate)
            if new_ll >= ll - 1e-12 or scale < 1e-6:
                break
            scale /= 2
        converged = np.max(np.abs(candidate - beta)) < tol
        beta, ll, p, info = candidate, new_ll, new_p, new_info
        if converged:
            break
    return beta, np.linalg.pinv(info), ll


def _fit_one(data: pd.DataFrame, covariates: list[str]) -> tuple[str, pd.DataFrame, str]:
    """Fit correct ~ depth + covariates by maximum likelihood, or Firth when the data separate."""
    import statsmodels.api as sm
    from scipy.stats import chi2, norm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

    terms = ["depth"] + covariates
    X = sm.add_constant(data[terms].astype(float), has_constant="add")
    y = data["correct"].to_numpy(float)
    separated = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = sm.GLM(y, X, family=sm.families.Binomial()).fit()
        except PerfectSeparationError:
            separated, fit = True, None
    if fit is not None:
        separated = separated or any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
        separated = separated or not np.all(np.isfinite(fit.bse)) or float(np.max(fit.bse)) > SEPARATION_SE
    if not separated:
        ci = fit.conf_int()
        frame = pd.DataFrame({"term": terms, "coef": fit.params[terms].to_numpy(), "se": fit.bse[terms].to_numpy(),
                              "ci_low": ci.loc[terms, 0].to_numpy(), "ci_high": ci.loc[terms, 1].to_numpy(),
                              "p": fit.pvalues[terms].to_numpy()})
        return "logit", frame, ""
    Xa = X.to_numpy()
    beta, cov, ll_full = firth_logit(Xa, y)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    pvalues = []
    for index in range(1, Xa.shape[1]):  # penalized likelihood-ratio test per term
        _, _, ll_reduced = firth_logit(np.delete(Xa, index, axis=1), y)
        pvalues.append(float(chi2.sf(max(0.0, 2 * (ll_full - ll_reduced)), 1)))
    z = norm.ppf(0.975)
    frame = pd.DataFrame({"term": terms, "coef": beta[1:], "se": se[1:], "ci_low": beta[1:] - z * se[1:],
                          "ci_high": beta[1:] + z * se[1:], "p": pvalues})
    note = ("perfect separation: some maximum-likelihood coefficients are infinite, so these are Firth's "
            "penalized estimates (Wald interval, penalized likelihood-ratio p)")
    return "firth logit", frame, note


def depth_slopes(table: pd.DataFrame) -> pd.DataFrame:
    """Logistic regression of correctness on depth (+ n_words, sv_distance) per model x task x construction.

    Rows hold one term each; ``coef`` is in log-odds per unit (per level of depth, per word),
    ``odds_ratio`` is ``exp(coef)``. Cells that cannot be fitted get one row saying why.
    """
    out: list[dict[str, Any]] = []
    for key, group in table.groupby(CELL, sort=True):
        base = dict(zip(CELL, key))
        data = _regression_data(group)
        reason = _skip_reason(data, MIN_ROWS_LOGIT)
        if reason:
            out.append({**base, "method": "logit", "term": "depth", "n": len(data), "status": "skipped",
                        "note": reason})
            continue
        covariates, notes = _design(data)
        try:
            method, terms, note = _fit_one(data, covariates)
        except (np.linalg.LinAlgError, ValueError) as exc:
            out.append({**base, "method": "logit", "term": "depth", "n": len(data), "status": "failed",
                        "note": f"the fit failed: {exc}"})
            continue
        status = "separation" if method == "firth logit" else "ok"
        note = "; ".join([n for n in [note] + notes if n])
        for row in terms.to_dict("records"):
            out.append({**base, "method": method, **row, "odds_ratio": math.exp(row["coef"]),
                        "n": len(data), "status": status, "note": note})
    return pd.DataFrame(out, columns=SLOPE_COLUMNS)


MIXED_METHOD = "mixed logit (VB), frame intercept"
GEE_METHOD = "GEE logit, frame clusters"


def mixed_slopes(table: pd.DataFrame, slopes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Models with the lexical frame as grouping, where the data allow them; two per cell.

    * ``mixed logit (VB), frame intercept``: a random intercept per frame, fitted by variational
      Bayes (statsmodels ``BinomialBayesMixedGLM``). ``coef`` is the posterior mean (conditional on
      the frame), the interval mean +/- 1.96 posterior SD and ``p`` its normal approximation.
      Mean-field VB ignores posterior correlations, which makes intervals of correlated terms
      far too narrow; fitting on an orthogonalized design and mapping back removes most of that
      (the correlation with the frame intercepts remains, so read the interval as optimistic).
    * ``GEE logit, frame clusters``: population-averaged logistic regression with an
      exchangeable correlation within frames and robust (sandwich) standard errors; its
      interval and p-value hold however the frames differ.

    Cells where grouping is not feasible get one row per method saying why.
    """
    slopes = depth_slopes(table) if slopes is None else slopes
    separated = {tuple(r[c] for c in CELL) for _, r in slopes.iterrows() if r["status"] == "separation"}
    out: list[dict[str, Any]] = []
    for key, group in table.groupby(CELL, sort=True):
        base = dict(zip(CELL, key))
        data = _regression_data(group)
        data = data[data["frame"].notna()].reset_index(drop=True)
        n_frames = int(data["frame"].nunique()) if not data.empty else 0
        reason = _grouping_skip_reason(data, n_frames, tuple(key) in separated)
        if reason:
            for method in (MIXED_METHOD, GEE_METHOD):
                out.append({**base, "method": method, "term": "depth", "n": len(data), "n_groups": n_frames,
                            "status": "skipped", "note": reason})
            continue
        covariates, notes = _design(data)
        terms = ["depth"] + covariates
        for method, fit in ((MIXED_METHOD, _fit_mixed_vb), (GEE_METHOD, _fit_gee)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rows, extra = fit(data, terms)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError, ZeroDivisionError) as exc:
                out.append({**base, "method": method, "term": "depth", "n": len(data), "n_groups": n_frames,
                            "status": "failed", "note": f"the fit failed: {exc}"})
                continue
            note = "; ".join([extra] + notes)
            for row in rows:
                out.append({**base, "method": method, **row, "odds_ratio": math.exp(row["coef"]), "n": len(data),
                            "n_groups": n_frames, "status": "ok", "note": note})
    return pd.DataFrame(out, columns=SLOPE_COLUMNS)


def _grouping_skip_reason(data: pd.DataFrame, n_frames: int, separated: bool) -> str | None:
    reason = _skip_reason(data, MIN_ROWS_MIXED)
    if reason:
        return reason
    if separated:
        return "skipped: perfect separation (see the logistic regression's Firth estimate)"
    if n_frames < MIN_FRAMES_MIXED:
        return f"skipped: only {n_frames} lexical frames (need at least {MIN_FRAMES_MIXED})"
    if data.groupby("frame").size().max() < 2:
        return "skipped: every frame holds a single item, so there is nothing to group"
    return None


def _normal_rows(terms: list[str], mean: np.ndarray, sd: np.ndarray) -> list[dict[str, Any]]:
    from scipy.stats import norm

    return [{"term": t, "coef": float(m), "se": float(s), "ci_low": float(m - Z95 * s), "ci_high": float(m + Z95 * s),
             "p": float(2 * norm.sf(abs(m / s))) if s > 0 else math.nan} for t, m, s in zip(terms, mean, sd)]


def _fit_mixed_vb(data: pd.DataFrame, terms: list[str]) -> tuple[list[dict[str, Any]], str]:
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    X = np.column_stack([np.ones(len(data)), data[terms].to_numpy(float)])
    X[:, 1:] -= X[:, 1:].mean(axis=0)
    # Orthogonal columns (scaled to unit mean square) make the mean-field assumption nearly true.
    Q, R = np.linalg.qr(X)
    scale = math.sqrt(len(data))
    codes, uniques = pd.factorize(data["frame"])
    exog_vc = np.zeros((len(data), len(uniques)))
    exog_vc[np.arange(len(data)), codes] = 1.0
    model = BinomialBayesMixedGLM(data["correct"].to_numpy(float), Q * scale, exog_vc,
                                  ident=np.zeros(len(uniques), dtype=int), fe_p=3.0, vcp_p=1.0)
    # a fixed start (rng=0): without it statsmodels draws the start from fresh OS entropy, so reports differ run to run
    fit = model.fit_vb(fit_method="L-BFGS-B", rng=0)  # BFGS keeps a dense Hessian over every frame: 7x slower
    back = np.linalg.inv(R / scale)
    mean = back @ fit.fe_mean
    sd = np.sqrt(np.diag(back @ np.diag(np.asarray(fit.fe_sd) ** 2) @ back.T))
    frame_sd = float(np.exp(fit.vcp_mean[0]))
    return _normal_rows(terms, mean[1:], sd[1:]), f"frame SD {frame_sd:.2f} (log-odds)"


def _fit_gee(data: pd.DataFrame, terms: list[str]) -> tuple[list[dict[str, Any]], str]:
    import statsmodels.api as sm

    X = sm.add_constant(data[terms].astype(float), has_constant="add")
    codes, _ = pd.factorize(data["frame"])
    fit = sm.GEE(data["correct"].to_numpy(float), X, groups=codes, family=sm.families.Binomial(),
                 cov_struct=sm.cov_struct.Exchangeable()).fit()
    ci = fit.conf_int()
    rows = [{"term": t, "coef": float(fit.params[t]), "se": float(fit.bse[t]), "ci_low": float(ci.loc[t, 0]),
             "ci_high": float(ci.loc[t, 1]), "p": float(fit.pvalues[t])} for t in terms]
    return rows, f"within-frame correlation {float(fit.cov_struct.dep_params):.2f}"


# --------------------------------------------------------------------------- everything at once

@dataclass(frozen=True)
class Analysis:
    """All tables of one report."""

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


def analyze(table: pd.DataFrame, verification_records: Iterable[Mapping[str, Any]] = (), threshold: float = 0.6,
            chance: Mapping[str, float] | None = None, progress: Callable[[str], None] | None = None) -> Analysis:
    """Every table of the report from the joined judgment table and the verification records.

    ``progress``, if given, is called with a short note before each slow step.
    """
    note = progress or (lambda message: None)
    chance = dict(chance or {})
    accuracy = accuracy_table(table, "test", chance)
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
        chance={task: value for (task,), value in cell_chance(tests if not tests.empty else table, chance,
                                                               ("task",)).items()},
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
        slope = _cell_rows(analysis.slopes, key)
        slope = slope[(slope["term"] == "depth") & slope["status"].isin(["ok", "separation"])]
        brk = _cell_rows(analysis.breaking, key)
        ctrl = _cell_rows(analysis.controls, key)
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


def headline(analysis: Analysis) -> list[str]:
    """Two or three sentences over all curves: how many fall with depth, and where they break."""
    table = glance(analysis)
    if table.empty:
        return ["No judgment with a verdict was found."]
    counts = table["trend"].value_counts()
    n = len(table)
    verbs = {"falls": ("falls with depth", "fall with depth"), "no reliable change": ("shows no reliable change",
             "show no reliable change"), "rises": ("rises with depth", "rise with depth"),
             "not fitted": ("could not be fitted", "could not be fitted")}
    parts = [f"{counts[t]} {verbs[t][0] if counts[t] == 1 else verbs[t][1]}" for t in verbs if counts.get(t, 0)]
    lines = [f"Of {n} accuracy-vs-depth curve{'s' if n > 1 else ''} (model x task x construction; logistic regression "
             f"with word count and subject-verb distance held fixed where they vary): {', '.join(parts)}."]
    broken = table[table["breaking_depth"].notna()].sort_values("breaking_depth")
    if broken.empty:
        lines.append(f"No curve has a depth whose whole 95% interval lies below {analysis.threshold:g}.")
    else:
        first = broken.iloc[0]
        lines.append(f"{len(broken)} of {n} break below {analysis.threshold:g} within the depths tested; the earliest: "
                     f"{first.model} on {first.task}, {first.construction}, at depth {int(first.breaking_depth)}.")
    gaps = table["control_gap_last"].dropna()
    if not gaps.empty:
        lines.append(f"At the deepest depth, length-matched controls score on average {gaps.mean():+.2f} above "
                     "the deep "
                     "items they match (positive: depth, not length, costs accuracy).")
    return lines


def _cell_rows(frame: pd.DataFrame, key: tuple) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[(frame[CELL] == pd.Series(dict(zip(CELL, key)))).all(axis=1)]


# --------------------------------------------------------------------------- plain language

def _fmt_ci(acc: float, lo: float, hi: float) -> str:
    return f"{acc:.2f} [{lo:.2f}, {hi:.2f}]"


def summary(analysis: Analysis) -> list[tuple[str, str]]:
    """Plain-language findings as (heading, text): one per curve, then verification, parsers and tasks."""
    out: list[tuple[str, str]] = []
    acc = analysis.accuracy
    for key, group in acc.groupby(CELL, sort=True):
        model, task, construction = key
        if group["n"].sum() == 0:
            n_judged = int(group["n_no_verdict"].sum())
            out.append((f"{model} · {task} · {construction}",
                        f"No verdicts: none of its {n_judged} judgments of test items could be scored right or wrong "
                        "(items without an ungrammatical twin give a minimal-pair or forced-choice task nothing to "
                        "compare), so this curve says nothing about depth."))
            continue
        group = group[group["n"] > 0].sort_values("depth")
        first, last = group.iloc[0], group.iloc[-1]
        text = f"Accuracy {_fmt_ci(first.accuracy, first.ci_low, first.ci_high)} at depth {first.depth} (n = {first.n})"
        if len(group) > 1:
            text += (f", {_fmt_ci(last.accuracy, last.ci_low, last.ci_high)} at depth {last.depth} "
                     f"(n = {last.n}; 95% intervals in brackets).")
        else:
            text += "; only one depth was evaluated."
        text += " " + _slope_sentence(analysis.slopes, key) + _grouped_sentence(analysis.mixed, key)
        brk = analysis.breaking[(analysis.breaking[CELL] == pd.Series(dict(zip(CELL, key)))).all(axis=1)]
        if not brk.empty and pd.notna(brk.iloc[0]["breaking_depth"]):
            at = int(brk.iloc[0]["breaking_depth"])
            if at == int(brk.iloc[0]["min_depth"]):
                text += (f" Its whole interval lies below {analysis.threshold:g} already at depth {at}, the shallowest "
                         "depth tested: there is no working baseline for depth to break.")
            else:
                text += (f" It breaks at depth {at}: the first depth whose whole interval lies below "
                         f"{analysis.threshold:g}.")
        elif not brk.empty:
            text += f" No depth up to {int(last.depth)} has its whole interval below {analysis.threshold:g}."
        chance = float(last["chance"]) if "chance" in last and pd.notna(last["chance"]) else \
            analysis.chance.get(task, CHANCE_DEFAULT)
        if last.ci_high < chance and task == "judgment":
            text += (f" At depth {last.depth} it is below chance ({chance:g}): for prompted judgments this usually "
                     "means an answer bias (e.g. rejecting almost every sentence; see the answer-bias table), not a "
                     "preference for the ungrammatical variant.")
        elif last.ci_high < chance:
            text += (f" At depth {last.depth} it is below chance ({chance:g}): the model systematically prefers "
                     "the ungrammatical variant.")
        elif last.ci_low <= chance:
            text += f" At depth {last.depth} it cannot be told apart from chance ({chance:g})."
        else:
            text += f" At depth {last.depth} it is still above chance ({chance:g})."
        text += _control_sentence(analysis.controls, key)
        out.append((f"{model} · {task} · {construction}", text))
    out.extend(_bias_sentences(analysis.bias))
    out.extend(_verified_sentences(analysis.verified))
    out.extend(_parser_sentences(analysis))
    out.extend(_task_sentences(analysis.tasks))
    return out


def _grouped_sentence(mixed: pd.DataFrame, key: tuple) -> str:
    cell = mixed[(mixed[CELL] == pd.Series(dict(zip(CELL, key)))).all(axis=1) & (mixed["term"] == "depth")]
    fitted = cell[cell["status"] == "ok"]
    if cell.empty:
        return ""
    if fitted.empty:
        why = str(cell.iloc[0]["note"]).removeprefix("skipped: ")
        return f" No model with lexical frames as grouping was fitted ({why})."
    parts = []
    for row in fitted.itertuples():
        name = "mixed model" if row.method == MIXED_METHOD else "GEE"
        parts.append(f"{name} ×{math.exp(row.coef):.2f} [{math.exp(row.ci_low):.2f}, {math.exp(row.ci_high):.2f}]")
    return f" With lexical frames as grouping: {'; '.join(parts)} per level."


def _slope_sentence(slopes: pd.DataFrame, key: tuple) -> str:
    cell = slopes[(slopes[CELL] == pd.Series(dict(zip(CELL, key)))).all(axis=1)]
    rows = cell[cell["term"] == "depth"]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    if row["status"] in ("skipped", "failed"):
        return f"No slope was fitted ({str(row['note']).removeprefix('skipped: ')})."
    names = {"n_words": "word count", "sv_distance": "subject-verb distance"}
    covariates = [names.get(t, t) for t in cell["term"].unique() if t != "depth"]
    held = f" holding {' and '.join(covariates)} fixed" if covariates else ""
    ratio = (f"odds of a correct verdict ×{row['odds_ratio']:.2f} per level, 95% CI ×{math.exp(row['ci_low']):.2f} "
             f"to ×{math.exp(row['ci_high']):.2f}, p {_fmt_p(row['p'])}")
    if row["ci_high"] < 0:
        verdict = f"Accuracy falls reliably with depth{held} ({ratio})."
    elif row["ci_low"] > 0:
        verdict = f"Accuracy rises with depth{held} ({ratio})."
    else:
        verdict = f"Depth has no reliable effect{held} ({ratio}; the interval includes no change)."
    if row["status"] == "separation":
        verdict += (" The predictors separate right from wrong answers perfectly, so this is a penalized (Firth) "
                    "estimate.")
    return verdict


def _fmt_p(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "not available"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _control_sentence(controls: pd.DataFrame, key: tuple) -> str:
    rows = controls[(controls[CELL] == pd.Series(dict(zip(CELL, key)))).all(axis=1)].sort_values("depth")
    rows = rows[(rows["n_test"] > 0) & (rows["n_control"] > 0)]
    if rows.empty:
        return ""
    row = rows.iloc[-1]
    text = (f" Length-matched depth-0 controls for the depth-{row.depth} items score "
            f"{_fmt_ci(row.accuracy_control, row.ci_low_control, row.ci_high_control)} against "
            f"{_fmt_ci(row.accuracy_test, row.ci_low_test, row.ci_high_test)}")
    if row.ci_low_control > row.ci_high_test:
        text += ": the loss comes with depth, not with length."
    elif row.ci_high_control < row.ci_low_test:
        text += ": the controls are harder than the deep items, so length (not depth) drives errors here."
    else:
        text += ": the intervals overlap, so these data cannot tell depth from length at that depth."
    return text


def _bias_sentences(bias: pd.DataFrame) -> list[tuple[str, str]]:
    out = []
    for row in bias.itertuples():
        text = (f"The model accepts {row.accept_good:.0%} of the grammatical and {row.accept_bad:.0%} of the "
                f"ungrammatical sentences (n = {row.n} pairs).")
        if (row.accept_good >= 0.8 and row.accept_bad >= 0.8) or (row.accept_good <= 0.2 and row.accept_bad <= 0.2):
            text += " Its answers mostly follow a bias toward one answer, not the grammar."
        out.append((f"Answer bias · {row.model} · {row.task} · {row.construction}", text))
    return out


def _verified_sentences(verified: pd.DataFrame) -> list[tuple[str, str]]:
    if verified.empty:
        return []
    rows = verified[(verified["n_verified"] > 0) & (verified["n_all"] > 0)]
    share = verified["n_verified"].sum() / max(1, verified["n_all"].sum())
    if rows.empty:
        return [("Verified items",
                 "No test item with a verdict passed verification; the verified-only columns are empty.")]
    gap = (rows["accuracy_verified"] - rows["accuracy_all"]).abs()
    worst = rows.loc[gap.idxmax()]
    return [("Verified-only vs all items", f"{share:.0%} of judged test items passed verification; restricting to "
             f"them changes accuracy by at most {gap.max():.2f} (at depth {worst.depth}, {worst.model}, "
             f"{worst.task}).")]


def _parser_sentences(analysis: Analysis) -> list[tuple[str, str]]:
    out = []
    names = {"spacy": "spaCy's dependency parse", "benepar": "benepar's constituency parse",
             "grammar": "the grammar's own chart parse"}
    for construction, rows in analysis.parsers.groupby("construction", sort=True):
        parts = []
        for check, group in rows.groupby("check", sort=False):
            group = group[group["n"] > 0].sort_values("depth")
            if group.empty:
                continue
            first, last = group.iloc[0], group.iloc[-1]
            parts.append(f"{names.get(check, check)} agrees with the intended tree for {first.agreement:.0%} of "
                         f"depth-{first.depth} items and {last.agreement:.0%} at depth {last.depth}")
        if parts:
            text = "; ".join(parts)
            out.append((f"Parser agreement · {construction}", text[0].upper() + text[1:] + ". A parser failing "
                        "with depth is a finding about the parser, not proof the items are wrong."))
    if analysis.benepar_available is False:
        out.append(("No constituency parser", "No constituency (benepar) model was available during verification: "
                    "no item was checked against a constituency parse, and 'verified' rests on the other checks only."))
    elif analysis.benepar_available is None:
        out.append(("No verification", "No usable verification.jsonl was found for these items (none, or one made "
                    "for an earlier items.jsonl): run `depthkit verify` to add parser agreement and the verified-only "
                    "comparison."))
    return out


def _task_sentences(tasks: pd.DataFrame) -> list[tuple[str, str]]:
    lines = []
    for (model, construction, a, b), group in tasks.groupby(["model", "construction", "task_a", "task_b"], sort=True):
        n = int(group["n_shared"].sum())
        acc_a = float((group["accuracy_a"] * group["n_shared"]).sum() / n)
        acc_b = float((group["accuracy_b"] * group["n_shared"]).sum() / n)
        agree = float((group["agreement"] * group["n_shared"]).sum() / n)
        differ = [str(d) for d, p in zip(group["depth"], group["mcnemar_p"]) if p < 0.05]
        where = (f" Their accuracies differ reliably (McNemar p < 0.05) at depth {', '.join(differ)}." if differ
                 else " At no depth do their accuracies differ reliably (McNemar p < 0.05).")
        lines.append((f"Same items, two tasks · {model} · {construction}", f"{a} is right on {acc_a:.0%} and {b} on "
                     f"{acc_b:.0%} of {n} items judged by both; their verdicts agree on {agree:.0%}.{where} The "
                     "literature finds prompted judgments underestimate what log-probabilities show; report both."))
    return lines
