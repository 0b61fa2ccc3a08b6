"""External suites (BLiMP, SyntaxGym) as their own rows, beside the depthkit construction that tests the same.

Items imported by ``depthkit import`` carry the suite kind as their grammar and the paradigm or
suite name as their construction, at depth 0. They have no depth, so they are kept out of the
depth analysis and reported here: accuracy per model x task x paradigm with its Wilson interval,
the same model's accuracy on the matching depthkit grammar and depth (the ``matches`` of the
references file; log-probability tasks only, preferring the suite's own task), and, when asked,
the published reference points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from ..schema import ReferencePoint, SuiteMatch
from ..tasks.info import task_info, task_order
from .intervals import proportions
from .tables import depth_rows

SUITE_COLUMNS = ["model", "task", "suite", "construction", "verdict_by", "n", "n_correct", "accuracy", "ci_low",
                 "ci_high", "match_grammar", "match_construction", "match_depth", "match_task", "match_n",
                 "match_accuracy", "match_ci_low", "match_ci_high"]
REFERENCE_COLUMNS = ["id", "suite", "name", "model", "accuracy", "items", "measure", "citation", "source", "note",
                     "match_grammar", "match_construction", "match_depth"]


def match_frame(matches: Iterable[SuiteMatch]) -> pd.DataFrame:
    return pd.DataFrame([m.to_dict() for m in matches], columns=["suite", "name", "grammar", "depth", "why"])


def suite_accuracy(table: pd.DataFrame, matches: Iterable[SuiteMatch] = ()) -> pd.DataFrame:
    """Accuracy per model x task x suite paradigm, with the matching depthkit numbers beside it.

    One row per paradigm and match (a paradigm without a match gets one row with empty match
    columns). ``match_*``: the same model's test-item accuracy on the matched grammar at the
    matched depth, for a log-probability task (the suite row's own task if depthkit's items were
    judged with it, else the first such task in task order).
    """
    suites = table[table["suite"].astype(bool) & (table["kind"] == "test")] if "suite" in table else table.iloc[0:0]
    if suites.empty:
        return pd.DataFrame(columns=SUITE_COLUMNS)
    own = depth_rows(table)
    own = own[own["kind"] == "test"]
    matched = match_frame(matches)
    out = []
    stats = proportions(suites, ["model", "task", "grammar", "construction"])
    for r in stats.itertuples():
        rules = suites[(suites["model"] == r.model) & (suites["task"] == r.task)
                       & (suites["construction"] == r.construction)]["verdict_by"].dropna()
        row = {"model": r.model, "task": r.task, "suite": r.grammar, "construction": r.construction,
               "verdict_by": ", ".join(sorted(set(map(str, rules)))), "n": r.n, "n_correct": r.n_correct,
               "accuracy": r.accuracy, "ci_low": r.ci_low, "ci_high": r.ci_high}
        hits = matched[(matched["suite"] == r.grammar) & (matched["name"] == r.construction)]
        if hits.empty:
            out.append(row)
            continue
        for m in hits.itertuples():
            out.append({**row, **_beside(own, r.model, r.task, m.grammar, int(m.depth))})
    return pd.DataFrame(out, columns=SUITE_COLUMNS)


def _beside(own: pd.DataFrame, model: str, task: str, grammar: str, depth: int) -> dict:
    """The model's accuracy on ``grammar`` at ``depth`` with a log-probability task (empty numbers if none)."""
    rows = own[(own["model"] == model) & (own["grammar"] == grammar) & (own["depth"] == depth)]
    scoring = [t for t in task_order(rows["task"].unique()) if _is_logprob(t)]
    chosen = task if task in scoring else (scoring[0] if scoring else None)
    out = {"match_grammar": grammar, "match_depth": depth, "match_construction": None, "match_task": chosen,
           "match_n": 0, "match_accuracy": math.nan, "match_ci_low": math.nan, "match_ci_high": math.nan}
    if chosen is None:
        return out
    cell = rows[rows["task"] == chosen]
    stats = proportions(cell, ["construction"]).iloc[0]
    out.update(match_construction=stats["construction"], match_n=int(stats["n"]),
               match_accuracy=stats["accuracy"], match_ci_low=stats["ci_low"], match_ci_high=stats["ci_high"])
    return out


def _is_logprob(task: str) -> bool:
    info = task_info(task)
    return info is not None and info.kind == "score" and not info.prompted


def reference_table(points: Iterable[ReferencePoint], matches: Iterable[SuiteMatch] = (),
                    table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published reference points, each with the depthkit grammar and depth its paradigm matches.

    ``match_construction`` is the construction name the report's items give that grammar (None
    when the report has no items of it).
    """
    matched = match_frame(matches)
    names = {}
    if table is not None and not table.empty:
        own = depth_rows(table)
        names = dict(zip(own["grammar"], own["construction"]))
    out = []
    for point in points:
        base = point.to_dict()
        hits = matched[(matched["suite"] == point.suite) & (matched["name"] == point.name)]
        if hits.empty:
            out.append({**base, "match_grammar": None, "match_construction": None, "match_depth": None})
        for m in hits.itertuples():
            out.append({**base, "match_grammar": m.grammar, "match_construction": names.get(m.grammar),
                        "match_depth": int(m.depth)})
    frame = pd.DataFrame(out, columns=REFERENCE_COLUMNS)
    frame["match_depth"] = frame["match_depth"].astype("Int64")
    return frame


__all__ = ["REFERENCE_COLUMNS", "SUITE_COLUMNS", "match_frame", "reference_table", "suite_accuracy"]
