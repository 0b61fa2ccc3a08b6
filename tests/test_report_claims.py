"""The narrative never claims more than its intervals and tests show: fixtures where a claim must NOT be made."""

from __future__ import annotations

import dataclasses
import math

import _report_helpers as H
import pandas as pd
import pytest

from depthkit.analysis import analyze, glance, judgment_table, slope_trend, wilson_interval
from depthkit.report import build_report, load_runs
from depthkit.report.display import display_accuracy, display_glance
from depthkit.report.narrative import headline, summary

CONSTRUCTION = "object relative clauses (center-embedded)"


@pytest.fixture(scope="module")
def strong():
    """fake-strong alone: one curve that falls a little (0.85 at depth 3) with 20 items per depth."""
    loaded = load_runs([H.RUN_STRONG])
    return analyze(judgment_table(loaded.judgments, loaded.items, loaded.verification), loaded.verification.values())


def text_of(analysis) -> str:
    return " ".join(headline(analysis)) + " " + " ".join(t for _, t in summary(analysis))


def with_depth_slope(analysis, **values):
    slopes = analysis.slopes.copy()
    depth = slopes["term"] == "depth"
    for column, value in values.items():
        slopes.loc[depth, column] = value
    return dataclasses.replace(analysis, slopes=slopes)


def with_grouped(analysis, low: float, high: float):
    mixed = analysis.mixed.copy()
    depth = mixed["term"] == "depth"
    mixed.loc[depth, ["status", "ci_low", "ci_high", "coef"]] = ["ok", low, high, (low + high) / 2]
    return dataclasses.replace(analysis, mixed=mixed)


def test_a_slope_significant_only_before_holm_is_not_called_a_fall(strong):
    analysis = with_grouped(with_depth_slope(strong, coef=-0.5, ci_low=-0.99, ci_high=-0.01, p=0.03, p_holm=0.09),
                            -0.9, -0.1)
    text = text_of(analysis)
    assert "falls reliably" not in text and "1 falls with depth" not in text
    assert "not after Holm's correction" in text
    assert glance(analysis).iloc[0]["trend"] == "no reliable change"


def test_a_slope_whose_grouped_fits_include_zero_is_not_called_a_fall(strong):
    """The issue's case: p = .050 in the plain fit while the mixed and GEE intervals include no change."""
    analysis = with_grouped(with_depth_slope(strong, coef=-0.5, ci_low=-0.9, ci_high=-0.1, p=0.01, p_holm=0.01),
                            -0.8, 0.2)
    text = text_of(analysis)
    assert "falls reliably" not in text
    assert "the set- and lemma-grouped fits do not" in text
    row = glance(analysis).iloc[0]
    assert (row["trend"], row["grouped"]) == ("no reliable change", "include no change")
    agreeing = with_grouped(analysis, -0.8, -0.2)
    assert "Accuracy falls reliably with depth" in text_of(agreeing)


def test_slope_trend_rules():
    slope = pd.Series({"coef": -1.0, "ci_low": -1.5, "ci_high": -0.5, "p": 0.001, "p_holm": 0.003})
    none = pd.DataFrame(columns=["status", "ci_low", "ci_high"])
    assert slope_trend(slope, none) == ("falls", "not fitted")
    rising = slope.copy()
    rising[["coef", "ci_low", "ci_high"]] = [1.0, 0.5, 1.5]
    assert slope_trend(rising, none) == ("rises", "not fitted")
    assert slope_trend(slope.copy().replace({0.003: 0.2}), none)[0] == "no reliable change"
    other_way = pd.DataFrame([{"status": "ok", "ci_low": 0.1, "ci_high": 0.9}])
    assert slope_trend(slope, other_way) == ("no reliable change", "include no change")
    assert slope_trend(None, none) == ("not fitted", "not fitted")


