"""Breaking depth, and what the number of items lets it find.

A depth *breaks* when its whole Wilson 95% interval lies below the threshold (``ci_high <
threshold``). With n items that needs an accuracy of at most :func:`detectable_accuracy` (n): with
60 items and threshold 0.6 a depth counts as broken only at accuracy <= 28/60 = 0.467, so a curve
sitting at chance (0.5) can never break. A curve is therefore one of:

* ``breaks`` — some depth's interval lies wholly below the threshold (the first is the breaking depth);
* ``holds`` — every depth's interval lies wholly at or above the threshold;
* ``undecided`` — neither: some interval straddles the threshold, so these items cannot say
  whether the curve breaks (never reported as "does not break");
* ``no verdicts`` — nothing was scored.

``underpowered`` marks curves whose smallest depth sample (past the shallowest depth, the baseline a
curve breaks from) cannot register even guessing as broken (``detectable < chance``);
``n_for_chance`` is the number of items per depth at which a depth exactly at chance would break.
"""

from __future__ import annotations

import math

import pandas as pd

from .intervals import Z95
from .tables import CELL

MAX_ITEMS_SEARCHED = 1_000_000

BREAKING_COLUMNS = CELL + ["threshold", "breaking_depth", "accuracy", "ci_high", "min_depth", "max_depth",
                           "n_verdicts", "status", "undecided_depths", "n_min", "detectable", "chance",
                           "n_for_chance", "underpowered"]


def wilson_upper(p: float, n: int) -> float:
    """The upper end of the Wilson 95% score interval for an observed proportion ``p`` of ``n``."""
    if n <= 0:
        return math.nan
    z2 = Z95 * Z95
    centre = p + z2 / (2 * n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return min(1.0, (centre + half) / (1 + z2 / n))


def detectable_accuracy(n: int, threshold: float) -> float:
    """The highest accuracy k/n whose Wilson upper bound lies below ``threshold`` (NaN when none does)."""
    if n <= 0:
        return math.nan
    for k in range(min(n, math.floor(threshold * n)), -1, -1):
        if wilson_upper(k / n, n) < threshold:
            return k / n
    return math.nan


def items_needed(accuracy: float, threshold: float) -> int | None:
    """The fewest items per depth at which a depth with this ``accuracy`` would break (None: never)."""
    if not accuracy < threshold:
        return None
    n = 1
    while wilson_upper(accuracy, n) >= threshold:  # the bound shrinks as n grows: double, then bisect
        n *= 2
        if n > MAX_ITEMS_SEARCHED:
            return None
    low, high = n // 2, n  # the bound at `low` is still >= threshold (or low is 0), at `high` below it
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if wilson_upper(accuracy, mid) < threshold else (mid, high)
    return high


def breaking_depths(accuracy: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per model x task x construction: the breaking depth, the curve's status and its power note.

    ``breaking_depth`` is NA unless the status is ``breaks``; ``min_depth``/``max_depth`` are the
    depths covered; ``n_verdicts`` counts judgments with a verdict; ``undecided_depths`` lists the
    depths whose interval contains the threshold; ``n_min`` is the smallest n of a depth with
    verdicts past the shallowest one (the baseline; the shallowest itself when it is the only depth),
    ``detectable`` = :func:`detectable_accuracy` (``n_min``); ``chance`` is the curve's
    guessing level (``accuracy["chance"]``, else 0.5).
    """
    rows = []
    for key, group in accuracy.groupby(CELL, sort=True):
        group = group.sort_values("depth")
        scored = group[group["n"] > 0]
        below = scored[scored["ci_high"] < threshold]
        straddle = scored[(scored["ci_high"] >= threshold) & (scored["ci_low"] < threshold)]
        first = below.iloc[0] if not below.empty else None
        if scored.empty:
            status = "no verdicts"
        elif first is not None:
            status = "breaks"
        elif straddle.empty:
            status = "holds"
        else:
            status = "undecided"
        deeper = scored[scored["depth"] > scored["depth"].min()] if len(scored) > 1 else scored
        n_min = int(deeper["n"].min()) if not deeper.empty else 0
        chance = float(group["chance"].mean()) if "chance" in group and group["chance"].notna().any() else 0.5
        detectable = detectable_accuracy(n_min, threshold)
        rows.append(dict(zip(CELL, key), threshold=threshold,
                         breaking_depth=None if first is None else int(first["depth"]),
                         accuracy=None if first is None else float(first["accuracy"]),
                         ci_high=None if first is None else float(first["ci_high"]),
                         min_depth=int(group["depth"].min()), max_depth=int(group["depth"].max()),
                         n_verdicts=int(group["n"].sum()), status=status,
                         undecided_depths=" ".join(str(int(d)) for d in straddle["depth"]),
                         n_min=n_min, detectable=detectable, chance=chance,
                         n_for_chance=items_needed(chance, threshold),
                         underpowered=bool(n_min) and not (detectable >= chance)))
    out = pd.DataFrame(rows, columns=BREAKING_COLUMNS)
    out["breaking_depth"] = out["breaking_depth"].astype("Int64")
    out["n_for_chance"] = out["n_for_chance"].astype("Int64")
    return out


__all__ = ["BREAKING_COLUMNS", "breaking_depths", "detectable_accuracy", "items_needed", "wilson_upper"]
