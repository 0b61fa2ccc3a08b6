"""Wilson 95% score intervals on proportions, for one count or per group of a table."""

from __future__ import annotations

import math

import pandas as pd

Z95 = 1.959963984540054


def wilson_interval(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes out of ``n`` (NaNs when ``n`` is 0)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


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

