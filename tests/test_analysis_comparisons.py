"""Verified-only vs all, parser agreement, task comparison, answer bias and critical differences."""

from __future__ import annotations

import math

import _report_helpers as H
import pandas as pd
import pytest

from depthkit.analysis import (analyze, answer_bias, check_available, critical_differences, judgment_table,
                               one_answer_cells, parser_agreement, task_comparison, verification_table,
                               verified_comparison, wilson_interval)
from depthkit.report import load_runs
from depthkit.report.narrative import summary


@pytest.fixture(scope="module")
def loaded():
    return load_runs([H.RUN_STRONG, H.RUN_WEAK])


@pytest.fixture(scope="module")
def table(loaded) -> pd.DataFrame:
    return judgment_table(loaded.judgments, loaded.items, loaded.verification)


@pytest.fixture(scope="module")
def biased() -> pd.DataFrame:
    loaded = load_runs([H.RUN_BIASED])
    return judgment_table(loaded.judgments, loaded.items, loaded.verification)


def test_verified_only_counts_the_verified_items(table):
    verified = verified_comparison(table)
    for (model, task), per_depth in H.CORRECT.items():
        if model not in ("fake-strong", "fake-weak"):
            continue
        for depth in H.DEPTHS:
            row = verified[(verified.model == model) & (verified.task == task) & (verified.depth == depth)].iloc[0]
            ok = H.SPACY_OK[depth]  # the first `ok` items of each depth are verified
            k = min(per_depth[depth], ok)  # ... and the first k are right
            n = ok - (1 if (model, task, depth) == H.NO_VERDICT[:3] and H.NO_VERDICT[3] < ok else 0)
            assert row.n_verified == n
            assert row.accuracy_verified == pytest.approx(k / n)
            assert row.n_unverified_items == H.N_TEST[depth] - ok


def test_no_verification_gives_an_empty_comparison(table):
    assert verified_comparison(table.assign(verified=None)).empty


def test_parser_agreement_per_depth(loaded):
    checks = verification_table(loaded.verification.values())
    agreement = parser_agreement(checks)
    spacy = agreement[agreement.check == "spacy"].set_index("depth")
    for depth, ok in H.SPACY_OK.items():
        assert spacy.loc[depth, "n"] == H.N_TEST[depth]
        assert spacy.loc[depth, "agreement"] == pytest.approx(ok / H.N_TEST[depth])
        assert (spacy.loc[depth, "ci_low"], spacy.loc[depth, "ci_high"]) == pytest.approx(
            wilson_interval(ok, H.N_TEST[depth]))
    benepar = agreement[agreement.check == "benepar"]
    assert set(benepar["n"]) == {0} and list(benepar["n_not_run"]) == [H.N_TEST[d] for d in H.DEPTHS]
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
        n = H.N_TEST[depth] - (1 if depth == H.NO_VERDICT[2] else 0)
        assert row.n_shared == n
        # the first k items are right in both tasks, so "both right" is the smaller k
        both = min(k_judgment, k_pair) - (1 if depth == H.NO_VERDICT[2] and H.NO_VERDICT[3] < min(k_judgment, k_pair) else 0)
        assert row.both_correct == both
        assert row.both_correct + row.only_a + row.only_b + row.both_wrong == n
        assert 0 <= row.mcnemar_p <= 1
        assert math.isnan(row.absolute_b)  # minimal-pair has no answer-following verdict


def test_task_comparison_shows_the_absolute_verdict_beside_the_lead_one(table):
    """absolute_a: the judgment's scores.absolute_correct over the items both tasks judged, by hand."""
    tasks = task_comparison(table)
    rows = table[(table.kind == "test") & (table.task == "judgment")]
    pair_rows = table[(table.kind == "test") & (table.task == "minimal-pair") & (table.model == "fake-weak")
                      & table.correct.notna()]
    for depth in H.DEPTHS:
        shared = set(pair_rows[pair_rows.depth == depth].item_id)
        values = [bool(v) for i, v in zip(rows.item_id, rows.absolute_correct) if i in shared]
        row = tasks[tasks.depth == depth].iloc[0]
        assert row.absolute_a == pytest.approx(sum(values) / len(values))


def test_answer_bias_puts_the_lead_verdict_beside_the_answers(table):
    bias = answer_bias(table)
    assert list(bias["task"]) == ["judgment"]
    row = bias.iloc[0]
    tests = table[(table.kind == "test") & (table.task == "judgment")]
    n = len(tests)
    positions = H.positions(H.read_items())
    says_yes = [positions[i] % H.YES_EVERY == 0 for i in tests.item_id]
    assert row.accept_good == pytest.approx(sum(says_yes) / n)
    assert row.accuracy == pytest.approx(sum(H.CORRECT[("fake-weak", "judgment")].values()) / n)
    assert row.verdict_by == "relative"
    assert row.p_yes_good == pytest.approx(sum(0.6 if y else 0.3 for y in says_yes) / n)
    assert row.top_answer == "No" and row.n_answers == 2 * n
    assert row.absolute_accuracy == pytest.approx(tests.absolute_correct.mean())
    assert math.isnan(row.position_bias)


def test_a_task_answering_one_answer_is_found_only_when_its_verdict_follows_the_answers(biased):
    cells = one_answer_cells(biased)
    assert list(cells["task"]) == ["judgment"]  # forced-choice answers "A" every time too, but averages both orders
    row = cells.iloc[0]
    assert row.answer == "No" and row.n_answers == 2 * row.n_items and row.verdict_by == "logprobs"
    bias = answer_bias(biased).set_index("task")
    assert bias.loc["forced-choice", "position_bias"] == pytest.approx(3.0)
    assert bias.loc["forced-choice", "top_answer_share"] == 1.0
    analysis = analyze(biased)
    assert set(analysis.accuracy["task"]) == {"forced-choice"}  # no flat row of 0.00 for the biased judgment
    assert set(analysis.slopes["task"]) == {"forced-choice"}
    assert set(analysis.bias["task"]) == {"judgment", "forced-choice"}  # the bias itself is still shown


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
    assert "the loss comes with depth, not with what the controls hold equal" in text
    assert "No constituency (benepar) model was available during verification" in text
    assert "Accuracy falls reliably with depth" in text
    assert "No reliable change with depth" in text  # the near-flat judgment curve
