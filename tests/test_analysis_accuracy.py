"""Accuracy tables, intervals, breaking depth and its power note, and chance on the report fixture's known pattern."""

from __future__ import annotations

import math

import _report_helpers as H
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from depthkit.analysis import (accuracy_table, analyze, breaking_depths, detectable_accuracy, items_needed,
                               judgment_table, wilson_interval, wilson_upper)
from depthkit.report import load_runs
from depthkit.report.narrative import summary
from depthkit.tasks.info import chance_level


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    loaded = load_runs([H.RUN_STRONG, H.RUN_WEAK])
    return judgment_table(loaded.judgments, loaded.items, loaded.verification)


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (0, 20), (20, 20), (8, 20), (17, 20), (3, 7), (150, 400)])
def test_wilson_matches_statsmodels(k, n):
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = wilson_interval(k, n)
    ref_lo, ref_hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert lo == pytest.approx(ref_lo, abs=1e-9)
    assert hi == pytest.approx(ref_hi, abs=1e-9)
    assert 0 <= lo <= k / n <= hi <= 1
    assert wilson_upper(k / n, n) == pytest.approx(hi, rel=1e-9)


def test_wilson_of_nothing_is_nan():
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_accuracy_follows_the_known_pattern(table):
    acc = accuracy_table(table)
    for (model, task), per_depth in H.CORRECT.items():
        if model not in ("fake-strong", "fake-weak"):
            continue
        for depth, k in per_depth.items():
            row = acc[(acc.model == model) & (acc.task == task) & (acc.depth == depth)].iloc[0]
            no_verdict = (model, task, depth) == H.NO_VERDICT[:3]
            n = H.N_TEST[depth] - (1 if no_verdict else 0)
            assert row.n == n and row.n_no_verdict == (1 if no_verdict else 0)
            assert row.n_correct == k
            assert row.accuracy == pytest.approx(k / n)
            assert (row.ci_low, row.ci_high) == pytest.approx(wilson_interval(k, n))


def test_breaking_depth_is_the_first_interval_wholly_below_the_threshold(table):
    acc = accuracy_table(table)
    brk = breaking_depths(acc, 0.6).set_index(["model", "task"])
    assert brk.loc[("fake-weak", "minimal-pair"), "breaking_depth"] == 3  # 8/20 has ci_high 0.613 > 0.6
    assert brk.loc[("fake-weak", "minimal-pair"), "status"] == "breaks"
    assert pd.isna(brk.loc[("fake-strong", "minimal-pair"), "breaking_depth"])
    assert brk.loc[("fake-strong", "minimal-pair"), "status"] == "holds"  # 17/20: ci_low 0.640 >= 0.6
    assert brk.loc[("fake-strong", "minimal-pair"), "max_depth"] == 3
    assert brk.loc[("fake-weak", "judgment"), "status"] == "undecided"
    assert brk.loc[("fake-weak", "judgment"), "undecided_depths"] == "0 1 2 3"
    higher = breaking_depths(acc, 0.95).set_index(["model", "task"])
    assert higher.loc[("fake-strong", "minimal-pair"), "breaking_depth"] == 3  # 17/20: ci_high 0.948
    assert higher.loc[("fake-weak", "minimal-pair"), "breaking_depth"] == 1  # 15/19: ci_high 0.915
    assert higher.loc[("fake-weak", "judgment"), "breaking_depth"] == 0


def test_breaking_depth_needs_the_interval_not_the_point_below():
    acc = pd.DataFrame([{"model": "m", "task": "t", "construction": "c", "depth": d, "n": n, "n_correct": k,
                         "accuracy": k / n, "ci_low": wilson_interval(k, n)[0], "ci_high": wilson_interval(k, n)[1],
                         "chance": 0.5} for d, k, n in [(0, 5, 5), (1, 2, 5), (2, 10, 40)]])
    brk = breaking_depths(acc, 0.6)
    assert brk.iloc[0]["breaking_depth"] == 2  # 2/5 = 0.4 < 0.6 but its interval reaches 0.77
    assert brk.iloc[0]["min_depth"] == 0 and brk.iloc[0]["max_depth"] == 2


