"""Accuracy tables, intervals, controls, breaking depth and chance on the report fixture's known pattern."""

from __future__ import annotations

import math

import _report_helpers as H
import pandas as pd
import pytest

from depthkit.analysis import (accuracy_table, analyze, breaking_depths, control_comparison, judgment_table,
                               wilson_interval)
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


def test_wilson_of_nothing_is_nan():
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_accuracy_follows_the_known_pattern(table):
    acc = accuracy_table(table)
    for (model, task), per_depth in H.CORRECT.items():
        for depth, k in per_depth.items():
            row = acc[(acc.model == model) & (acc.task == task) & (acc.depth == depth)].iloc[0]
            no_verdict = (model, task, depth) == H.NO_VERDICT[:3]
            n = H.PER_DEPTH - (1 if no_verdict else 0)
            assert row.n == n and row.n_no_verdict == (1 if no_verdict else 0)
            assert row.n_correct == k
            assert row.accuracy == pytest.approx(k / n)
            assert (row.ci_low, row.ci_high) == pytest.approx(wilson_interval(k, n))


def test_controls_are_compared_at_the_depth_they_match(table):
    controls = control_comparison(table)
    assert len(controls) == 3 * len(H.DEPTHS)
    for (model, task), per_depth in H.CONTROLS_CORRECT.items():
        for depth, k in per_depth.items():
            row = controls[(controls.model == model) & (controls.task == task) & (controls.depth == depth)].iloc[0]
            assert row.n_control == H.PER_DEPTH
            assert row.accuracy_control == pytest.approx(k / H.PER_DEPTH)
            assert row.gap == pytest.approx(row.accuracy_control - row.accuracy_test)


def test_breaking_depth_is_the_first_interval_wholly_below_the_threshold(table):
    acc = accuracy_table(table)
    brk = breaking_depths(acc, 0.6).set_index(["model", "task"])
    assert brk.loc[("fake-weak", "minimal-pair"), "breaking_depth"] == 3  # 8/20 has ci_high 0.613 > 0.6
    assert pd.isna(brk.loc[("fake-strong", "minimal-pair"), "breaking_depth"])
    assert brk.loc[("fake-strong", "minimal-pair"), "max_depth"] == 3
    higher = breaking_depths(acc, 0.95).set_index(["model", "task"])
    assert higher.loc[("fake-strong", "minimal-pair"), "breaking_depth"] == 3  # 17/20: ci_high 0.948
    assert higher.loc[("fake-weak", "minimal-pair"), "breaking_depth"] == 1  # 15/19: ci_high 0.915
    assert higher.loc[("fake-weak", "judgment"), "breaking_depth"] == 0


def test_breaking_depth_needs_the_interval_not_the_point_below():
    acc = pd.DataFrame([{"model": "m", "task": "t", "construction": "c", "depth": d, "n": n, "n_correct": k,
                         "accuracy": k / n, "ci_low": wilson_interval(k, n)[0], "ci_high": wilson_interval(k, n)[1]}
                        for d, k, n in [(0, 5, 5), (1, 2, 5), (2, 10, 40)]])
    brk = breaking_depths(acc, 0.6)
    assert brk.iloc[0]["breaking_depth"] == 2  # 2/5 = 0.4 < 0.6 but its interval reaches 0.77
    assert brk.iloc[0]["min_depth"] == 0 and brk.iloc[0]["max_depth"] == 2


def test_a_curve_below_the_threshold_from_the_start_is_said_so(table):
    analysis = analyze(table, threshold=0.95)
    text = " ".join(t for _, t in summary(analysis))
    assert "already at depth 0, the shallowest depth tested" in text  # fake-weak judgment: 12/20 at depth 0


def test_chance_levels():
    """Chance comes from the task facts (depthkit.tasks.info); no manifest writes an override."""
    assert chance_level("minimal-pair") == 0.5
    assert chance_level("forced-choice") == 0.5
    assert chance_level("judgment") == 0.25
    assert chance_level("something-new") == 0.5
    assert chance_level("judgment", paired_item=False) == 0.5  # one member, one yes/no answer


def test_accuracy_table_has_the_documented_columns(table):
    acc = analyze(table, threshold=0.6).accuracy
    for column in ("model", "task", "construction", "depth", "n", "accuracy", "ci_low", "ci_high"):
        assert column in acc.columns
    assert set(acc[acc.task == "judgment"]["chance"]) == {0.25}
