"""Depth slopes with sets and target lemmas as grouping factors (test items only, as in :mod:`.regression`).

Two models per model x task x construction, where the data allow them:

* ``mixed logit (VB), set + lemma intercepts``: crossed random intercepts for the item's set (a depth
  ladder, or one draw: items sharing words) and its target lemma (the verb whose two forms the pair
  flips, :func:`~.tables.target_lemma`), fitted by variational Bayes (statsmodels
  ``BinomialBayesMixedGLM``). ``coef`` is the posterior mean (conditional on set and lemma), the
  interval mean +/- 1.96 posterior SD and ``p`` its normal approximation. Mean-field VB ignores
  posterior correlations, which makes intervals of correlated terms far too narrow; fitting on an
  orthogonalized design and mapping back removes most of that (the correlation with the random
  intercepts remains, so read the interval as optimistic). The lemma intercept is left out (and
  said so) when lemmas are unknown for some items or there are fewer than two.
* ``GEE logit, set clusters``: population-averaged logistic regression with an exchangeable
  correlation within sets and robust (sandwich) standard errors; its interval and p-value hold
  however the sets differ. GEE takes one clustering: sets (every lemma occurs in several sets, so
  lemma clusters would merge most of the data into a few clusters).

Covariates and the collinearity rule are those of :func:`~.regression.design`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .intervals import Z95
from .regression import (FIRTH_METHOD, GEE_METHOD, MIXED_METHOD, SLOPE_COLUMNS, depth_slopes, design,
                         regression_rows, skip_reason)
from .tables import CELL

MIN_ROWS_MIXED = 20
MIN_SETS_MIXED = 5


def mixed_slopes(table: pd.DataFrame, slopes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The two grouped models per cell (see the module docstring); a row per method saying why when skipped."""
    slopes = depth_slopes(table) if slopes is None else slopes
    separated = {tuple(r[c] for c in CELL) for _, r in slopes.iterrows() if r["status"] == "separation"}
    out: list[dict[str, Any]] = []
    for key, group in table.groupby(CELL, sort=True):
        base = dict(zip(CELL, key))
        data = regression_rows(group)
        if data.empty and (group["kind"] == "test").sum() == 0:
            continue
        data = data[data["set_id"].notna()].reset_index(drop=True)
        n_sets = int(data["set_id"].nunique()) if not data.empty else 0
        lemmas = data["target_lemma"] if not data.empty else pd.Series(dtype=object)
        n_lemmas = int(lemmas.nunique()) if lemmas.notna().all() else 0
        reason = _grouping_skip_reason(data, n_sets, tuple(key) in separated)
        if reason:
            for method in (MIXED_METHOD, GEE_METHOD):
                out.append({**base, "method": method, "term": "depth", "n": len(data), "n_groups": n_sets,
                            "status": "skipped", "note": reason, "inseparable": "", "n_lemmas": n_lemmas})
            continue
        covariates, notes, inseparable = design(data)
        terms = ["depth"] + covariates
        lemma_note = "" if n_lemmas >= 2 else ("lemma intercepts left out: target lemmas unknown for some items"
                                               if lemmas.isna().any() else "lemma intercepts left out: one lemma")
        for method, fit in ((MIXED_METHOD, _fit_mixed_vb), (GEE_METHOD, _fit_gee)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rows, extra = fit(data, terms, n_lemmas >= 2)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError, ZeroDivisionError) as exc:
                out.append({**base, "method": method, "term": "depth", "n": len(data), "n_groups": n_sets,
                            "status": "failed", "note": f"the fit failed: {exc}", "inseparable": ", ".join(inseparable),
                            "n_lemmas": n_lemmas})
                continue
            note = "; ".join(n for n in [extra] + ([lemma_note] if method == MIXED_METHOD else []) + notes if n)
            for row in rows:
                out.append({**base, "method": method, **row, "odds_ratio": math.exp(row["coef"]), "n": len(data),
                            "n_groups": n_sets, "status": "ok", "note": note, "inseparable": ", ".join(inseparable),
                            "n_lemmas": n_lemmas if method == MIXED_METHOD else math.nan})
    return pd.DataFrame(out, columns=SLOPE_COLUMNS)