def test_detectable_accuracy_by_hand():
    """With 60 items and threshold 0.6 a depth breaks only at <= 28/60 (the issue's .467); with 20 at <= 7/20."""
    assert detectable_accuracy(60, 0.6) == pytest.approx(28 / 60)
    assert wilson_interval(28, 60)[1] < 0.6 <= wilson_interval(29, 60)[1]
    assert detectable_accuracy(20, 0.6) == pytest.approx(7 / 20)
    assert wilson_interval(7, 20)[1] < 0.6 <= wilson_interval(8, 20)[1]
    assert math.isnan(detectable_accuracy(2, 0.6))  # even 0 of 2 has an upper bound of 0.66
    assert wilson_interval(0, 2)[1] > 0.6


def test_items_needed_for_chance_to_break_by_hand():
    n = items_needed(0.5, 0.6)
    assert wilson_upper(0.5, n) < 0.6 <= wilson_upper(0.5, n - 1)
    assert n == 93  # 0.5 +- 1.96 * sqrt(0.25 / n) (Wilson) crosses 0.6 between 92 and 93 items
    assert items_needed(0.6, 0.6) is None and items_needed(0.7, 0.6) is None


@given(st.integers(min_value=1, max_value=400), st.floats(min_value=0.05, max_value=0.95))
def test_detectable_accuracy_is_the_largest_that_breaks(n, threshold):
    a = detectable_accuracy(n, threshold)
    if math.isnan(a):
        assert wilson_interval(0, n)[1] >= threshold
        return
    k = round(a * n)
    assert wilson_interval(k, n)[1] < threshold
    assert k == n or wilson_interval(k + 1, n)[1] >= threshold


def test_a_curve_at_chance_with_few_items_is_underpowered_and_never_said_to_hold():
    """20 items at 0.5 per depth: the interval always straddles 0.6 and guessing could never count as broken."""
    acc = pd.DataFrame([{"model": "m", "task": "minimal-pair", "construction": "c", "depth": d, "n": 20,
                         "n_correct": 10, "accuracy": 0.5, "ci_low": wilson_interval(10, 20)[0],
                         "ci_high": wilson_interval(10, 20)[1], "chance": 0.5} for d in range(4)])
    row = breaking_depths(acc, 0.6).iloc[0]
    assert row["status"] == "undecided" and pd.isna(row["breaking_depth"])
    assert row["underpowered"] and row["detectable"] == pytest.approx(0.35) and row["n_for_chance"] == 93
    plenty = acc.assign(n=200, n_correct=100, ci_low=wilson_interval(100, 200)[0], ci_high=wilson_interval(100, 200)[1])
    row = breaking_depths(plenty, 0.6).iloc[0]
    assert row["status"] == "breaks" and not row["underpowered"]


def test_a_curve_below_the_threshold_from_the_start_is_said_so(table):
    analysis = analyze(table, threshold=0.95)
    text = " ".join(t for _, t in summary(analysis))
    assert "already at depth 0, the shallowest depth tested" in text  # fake-weak judgment: 6/10 at depth 0


def test_chance_levels():
    """Chance comes from the task facts (depthkit.tasks.info); no manifest writes an override."""
    assert chance_level("minimal-pair") == 0.5
    assert chance_level("forced-choice") == 0.5
    assert chance_level("something-new") == 0.5
    assert chance_level("judgment", paired_item=False) == 0.5  # one member, one yes/no answer


def test_accuracy_table_has_the_documented_columns(table):
    acc = analyze(table, threshold=0.6).accuracy
    for column in ("model", "task", "construction", "depth", "n", "accuracy", "ci_low", "ci_high"):
        assert column in acc.columns
    assert set(acc[acc.task == "judgment"]["chance"]) == {chance_level("judgment")}
