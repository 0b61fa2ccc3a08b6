"""The slope: logistic regression (ML or Firth), the frame-grouped models, and the cases they must refuse."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from depthkit.analysis import depth_slopes, firth_logit, judgment_table, mixed_slopes
from depthkit.analysis.tables import SourcedJudgment
from depthkit.schema import Item, Judgment, Regions


def synthetic(rows: list[dict]) -> pd.DataFrame:
    """A judgment table from (depth, correct, n_words, frame[, sv_distance]) rows, through the real join."""
    judgments, items = [], {}
    for i, r in enumerate(rows):
        item_id = f"g/d{r['depth']}/{i:04d}"
        metrics = {"n_words": r["n_words"]}
        if "sv_distance" in r:
            metrics["sv_distance"] = r["sv_distance"]
        words = ["w"] * r["n_words"]
        items[("s", item_id)] = Item(id=item_id, grammar="g", construction="c", kind="test", control_of=None,
                                     depth=r["depth"], good=" ".join(words), bad=None,
                                     tree="(S " + " ".join(f"(W {w})" for w in words) + ")", regions=Regions(),
                                     pair=None, frame=r.get("frame", f"f{i}"), metrics=metrics)
        judgment = Judgment(item_id=item_id, model="m", task="minimal-pair", depth=r["depth"], construction="c",
                            kind="test", control_of=None, correct=r["correct"], verdict_by=None, scores={})
        judgments.append(SourcedJudgment(judgment, source="s"))
    return judgment_table(judgments, items)


def logistic_rows(intercept=2.0, slope=-1.0, per_depth=200, depths=range(5)) -> list[dict]:
    rows = []
    for d in depths:
        k = round(per_depth / (1 + math.exp(-(intercept + slope * d))))
        for i in range(per_depth):
            # correct items are spread evenly over the length variants, so length carries no signal
            rows.append({"depth": d, "correct": (i * 7919) % per_depth < k, "n_words": 5 + 3 * d + i % 5,
                         "frame": f"{d}-{i % 10}"})
    return rows


def depth_row(frame: pd.DataFrame, method: str | None = None) -> pd.Series:
    rows = frame[frame["term"] == "depth"]
    if method:
        rows = rows[rows["method"] == method]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_recovers_a_known_slope():
    slopes = depth_slopes(synthetic(logistic_rows()))
    row = depth_row(slopes)
    assert row["method"] == "logit" and row["status"] == "ok"
    assert -1.3 < row["coef"] < -0.7
    assert row["ci_low"] < row["coef"] < row["ci_high"] < 0
    assert row["odds_ratio"] == pytest.approx(math.exp(row["coef"]))
    assert row["p"] < 1e-6
    assert set(slopes["term"]) == {"depth", "n_words"}


def test_frame_grouped_models_fit_where_feasible():
    table = synthetic(logistic_rows())
    grouped = mixed_slopes(table)
    for method in ("mixed logit (VB), frame intercept", "GEE logit, frame clusters"):
        row = depth_row(grouped, method)
        assert row["status"] == "ok", row["note"]
        assert row["n_groups"] == 50
        assert row["ci_high"] < 0 and row["p"] < 0.001
        assert -1.6 < row["coef"] < -0.7


def test_perfect_separation_gives_a_flagged_firth_estimate():
    rows = [{"depth": d, "correct": d <= 1, "n_words": 6 + i % 6, "frame": f"{d}-{i % 3}"}
            for d in range(4) for i in range(15)]
    table = synthetic(rows)
    slopes = depth_slopes(table)
    row = depth_row(slopes)
    assert row["status"] == "separation" and row["method"] == "firth logit"
    assert "separation" in row["note"]
    assert np.isfinite(row["coef"]) and row["coef"] < 0
    assert row["p"] < 0.05
    grouped = mixed_slopes(table, slopes)
    assert set(grouped["status"]) == {"skipped"}
    assert all("separation" in note for note in grouped["note"])


def test_firth_is_close_to_ml_and_shrinks_towards_zero_without_separation():
    import statsmodels.api as sm

    rows = logistic_rows(per_depth=40)
    X = np.column_stack([np.ones(len(rows)), [r["depth"] for r in rows]])
    y = np.array([float(r["correct"]) for r in rows])
    ml = sm.GLM(y, X, family=sm.families.Binomial()).fit().params
    firth, cov, _ = firth_logit(X, y)
    assert abs(firth[1]) <= abs(ml[1]) + 1e-9
    assert firth[1] == pytest.approx(ml[1], rel=0.1)
    assert np.all(np.diag(cov) > 0)


def test_all_correct_is_skipped_with_a_reason():
    rows = [{"depth": d, "correct": True, "n_words": 3 + d + i % 2} for d in range(3) for i in range(10)]
    row = depth_row(depth_slopes(synthetic(rows)))
    assert row["status"] == "skipped"
    assert "every answer is correct" in row["note"]
    assert pd.isna(row["coef"])


def test_tiny_cells_are_skipped_with_a_reason():
    rows = [{"depth": d, "correct": d == 0, "n_words": 3 + d} for d in range(3) for _ in range(2)]
    table = synthetic(rows)
    assert "only 6 judgments" in depth_row(depth_slopes(table))["note"]
    assert all("only 6 judgments" in n for n in mixed_slopes(table)["note"])


def test_one_depth_only_is_skipped():
    rows = [{"depth": 2, "correct": i % 3 == 0, "n_words": 9 + i % 4} for i in range(30)]
    assert "only one depth" in depth_row(depth_slopes(synthetic(rows)))["note"]


def test_a_covariate_that_is_a_function_of_depth_is_left_out_and_said_so():
    rows = [{"depth": d, "correct": (i * 7) % 20 < 18 - 4 * d, "n_words": 3 + 4 * d} for d in range(4) for i in range(20)]
    slopes = depth_slopes(synthetic(rows))
    assert list(slopes["term"]) == ["depth"]
    assert "n_words left out" in slopes.iloc[0]["note"]


def test_too_few_frames_skips_the_grouped_models():
    rows = [dict(r, frame="same") for r in logistic_rows(per_depth=20)]
    grouped = mixed_slopes(synthetic(rows))
    assert set(grouped["status"]) == {"skipped"}
    assert all("only 1 lexical frames" in n for n in grouped["note"])


def test_frames_of_one_item_each_skip_the_grouped_models():
    rows = [dict(r, frame=f"f{i}") for i, r in enumerate(logistic_rows(per_depth=20))]
    grouped = mixed_slopes(synthetic(rows))
    assert all("single item" in n for n in grouped["note"])


def test_null_verdicts_are_left_out_of_the_fit():
    rows = logistic_rows(per_depth=40)
    rows += [{"depth": 0, "correct": None, "n_words": 5, "frame": "0-0"}] * 5
    row = depth_row(depth_slopes(synthetic(rows)))
    assert row["n"] == 200
