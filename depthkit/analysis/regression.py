"""Logistic regressions of correctness on depth, per model x task x construction.

Fitted on test items *and* controls (controls enter at their real depth, 0): the controls are what
separates depth from length. Maximum likelihood (statsmodels GLM), Firth's penalized likelihood when
the data separate, and two models with the lexical frame as grouping (mixed logit by variational
Bayes, GEE with frame clusters) where the data allow them.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .intervals import Z95
from .tables import CELL, COVARIATES

MIN_ROWS_LOGIT = 10
MIN_ROWS_MIXED = 20
MIN_FRAMES_MIXED = 5
SEPARATION_SE = 1e3  # a standard error this large means the likelihood has no finite maximum

# the ``method`` column of the regression tables
LOGIT_METHOD = "logit"
FIRTH_METHOD = "firth logit"
MIXED_METHOD = "mixed logit (VB), frame intercept"
GEE_METHOD = "GEE logit, frame clusters"
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

    Rows hold one term each; ``coef`` is in log-odds per unit (per level of depth, per word),
    ``odds_ratio`` is ``exp(coef)``. Cells that cannot be fitted get one row saying why.
    """
    out: list[dict[str, Any]] = []
    for key, group in table.groupby(CELL, sort=True):
        base = dict(zip(CELL, key))
        data = _regression_data(group)
        reason = _skip_reason(data, MIN_ROWS_LOGIT)
        if reason:
            out.append({**base, "method": LOGIT_METHOD, "term": "depth", "n": len(data), "status": "skipped",
                        "note": reason})
            continue
        covariates, notes = _design(data)
        try:
            method, terms, note = _fit_one(data, covariates)
        except (np.linalg.LinAlgError, ValueError) as exc:
            out.append({**base, "method": LOGIT_METHOD, "term": "depth", "n": len(data), "status": "failed",
                        "note": f"the fit failed: {exc}"})
            continue
        status = "separation" if method == FIRTH_METHOD else "ok"
        note = "; ".join([n for n in [note] + notes if n])
        for row in terms.to_dict("records"):
            out.append({**base, "method": method, **row, "odds_ratio": math.exp(row["coef"]),
                        "n": len(data), "status": status, "note": note})
    return pd.DataFrame(out, columns=SLOPE_COLUMNS)




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

