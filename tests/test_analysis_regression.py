"""The slope: logistic regression on test items (ML or Firth), collinearity, Holm, the set- and lemma-grouped
models, and the cases they must refuse."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from depthkit.analysis import (COLLINEAR_R, depth_slopes, design, firth_logit, holm, judgment_table, mixed_slopes,
                               target_lemma)
from depthkit.analysis.tables import SourcedJudgment
from depthkit.schema import Item, Judgment, MemberSpans, PairFacts, Regions


def synthetic(rows: list[dict], construction: str = "c", model: str = "m") -> pd.DataFrame:
    """A judgment table from (depth, correct, n_words, frame[, sv_distance, verb, kind]) rows, through the real join.

    ``frame`` becomes the set (items carry no set_id, so the set is the frame); ``verb`` (default
    ``w``) is the target word, flipped to ``verb + s`` in the bad member, so its lemma is ``verb/verbs``;
    ``kind: control`` makes the row a control of the previous test row.
    """
    judgments, items = [], {}
    last_test = None
    for i, r in enumerate(rows):
        kind = r.get("kind", "test")
        item_id = f"{construction}/d{r['depth']}/{i:04d}"
        control_of = last_test if kind == "control" else None
        metrics = {"n_words": r["n_words"]}
        if "sv_distance" in r:
            metrics["sv_distance"] = r["sv_distance"]
        verb = r.get("verb", "w")
        words = [verb] + ["w"] * (r["n_words"] - 1)
        bad = [verb + "s"] + words[1:]
        items[("s", item_id)] = Item(id=item_id, grammar="g", construction=construction, kind=kind,
                                     control_of=control_of, depth=r["depth"], good=" ".join(words), bad=" ".join(bad),
                                     tree="(S " + " ".join(f"(W {w})" for w in words) + ")",
                                     regions=Regions(target=MemberSpans(good=[0, 1], bad=[0, 1])),
                                     pair=PairFacts(feature="NUM", good_value="pl", bad_value="sg"),
                                     frame=r.get("frame", f"f{i}"), metrics=metrics)
        judgment = Judgment(item_id=item_id, model=model, task="minimal-pair", depth=r["depth"],
                            construction=construction, kind=kind, control_of=control_of, correct=r["correct"],
                            verdict_by=None, scores={})
        judgments.append(SourcedJudgment(judgment, source="s"))
        if kind == "test":
            last_test = item_id
    return judgment_table(judgments, items)


def logistic_rows(intercept=2.0, slope=-1.0, per_depth=200, depths=range(5)) -> list[dict]:
    rows = []
    for d in depths:
        k = round(per_depth / (1 + math.exp(-(intercept + slope * d))))
        for i in range(per_depth):
            # correct items are spread evenly over the length variants, so length carries no signal;
            # length varies within a depth as much as across depths, so the two can be told apart (r = 0.67)
            rows.append({"depth": d, "correct": (i * 7919) % per_depth < k, "n_words": 5 + 2 * d + (i * 3) % 11,
                         "frame": f"{d}-{i % 10}", "verb": f"v{i % 4}"})
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


def test_set_and_lemma_grouped_models_fit_where_feasible():
    table = synthetic(logistic_rows())
    assert set(table["target_lemma"]) == {f"v{i}/v{i}s" for i in range(4)}
    grouped = mixed_slopes(table)
    for method in ("mixed logit (VB), set + lemma intercepts", "GEE logit, set clusters"):
        row = depth_row(grouped, method)
        assert row["status"] == "ok", row["note"]
        assert row["n_groups"] == 50
        assert row["ci_high"] < 0 and row["p"] < 0.001
        assert -1.6 < row["coef"] < -0.7
    mixed = depth_row(grouped, "mixed logit (VB), set + lemma intercepts")
    assert mixed["n_lemmas"] == 4 and "set SD" in mixed["note"] and "lemma SD" in mixed["note"]
    gee = depth_row(grouped, "GEE logit, set clusters")
    assert "within-set correlation" in gee["note"]


def test_target_lemma_is_one_key_for_both_forms():
    """The sg-controller item (laughs / laugh) and the pl-controller item (laugh / laughs) share a lemma."""
    def item(good: str, bad: str) -> Item:
        return Item(id=good, grammar="g", construction="c", kind="test", control_of=None, depth=0, good=good, bad=bad,
                    tree=None, regions=Regions(target=MemberSpans(good=[2, 3], bad=[2, 3])), pair=None, frame="f",
                    metrics={})
    assert target_lemma(item("the cat laughs", "the cat laugh")) == "laugh/laughs"
    assert target_lemma(item("the cats laugh", "the cats laughs")) == "laugh/laughs"
    assert target_lemma(item("the cats Laugh", "the cats laughs")) == "laugh/laughs"  # lower-cased
    no_twin = Item(id="x", grammar="g", construction="c", kind="test", control_of=None, depth=0, good="the cat laughs",
                   bad=None, tree=None, regions=Regions(target=MemberSpans(good=[2, 3])), pair=None, frame="f", metrics={})
    assert target_lemma(no_twin) == "laughs"
    no_target = no_twin.model_copy(update={"regions": Regions()})
    assert target_lemma(no_target) is None


def test_controls_are_not_in_the_slope():
    """Controls that are always right would flatten the slope if they entered at depth 0; they do not enter."""
    rows = []
    for r in logistic_rows(per_depth=40):
        rows.append(r)
        if r["depth"] > 0:
            rows.append({"depth": 0, "correct": True, "n_words": r["n_words"], "frame": r["frame"], "kind": "control"})
    with_controls = depth_row(depth_slopes(synthetic(rows)))
    without = depth_row(depth_slopes(synthetic([r for r in rows if r.get("kind") != "control"])))
    assert with_controls["n"] == without["n"] == 200
    assert with_controls["coef"] == pytest.approx(without["coef"], rel=1e-9)


def test_a_covariate_rising_with_depth_is_named_inseparable_not_fitted():
    """sv_distance = 4 x depth + a little noise (r > 0.9): the slope carries both and says so."""
    rows = [dict(r, sv_distance=4 * r["depth"] + (i % 3)) for i, r in enumerate(logistic_rows(per_depth=40))]
    table = synthetic(rows)
    r = np.corrcoef(table["depth"], table["sv_distance"])[0, 1]
    assert abs(r) > COLLINEAR_R
    slopes = depth_slopes(table)
    assert set(slopes["term"]) == {"depth", "n_words"}
    row = depth_row(slopes)
    assert row["inseparable"] == "sv_distance"
    assert f"r = {r:.3f}" in row["note"] and "cannot be separated" in row["note"]
    used, notes, inseparable = design(table)
    assert used == ["n_words"] and inseparable == ["sv_distance"]


def test_covariates_that_only_jointly_predict_depth_are_left_out():
    """depth = n_words - sv_distance exactly, but neither alone correlates with depth above 0.9."""
    rows = []
    for d in range(4):
        for i in range(30):
            sv = 2 + (i * 7) % 9
            rows.append({"depth": d, "correct": (i * 11) % 30 < 25 - 5 * d, "sv_distance": sv, "n_words": d + sv,
                         "frame": f"{d}-{i % 6}"})
    table = synthetic(rows)
    assert abs(np.corrcoef(table["depth"], table["n_words"])[0, 1]) < COLLINEAR_R
    assert abs(np.corrcoef(table["depth"], table["sv_distance"])[0, 1]) < COLLINEAR_R
    used, notes, inseparable = design(table)
    assert len(used) == 1 and len(inseparable) == 1
    assert any("predicts depth almost exactly" in n for n in notes)


def test_holm_adjusts_the_depth_tests_over_curves_by_hand():
    """Three curves: Holm multiplies the smallest p by 3, the next by 2, the largest by 1 (kept monotone)."""
    tables = [synthetic(logistic_rows(slope=s, per_depth=30), construction=f"c{j}")
              for j, s in enumerate((-1.0, -0.3, 0.0))]
    slopes = depth_slopes(pd.concat(tables, ignore_index=True))
    depth = slopes[slopes["term"] == "depth"].sort_values("p")
    p = depth["p"].to_numpy()
    expected = np.minimum(1, np.maximum.accumulate([3 * p[0], 2 * p[1], 1 * p[2]]))
    assert depth["p_holm"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert holm([0.01, np.nan, 0.04]) == pytest.approx([0.02, np.nan, 0.04], nan_ok=True)
    assert slopes.loc[slopes["term"] != "depth", "p_holm"].isna().all()  # only depth terms form the family


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


def test_too_few_sets_skips_the_grouped_models():
    rows = [dict(r, frame="same") for r in logistic_rows(per_depth=20)]
    grouped = mixed_slopes(synthetic(rows))
    assert set(grouped["status"]) == {"skipped"}
    assert all("only 1 item sets" in n for n in grouped["note"])


def test_one_lemma_leaves_the_lemma_intercept_out_and_says_so():
    rows = [dict(r, verb="v") for r in logistic_rows(per_depth=40)]
    mixed = depth_row(mixed_slopes(synthetic(rows)), "mixed logit (VB), set + lemma intercepts")
    assert mixed["status"] == "ok" and "lemma intercepts left out: one lemma" in mixed["note"]
    assert "lemma SD" not in mixed["note"]


def test_sets_of_one_item_each_skip_the_grouped_models():
    rows = [dict(r, frame=f"f{i}") for i, r in enumerate(logistic_rows(per_depth=20))]
    grouped = mixed_slopes(synthetic(rows))
    assert all("single item" in n for n in grouped["note"])


def test_null_verdicts_are_left_out_of_the_fit():
    rows = logistic_rows(per_depth=40)
    rows += [{"depth": 0, "correct": None, "n_words": 5, "frame": "0-0", "verb": "v0"}] * 5
    row = depth_row(depth_slopes(synthetic(rows)))
    assert row["n"] == 200
