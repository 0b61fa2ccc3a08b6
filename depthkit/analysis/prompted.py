"""Prompted judgments: which verdict leads, the answer bias beside it, and tasks that only show a bias.

Prompted tasks write a *bias-free* verdict as ``correct`` (the contract between tasks and
analysis): ``judgment`` compares P(Yes) for the good and the bad member (``verdict_by``
``relative``, Hu & Levy 2023); ``forced-choice`` averages the log-odds of the good member's
label over both orders (``both-orders``). The answer-following verdicts they replace are kept as
``scores.absolute_correct`` and shown beside the lead verdict here, never instead of it. Runs
written before that (``verdict_by`` ``logprobs``/``text``/``answer``/``absolute``) follow the
answers.

A cell whose verdict follows the answers and whose answers are all one answer (the model said
"No" to every sentence, or "A" to every prompt) measures that bias and nothing else:
:func:`one_answer_cells` finds them, and the report shows each as one line instead of a curve.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .tables import CELL, depth_rows

BIAS_FREE_VERDICTS = ("relative", "both-orders")  # verdict_by values that do not follow the answers
ANSWER_COLUMNS = ("good_answer", "bad_answer", "answer")

BIAS_COLUMNS = CELL + ["verdict_by", "n", "accuracy", "absolute_accuracy", "accept_good", "accept_bad", "p_yes_good",
                       "p_yes_bad", "position_bias", "top_answer", "top_answer_share", "n_answers"]
ONE_ANSWER_COLUMNS = CELL + ["answer", "n_answers", "n_items", "verdict_by", "accuracy"]


def _prompted_rows(table: pd.DataFrame) -> pd.DataFrame:
    rows = depth_rows(table)
    rows = rows[rows["kind"] == "test"]
    has = rows[list(ANSWER_COLUMNS)].notna().any(axis=1) | rows["good_p_yes"].notna() | rows["position_bias"].notna()
    return rows[has]


def _answers(group: pd.DataFrame) -> pd.Series:
    return pd.concat([group[c].dropna() for c in ANSWER_COLUMNS], ignore_index=True)


def _verdict_rules(group: pd.DataFrame) -> str:
    return ", ".join(sorted({str(v) for v in group["verdict_by"].dropna()}))


def _mean(series: pd.Series) -> float:
    values = series.dropna()
    return float(values.mean()) if len(values) else math.nan


def answer_bias(table: pd.DataFrame) -> pd.DataFrame:
    """Per prompted model x task x construction (test items): the lead verdict beside the answers.

    ``accuracy`` is the lead verdict (``correct``), ``absolute_accuracy`` the answer-following one
    (``scores.absolute_correct``; NaN when the task did not write it). ``accept_good`` /
    ``accept_bad``: the share of grammatical / ungrammatical members answered with the "acceptable"
    choice (one yes/no question per member); ``p_yes_good`` / ``p_yes_bad``: the mean P(Yes)
    (a probability, normalised over the two choices); ``position_bias``: the mean preference for
    the first position in log-odds (forced-choice over both orders); ``top_answer`` and its share
    of every answer given (``n_answers``).
    """
    rows = _prompted_rows(table)
    out = []
    for key, group in rows.groupby(CELL, sort=True):
        answers = _answers(group)
        counts = answers.value_counts()
        scored = group["correct"].dropna()
        out.append({**dict(zip(CELL, key)), "verdict_by": _verdict_rules(group), "n": int(scored.size),
                    "accuracy": float(scored.mean()) if scored.size else math.nan,
                    "absolute_accuracy": _mean(group["absolute_correct"]),
                    "accept_good": _mean(group["good_member_correct"]),
                    "accept_bad": 1 - _mean(group["bad_member_correct"]),
                    "p_yes_good": _mean(np.exp(group["good_p_yes"])), "p_yes_bad": _mean(np.exp(group["bad_p_yes"])),
                    "position_bias": _mean(group["position_bias"]),
                    "top_answer": counts.index[0] if len(counts) else None,
                    "top_answer_share": float(counts.iloc[0] / counts.sum()) if len(counts) else math.nan,
                    "n_answers": int(counts.sum())})
    return pd.DataFrame(out, columns=BIAS_COLUMNS)


def one_answer_cells(table: pd.DataFrame) -> pd.DataFrame:
    """Cells whose verdict follows the answers and whose every answer is the same (see the module docstring)."""
    rows = _prompted_rows(table)
    out = []
    for key, group in rows.groupby(CELL, sort=True):
        rules = set(group["verdict_by"].dropna())
        if not rules or rules & set(BIAS_FREE_VERDICTS):
            continue
        answers = _answers(group)
        if answers.empty or answers.nunique() != 1:
            continue
        scored = group["correct"].dropna()
        out.append({**dict(zip(CELL, key)), "answer": answers.iloc[0], "n_answers": int(answers.size),
                    "n_items": len(group), "verdict_by": ", ".join(sorted(map(str, rules))),
                    "accuracy": float(scored.mean()) if scored.size else math.nan})
    return pd.DataFrame(out, columns=ONE_ANSWER_COLUMNS)


def without_cells(frame: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the rows of the model x task x construction cells listed in ``cells``."""
    if cells.empty or frame.empty:
        return frame
    drop = set(map(tuple, cells[CELL].to_numpy()))
    keep = [tuple(r) not in drop for r in frame[CELL].to_numpy()]
    return frame[keep]


__all__ = ["ANSWER_COLUMNS", "BIAS_COLUMNS", "BIAS_FREE_VERDICTS", "ONE_ANSWER_COLUMNS", "answer_bias",
           "one_answer_cells", "without_cells"]