def test_a_curve_at_chance_with_few_items_is_never_said_to_hold_or_not_break(strong):
    """20 items per depth at 0.5: the curve could not break even at chance, and the report says exactly that."""
    acc = strong.accuracy.copy()
    acc["n_correct"] = (acc["n"] / 2).astype(int)
    acc["accuracy"] = acc["n_correct"] / acc["n"]
    bounds = [wilson_interval(k, n) for k, n in zip(acc["n_correct"], acc["n"])]
    acc["ci_low"], acc["ci_high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    from depthkit.analysis import breaking_depths

    analysis = dataclasses.replace(strong, accuracy=acc, breaking=breaking_depths(acc, 0.6))
    text = text_of(analysis)
    assert "holds" not in text and "does not break" not in text and "No depth up to" not in text
    assert "Undecided whether it breaks" in text
    assert "could not have broken even at chance" in text
    assert "could not break even at chance" in " ".join(headline(analysis))


def test_inseparable_depth_and_distance_is_said_so_not_reported_as_a_null(strong):
    """Depth and both covariates rise together in this grammar (|r| > 0.9): the text says they cannot be separated."""
    assert strong.collinearity.iloc[0]["inseparable"] == "n_words, sv_distance"
    text = text_of(strong)
    assert "depth, word count and subject-verb distance cannot be separated" in text
    assert "Depth has no reliable effect" not in text
    shown = display_glance(glance(strong)).iloc[0]["trend"]
    assert "(with n_words, sv_distance)" in shown


def test_controls_whose_paired_interval_includes_zero_give_no_depth_claim(strong):
    """fake-strong: 0.85 vs its controls' 1.00 at depth 3 over 20 pairs: the paired interval includes no difference."""
    row = strong.controls[strong.controls.depth == 3].iloc[0]
    assert row.gap_low < 0 < row.gap_high
    text = text_of(strong)
    assert "the loss comes with depth" not in text
    assert "cannot tell depth from what the controls hold equal" in text


def test_a_ladder_difference_that_does_not_survive_holm_is_not_claimed():
    loaded = load_runs([H.RUN_WEAK])
    analysis = analyze(judgment_table(loaded.judgments, loaded.items, loaded.verification))
    ladder = analysis.ladder[analysis.ladder.task == "minimal-pair"].set_index("depth")
    assert ladder.loc[3, "p_holm"] < 0.05 and ladder.loc[3, "diff_high"] < 0  # 2 of 10 sets keep it: reliable
    claimed = dict(summary(analysis))[f"fake-weak · minimal-pair · {CONSTRUCTION}"]
    assert "the same frames lose accuracy when embedded deeper" in claimed
    # the same numbers at depth 2 (-0.60 [-0.83, -0.20], McNemar p 0.031) do not survive Holm over the table
    row = ladder.loc[2]
    assert row.diff_high < 0 and row.mcnemar_p < 0.05 <= row.p_holm
    only_depth_2 = analysis.ladder[analysis.ladder.depth <= 2]
    paragraph = dict(summary(dataclasses.replace(analysis, ladder=only_depth_2)))[
        f"fake-weak · minimal-pair · {CONSTRUCTION}"]
    assert "lose accuracy when embedded deeper" not in paragraph
    assert "does not survive Holm's correction" in paragraph


def test_the_headline_never_averages_signed_gaps():
    loaded = load_runs([H.RUN_STRONG, H.RUN_WEAK])
    analysis = analyze(judgment_table(loaded.judgments, loaded.items, loaded.verification))
    lines = " ".join(headline(analysis))
    assert "on average" not in lines and "average" not in lines
    gaps = glance(analysis)["control_gap_last"]
    for value in (gaps.mean(), gaps.median()):
        assert f"{value:+.2f}" not in lines
    assert "in 1 of 3 curves" in lines  # counted, curve by curve


def test_a_task_answering_one_answer_is_one_line_not_a_wall_of_zeros(tmp_path):
    html = build_report([H.RUN_BIASED], tmp_path / "biased")
    page = html.read_text(encoding="utf-8")
    assert "answered &#39;No&#39; to every one of its 140 questions" in page
    loaded = load_runs([H.RUN_BIASED])
    shown = display_accuracy(analyze(judgment_table(loaded.judgments, loaded.items)).accuracy)
    assert "fake-biased · judgment" not in shown.columns and "fake-biased · forced-choice" in shown.columns
    rows = list(pd.read_csv(html.parent / "accuracy_by_depth.csv").itertuples())
    assert {r.task for r in rows} == {"forced-choice"}  # no rows of 0.00 for the biased judgment
    assert "0.00 [0.00" not in page.split("Answer bias of prompted judgments")[0]
    assert "forced-choice" in page and "position" in page  # the position-free verdict keeps its curve


def test_prompted_tasks_lead_with_the_bias_free_verdict_and_say_so():
    loaded = load_runs([H.RUN_WEAK])
    analysis = analyze(judgment_table(loaded.judgments, loaded.items, loaded.verification))
    text = " ".join(t for _, t in summary(analysis))
    assert "The lead verdict (relative)" in text
    assert "The answer-following verdict it replaces would be right on" in text
    lead = analysis.accuracy[analysis.accuracy.task == "judgment"]
    counted = sum(H.CORRECT[("fake-weak", "judgment")].values()) / sum(H.N_TEST.values())
    assert (lead["n_correct"].sum() / lead["n"].sum()) == pytest.approx(counted)  # the curve is the relative verdict
    assert not math.isclose(analysis.bias.iloc[0]["absolute_accuracy"], counted)