def _grouping_skip_reason(data: pd.DataFrame, n_sets: int, separated: bool) -> str | None:
    reason = skip_reason(data, MIN_ROWS_MIXED)
    if reason:
        return reason
    if separated:
        return f"skipped: perfect separation (see the logistic regression's {FIRTH_METHOD.split()[0]} estimate)"
    if n_sets < MIN_SETS_MIXED:
        return f"skipped: only {n_sets} item sets (need at least {MIN_SETS_MIXED})"
    if data.groupby("set_id").size().max() < 2:
        return "skipped: every set holds a single item, so there is nothing to group"
    return None


def _normal_rows(terms: list[str], mean: np.ndarray, sd: np.ndarray) -> list[dict[str, Any]]:
    from scipy.stats import norm

    return [{"term": t, "coef": float(m), "se": float(s), "ci_low": float(m - Z95 * s), "ci_high": float(m + Z95 * s),
             "p": float(2 * norm.sf(abs(m / s))) if s > 0 else math.nan} for t, m, s in zip(terms, mean, sd)]


def _indicators(values: pd.Series) -> np.ndarray:
    codes, uniques = pd.factorize(values)
    out = np.zeros((len(values), len(uniques)))
    out[np.arange(len(values)), codes] = 1.0
    return out


def _fit_mixed_vb(data: pd.DataFrame, terms: list[str], with_lemmas: bool) -> tuple[list[dict[str, Any]], str]:
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    X = np.column_stack([np.ones(len(data)), data[terms].to_numpy(float)])
    X[:, 1:] -= X[:, 1:].mean(axis=0)
    # Orthogonal columns (scaled to unit mean square) make the mean-field assumption nearly true.
    Q, R = np.linalg.qr(X)
    scale = math.sqrt(len(data))
    blocks = [_indicators(data["set_id"])] + ([_indicators(data["target_lemma"])] if with_lemmas else [])
    exog_vc = np.column_stack(blocks)
    ident = np.concatenate([np.full(b.shape[1], i, dtype=int) for i, b in enumerate(blocks)])
    model = BinomialBayesMixedGLM(data["correct"].to_numpy(float), Q * scale, exog_vc, ident=ident, fe_p=3.0,
                                  vcp_p=1.0)
    # a fixed start (rng=0): without it statsmodels draws the start from fresh OS entropy, so reports differ run to run
    fit = model.fit_vb(fit_method="L-BFGS-B", rng=0)  # BFGS keeps a dense Hessian over every group: 7x slower
    back = np.linalg.inv(R / scale)
    mean = back @ fit.fe_mean
    sd = np.sqrt(np.diag(back @ np.diag(np.asarray(fit.fe_sd) ** 2) @ back.T))
    sds = [f"{name} SD {float(np.exp(v)):.2f}" for name, v in zip(("set", "lemma"), fit.vcp_mean)]
    return _normal_rows(terms, mean[1:], sd[1:]), ", ".join(sds) + " (log-odds)"


def _fit_gee(data: pd.DataFrame, terms: list[str], with_lemmas: bool) -> tuple[list[dict[str, Any]], str]:
    import statsmodels.api as sm

    X = sm.add_constant(data[terms].astype(float), has_constant="add")
    codes, _ = pd.factorize(data["set_id"])
    fit = sm.GEE(data["correct"].to_numpy(float), X, groups=codes, family=sm.families.Binomial(),
                 cov_struct=sm.cov_struct.Exchangeable()).fit()
    ci = fit.conf_int()
    rows = [{"term": t, "coef": float(fit.params[t]), "se": float(fit.bse[t]), "ci_low": float(ci.loc[t, 0]),
             "ci_high": float(ci.loc[t, 1]), "p": float(fit.pvalues[t])} for t in terms]
    return rows, f"within-set correlation {float(fit.cov_struct.dep_params):.2f}"


__all__ = ["MIN_ROWS_MIXED", "MIN_SETS_MIXED", "mixed_slopes"]
