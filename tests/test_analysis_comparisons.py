"""Verified-only vs all, parser agreement, task comparison, answer bias and critical differences."""

from __future__ import annotations

import _report_helpers as H
import pandas as pd
import pytest

from depthkit.analysis import (analyze, answer_bias, check_available, critical_differences, judgment_table,
                               parser_agreement, task_comparison, verification_table, verified_comparison,
                               wilson_interval)
from depthkit.report import load_runs
from depthkit.report.narrative import summary


@pytest.fixture(scope="module")
def loaded():
    return load_runs([H.RUN_STRONG, H.RUN_WEAK])


@pytest.fixture(scope="module")
def table(loaded) -> pd.DataFrame:
    return judgment_table(loaded.judgments, loaded.items, loaded.verification)


def test_verified_only_counts_the_verified_items(table):
    verified = verified_comparison(table)
    for (model, task), per_depth in H.CORRECT.items():
        for depth in H.DEPTHS:
            row = verified[(verified.model == model) & (verified.task == task) & (verified.depth == depth)].iloc[0]
            ok = H.SPACY_OK[depth]  # the first `ok` items of each depth are verified
            k = min(per_depth[depth], ok)  # ... and the first k are right
            n = ok - (1 if (model, task, depth) == H.NO_VERDICT[:3] and H.NO_VERDICT[3] < ok else 0)
            assert row.n_verified == n
            assert row.accuracy_verified == pytest.approx(k / n)
            assert row.n_unverified_items == H.PER_DEPTH - ok


def test_no_verification_gives_an_empty_comparison(table):
    assert verified_comparison(table.assign(verified=None)).empty


def test_parser_agreement_per_depth(loaded):
    checks = verification_table(loaded.verification.values())
    agreement = parser_agreement(checks)
    spacy = agreement[agreement.check == "spacy"].set_index("depth")
    for depth, ok in H.SPACY_OK.items():
        assert spacy.loc[depth, "n"] == H.PER_DEPTH
        assert spacy.loc[depth, "agreement"] == pytest.approx(ok / H.PER_DEPTH)
        assert (spacy.loc[depth, "ci_low"], spacy.loc[depth, "ci_high"]) == pytest.approx(wilson_interval(ok, H.PER_DEPTH))
    benepar = agreement[agreement.check == "benepar"]
    assert set(benepar["n"]) == {0} and set(benepar["n_not_run"]) == {H.PER_DEPTH}
    assert check_available(checks, "benepar") is False
    assert check_available(checks, "spacy") is True
    assert check_available(verification_table([]), "benepar") is None


def test_tasks_are_compared_on_the_same_items(table):
    tasks = task_comparison(table)
    assert set(tasks["model"]) == {"fake-weak"}  # fake-strong ran one task only
    for depth in H.DEPTHS:
        row = tasks[tasks.depth == depth].iloc[0]
        a, b = row.task_a, row.task_b
        assert (a, b) == ("judgment", "minimal-pair")
        k_judgment, k_pair = H.CORRECT[("fake-weak", a)][depth], H.CORRECT[("fake-weak", b)][depth]
        n = H.PER_DEPTH - (1 if depth == H.NO_VERDICT[2] else 0)
        assert row.n_shared == n
        # the first k items are right in both tasks, so "both right" is the smaller k
        both = min(k_judgment, k_pair) - (1 if depth == H.NO_VERDICT[2] and H.NO_VERDICT[3] < min(k_judgment, k_pair) else 0)
        assert row.both_correct == both
        assert row.both_correct + row.only_a + row.only_b + row.both_wrong == n
        assert 0 <= row.mcnemar_p <= 1


def test_answer_bias_of_the_prompted_task(table):
    bias = answer_bias(table)
    assert list(bias["task"]) == ["judgment"]
    row = bias.iloc[0]
    assert row.accept_good == 1.0  # the fixture's model says "Yes" to every grammatical sentence
    correct = sum(H.CORRECT[("fake-weak", "judgment")].values())
    assert row.accept_bad == pytest.approx(1 - correct / (H.PER_DEPTH * len(H.DEPTHS)))


def test_critical_differences_are_good_minus_bad(table):
    crit = critical_differences(table)
    assert set(crit["task"]) == {"minimal-pair"}
    row = crit[(crit.model == "fake-weak") & (crit.depth == 3)].iloc[0]
    assert row.share_positive == pytest.approx(4 / 20)
    assert row.n == 20
    assert row["q25"] <= row["median"] <= row["q75"]


def test_summary_says_what_the_curves_show(table, loaded):
    analysis = analyze(table, loaded.verification.values(), 0.6)
    text = " ".join(f"{h}: {t}" for h, t in summary(analysis))
    assert "It breaks at depth 3" in text
    assert "below chance" in text  # fake-weak minimal-pair: 4/20 at depth 3
    assert "the loss comes with depth, not with length" in text
    assert "No constituency (benepar) model was available during verification" in text
    assert "Accuracy falls reliably with depth" in text
    assert "Depth has no reliable effect" in text  # the near-flat judgment curve
