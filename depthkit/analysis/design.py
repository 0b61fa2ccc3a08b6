"""What the stimulus design lets the data say: accuracy per condition, collinearity, how well controls matched.

* :func:`condition_accuracy` — accuracy of test items per depth and condition (controller value x
  attractor match/mismatch); attraction is only visible this way.
* :func:`collinearity` — per construction, how tightly depth goes with word count and subject-verb
  distance among its test items (the same rule as the regressions: :data:`~.regression.COLLINEAR_R`).
* :func:`control_match` — per construction and depth: how often the controls hit their item's
  subject-verb distance, attractor count and length exactly, the mean absolute miss, and how often
  they keep the item's number direction (the good member's controller value).

Items, not judgments, are counted in the last two (each item once, whatever models and tasks judged it).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .intervals import proportions
from .regression import COLLINEAR_R, correlation, depth_r_squared
from .tables import CELL_DEPTH, COVARIATES, depth_rows

CONDITION_COLUMNS = CELL_DEPTH + ["controller", "attractor_condition", "n", "n_correct", "accuracy", "ci_low",
                                  "ci_high"]
COLLINEARITY_COLUMNS = ["construction", "n_items", "depths", "r_n_words", "r_sv_distance", "r2_depth", "vif_depth",
                        "inseparable"]
MATCH_FACTS = ("sv_distance", "attractors", "n_words")
MATCH_COLUMNS = (["grammar", "construction", "depth", "n_controls", "same_direction"]
                 + [f"exact_{f}" for f in MATCH_FACTS] + [f"mean_abs_{f}" for f in MATCH_FACTS])


def _items(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    rows = depth_rows(table)
    return rows[rows["kind"] == kind].drop_duplicates(["source", "item_id"])


def condition_accuracy(table: pd.DataFrame) -> pd.DataFrame:
    """Test-item accuracy per model x task x construction x depth x controller value x attractor condition.

    A factor an item does not have is ``None`` (e.g. the attractor condition at depth 0, where no
    noun stands between controller and target); Wilson 95% intervals as everywhere.
    """
    rows = depth_rows(table)
    rows = rows[rows["kind"] == "test"]
    if rows.empty or (rows["controller"].isna().all() and rows["attractor_condition"].isna().all()):
        return pd.DataFrame(columns=CONDITION_COLUMNS)
    filled = rows.assign(controller=rows["controller"].fillna(""),
                         attractor_condition=rows["attractor_condition"].fillna(""))
    out = proportions(filled, CELL_DEPTH + ["controller", "attractor_condition"])
    out = out[out["n"] + out["n_no_verdict"] > 0]
    for column in ("controller", "attractor_condition"):
        out[column] = pd.Series([None if v == "" else v for v in out[column]], index=out.index, dtype=object)
    return out[CONDITION_COLUMNS].reset_index(drop=True)


def collinearity(table: pd.DataFrame) -> pd.DataFrame:
    """Per construction (test items, each once): depth's correlation with word count and distance.

    ``r2_depth`` is the R^2 of depth on the covariates that vary; ``vif_depth`` = 1 / (1 - r2_depth);
    ``inseparable`` names covariates with |r| above :data:`~.regression.COLLINEAR_R` (depth and
    they cannot be told apart in these items), or ``jointly`` when only their combination
    predicts depth that well.
    """
    items = _items(table, "test")
    out = []
    for construction, group in items.groupby("construction", sort=True):
        if group["depth"].nunique() < 2:
            continue
        depth = group["depth"].to_numpy(float)
        r = {}
        usable = []
        for name in COVARIATES:
            column = group[name]
            if column.isna().any():
                r[name] = math.nan
                continue
            r[name] = correlation(depth, column.to_numpy(float))
            if not math.isnan(r[name]):
                usable.append(name)
        r2 = depth_r_squared(depth, group[usable].to_numpy(float)) if usable else 0.0
        alone = [n for n in usable if abs(r[n]) > COLLINEAR_R]
        inseparable = ", ".join(alone) if alone else ("jointly: " + ", ".join(usable)
                                                      if r2 > COLLINEAR_R ** 2 else "")
        out.append({"construction": construction, "n_items": len(group),
                    "depths": " ".join(str(d) for d in sorted(group["depth"].unique())),
                    "r_n_words": r.get("n_words", math.nan), "r_sv_distance": r.get("sv_distance", math.nan),
                    "r2_depth": r2, "vif_depth": (1 / (1 - r2)) if r2 < 1 else math.inf,
                    "inseparable": inseparable})
    return pd.DataFrame(out, columns=COLLINEARITY_COLUMNS)


def control_match(table: pd.DataFrame) -> pd.DataFrame:
    """How closely the controls matched their test items, per grammar x construction x depth of the item.

    ``exact_*`` is the share of controls whose ``match`` difference is 0 (NaN when the controls do
    not record that fact, e.g. no subject-verb distance in a grammar without agreement);
    ``mean_abs_*`` the mean absolute difference; ``same_direction`` the share whose good member
    has the item's controller value (its number direction).
    """
    controls = _items(table, "control")
    if controls.empty:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    tests = depth_rows(table)[["source", "item_id", "good_value"]].drop_duplicates(["source", "item_id"])
    controls = controls.merge(tests.rename(columns={"item_id": "control_of", "good_value": "item_value"}),
                              on=["source", "control_of"], how="left")
    out = []
    for (grammar, construction, depth), group in controls.groupby(["grammar", "construction", "matched_depth"],
                                                                  sort=True):
        row = {"grammar": grammar, "construction": construction, "depth": int(depth), "n_controls": len(group)}
        known = group[group["item_value"].notna() & group["good_value"].notna()]
        row["same_direction"] = float((known["good_value"] == known["item_value"]).mean()) if len(known) else math.nan
        for fact in MATCH_FACTS:
            gaps = group[f"match_{fact}"].dropna().to_numpy(float)
            row[f"exact_{fact}"] = float(np.mean(gaps == 0)) if gaps.size else math.nan
            row[f"mean_abs_{fact}"] = float(np.mean(np.abs(gaps))) if gaps.size else math.nan
        out.append(row)
    return pd.DataFrame(out, columns=MATCH_COLUMNS)


__all__ = ["COLLINEARITY_COLUMNS", "CONDITION_COLUMNS", "MATCH_COLUMNS", "collinearity", "condition_accuracy",
           "control_match"]
