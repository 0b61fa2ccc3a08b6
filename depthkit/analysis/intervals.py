"""Wilson 95% score intervals on proportions, for one count or per group of a table."""

from __future__ import annotations

import math

import pandas as pd

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile (two-sided 95% intervals)


def wilson_interval(k: float, n: float) -> tuple[float, float]:
    """Wilson 95% score interval for ``k`` successes out of ``n`` (NaNs when ``n`` is 0)."""
    from statsmodels.stats.proportion import proportion_confint

    if n <= 0:
        return (math.nan, math.nan)
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    # at k = 0 and k = n the exact bound is 0 or 1; statsmodels' arithmetic lands a rounding error away
    return (0.0 if k <= 0 else max(0.0, float(low)), 1.0 if k >= n else min(1.0, float(high)))


def proportions(frame: pd.DataFrame, by: list[str], value: str = "correct") -> pd.DataFrame:
    """Per group of ``by``: ``n`` (values with a verdict), ``n_correct``, ``n_no_verdict`` (nulls),
    ``accuracy`` and its Wilson interval (``ci_low``, ``ci_high``)."""
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

