"""Logistic regressions of correctness on depth per model x task x construction, on test items only.

Controls are not part of the slope: each is compared with its own test item
(:func:`depthkit.analysis.paired.control_comparison`), which is what separates depth from what the
control holds equal. The slope is fitted by maximum likelihood (statsmodels GLM), by Firth's
penalized likelihood when the data separate; :mod:`.grouped` adds models with sets and target
lemmas as grouping.

Covariates: word count and subject-verb distance (:data:`~.tables.COVARIATES`) enter next to depth
where they vary among the test items *and can be told apart from depth*. A covariate whose
correlation with depth exceeds :data:`COLLINEAR_R` in absolute value, or that together with the
covariates already in makes depth predictable to that degree (variance inflation of depth above
1 / (1 - COLLINEAR_R^2) = 5.3), is left out and named in ``inseparable``: the depth term then
measures depth *and* that covariate together, and the report says they cannot be separated in
these items, instead of reporting a null from a model that cannot tell them apart.

The p-values of the depth terms of one table are corrected for multiplicity with Holm's method
(``p_holm``: one family = every curve of the report).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .tables import CELL, COVARIATES

MIN_ROWS_LOGIT = 10
SEPARATION_SE = 1e3  # a standard error this large means the likelihood has no finite maximum
COLLINEAR_R = 0.9  # |r| (or multiple R) of depth with covariates beyond which they cannot be separated

# the ``method`` column of the regression tables
LOGIT_METHOD = "logit"
FIRTH_METHOD = "firth logit"
MIXED_METHOD = "mixed logit (VB), set + lemma intercepts"
GEE_METHOD = "GEE logit, set clusters"
SLOPE_COLUMNS = CELL + ["method", "term", "coef", "se", "ci_low", "ci_high", "odds_ratio", "p", "n",
                        "n_groups", "status", "note", "inseparable", "p_holm", "n_lemmas"]


def regression_rows(group: pd.DataFrame) -> pd.DataFrame:
    """The rows a slope is fitted on: depthkit's own test items with a verdict."""
    rows = group[(group["kind"] == "test") & group["correct"].notna()]
    if "suite" in rows:
        rows = rows[~rows["suite"].astype(bool)]
    return rows.reset_index(drop=True)


def depth_r_squared(depth: np.ndarray, covariates: np.ndarray) -> float:
    """R^2 of depth regressed on the covariates (with an intercept): how predictable depth is from them."""
    if covariates.size == 0 or np.ptp(depth) == 0:
        return 0.0
    X = np.column_stack([np.ones(len(depth)), covariates])
    fitted = X @ np.linalg.lstsq(X, depth, rcond=None)[0]
    total = float(((depth - depth.mean()) ** 2).sum())
    return max(0.0, 1 - float(((depth - fitted) ** 2).sum()) / total) if total else 0.0


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r (NaN when either does not vary)."""
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def design(data: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """Covariates fitted next to depth, notes on those left out, and those inseparable from depth.

    A covariate is left out when missing for some items, constant, or (see the module docstring)
    too closely tied to depth; the last kind is also returned in the third list.
    """
    notes: list[str] = []
    used: list[str] = []
    inseparable: list[str] = []
    depth = data["depth"].to_numpy(float)
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
        values = column.to_numpy(float)
        r = correlation(depth, values)
        if not math.isnan(r) and abs(r) > COLLINEAR_R:
            inseparable.append(name)
            notes.append(f"{name} left out: it rises with depth (r = {r:.3f}), so the two cannot be separated in "
                         f"these items; the depth term carries both")
            continue
        together = np.column_stack([data[c].to_numpy(float) for c in used] + [values])
        if depth_r_squared(depth, together) > COLLINEAR_R ** 2:
            inseparable.append(name)
            notes.append(f"{name} left out: with {', '.join(used)} it predicts depth almost exactly "
                         f"(R^2 > {COLLINEAR_R ** 2:.2f}); the depth term carries it")
            continue
        used.append(name)
    return used, notes, inseparable


def skip_reason(data: pd.DataFrame, minimum: int) -> str | None:
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
        return LOGIT_METHOD, frame, ""
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
    return FIRTH_METHOD, frame, note


def depth_slopes(table: pd.DataFrame) -> pd.DataFrame:
    """Logistic regression of correctness on depth (+ n_words, sv_distance) per model x task x construction.

    Test items only. Rows hold one term each; ``coef`` is in log-odds per unit (per level of
    depth, per word), ``odds_ratio`` is ``exp(coef)``; ``inseparable`` names the covariates the
    depth term carries (see the module docstring); ``p_holm`` is set on depth terms. Cells that
    cannot be fitted get one row saying why.
    """
    out: list[dict[str, Any]] = []
    for key, group in table.groupby(CELL, sort=True):
        base = dict(zip(CELL, key))
        data = regression_rows(group)
        if data.empty and not group.empty and (group["kind"] == "test").sum() == 0:
            continue  # controls only: nothing of this cell is a curve
        reason = skip_reason(data, MIN_ROWS_LOGIT)
        if reason:
            out.append({**base, "method": LOGIT_METHOD, "term": "depth", "n": len(data), "status": "skipped",
                        "note": reason, "inseparable": ""})
            continue
        covariates, notes, inseparable = design(data)
        try:
            method, terms, note = _fit_one(data, covariates)
        except (np.linalg.LinAlgError, ValueError) as exc:
            out.append({**base, "method": LOGIT_METHOD, "term": "depth", "n": len(data), "status": "failed",
                        "note": f"the fit failed: {exc}", "inseparable": ", ".join(inseparable)})
            continue
        status = "separation" if method == FIRTH_METHOD else "ok"
        note = "; ".join([n for n in [note] + notes if n])
        for row in terms.to_dict("records"):
            out.append({**base, "method": method, **row, "odds_ratio": math.exp(row["coef"]),
                        "n": len(data), "status": status, "note": note, "inseparable": ", ".join(inseparable)})
    frame = pd.DataFrame(out, columns=SLOPE_COLUMNS)
    tested = (frame["term"] == "depth") & frame["status"].isin(["ok", "separation"])
    if tested.any():
        from .paired import holm

        frame.loc[tested, "p_holm"] = holm(frame.loc[tested, "p"])
    return frame
