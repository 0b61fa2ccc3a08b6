"""Paired comparisons (controls, ladders, conditions): counts, Newcombe's interval, exact McNemar, Holm — by hand."""

from __future__ import annotations

import math

import _report_helpers as H
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from depthkit.analysis import (condition_contrasts, control_comparison, depth_pairs, judgment_table, mcnemar_exact,
                               pair_summary, paired_difference_interval)
from depthkit.report import load_runs

Z = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval written out (independent of statsmodels)."""
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def test_newcombe_interval_by_hand():
    """36 pairs right both times, 12 right only first, 2 right only second, 0 wrong both times (n = 50)."""
    a, b, c, d = 36, 12, 2, 0
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n  # 0.96 and 0.76
    l1, u1 = wilson(a + b, n)
    l2, u2 = wilson(a + c, n)
    phi = (a * d - b * c) / math.sqrt((a + b) * (c + d) * (a + c) * (b + d))  # -24 / sqrt(48 * 2 * 38 * 12)
    assert phi == pytest.approx(-24 / math.sqrt(43776))
    # Newcombe's method 10 for p1 - p2, then negated for second - first
    delta = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    eps = math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    low, high = paired_difference_interval(a, b, c, d)
    assert (low, high) == pytest.approx((-(p1 - p2 + eps), -(p1 - p2 - delta)), rel=1e-12)
    assert (low, high) == pytest.approx((-0.3404, -0.0569), abs=1e-4)


def test_newcombe_with_an_empty_margin_uses_no_correlation():
    """All ten pairs right both times: phi is 0 and the interval is the two Wilson half-widths combined."""
    low, high = paired_difference_interval(10, 0, 0, 0)
    l1, u1 = wilson(10, 10)
    assert (low, high) == pytest.approx((-(1 - l1), 1 - l1), rel=1e-12)  # sqrt((1 - l)^2 + 0) each side
    assert all(math.isnan(x) for x in paired_difference_interval(0, 0, 0, 0))


@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
def test_newcombe_contains_the_estimate_and_mirrors(a, b, c, d):
    if a + b + c + d == 0:
        return
    low, high = paired_difference_interval(a, b, c, d)
    estimate = (c - b) / (a + b + c + d)
    assert -1 <= low <= estimate + 1e-12 and estimate - 1e-12 <= high <= 1
    mirrored = paired_difference_interval(a, c, b, d)
    assert mirrored == pytest.approx((-high, -low), abs=1e-12)


def test_exact_mcnemar_by_hand():
    assert mcnemar_exact(1, 7) == pytest.approx(2 * (1 + 8) / 2 ** 8)  # 2 P(X <= 1), X ~ Bin(8, 1/2)
    assert mcnemar_exact(7, 1) == pytest.approx(mcnemar_exact(1, 7))
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(3, 3) == 1.0


def test_pair_summary_counts():
    first = pd.Series([True, True, True, False, False, True])
    second = pd.Series([True, False, False, False, True, False])
    s = pair_summary(first, second)
    assert (s["both_correct"], s["only_first"], s["only_second"], s["both_wrong"]) == (1, 3, 1, 1)
    assert s["accuracy_first"] == pytest.approx(4 / 6) and s["accuracy_second"] == pytest.approx(2 / 6)
    assert s["difference"] == pytest.approx(-2 / 6)
    assert s["mcnemar_p"] == pytest.approx(mcnemar_exact(3, 1))


def frame(rows: list[dict]) -> pd.DataFrame:
    """A minimal joined table: the columns the paired tables read."""
    base = {"model": "m", "task": "t", "construction": "c", "source": "s", "suite": False, "control_of": None,
            "controller": None, "attractor_condition": None, "pair_type": None, "set_id": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_control_pairs_by_hand():
    """Four depth-2 items and their controls: the test items lose 3, the controls lose 1, one pair differs the other way."""
    tests = [(True, True), (False, True), (False, True), (True, False), (False, False)]  # (item right, control right)
    rows = []
    for i, (item, control) in enumerate(tests):
        rows.append({"item_id": f"i{i}", "kind": "test", "depth": 2, "correct": float(item)})
        rows.append({"item_id": f"i{i}/control", "kind": "control", "depth": 0, "control_of": f"i{i}",
                     "correct": float(control)})
    rows.append({"item_id": "i9/control", "kind": "control", "depth": 0, "control_of": "i9", "correct": 1.0})  # orphan
    out = control_comparison(frame(rows))
    assert len(out) == 1
    row = out.iloc[0]
    assert row.depth == 2 and row.n_test == row.n_control == 5
    assert (row.both_correct, row.only_test, row.only_control, row.both_wrong) == (1, 1, 2, 1)
    assert row.accuracy_test == pytest.approx(2 / 5) and row.accuracy_control == pytest.approx(3 / 5)
    assert row.gap == pytest.approx(1 / 5)
    assert (row.gap_low, row.gap_high) == pytest.approx(paired_difference_interval(1, 1, 2, 1))
    assert row.mcnemar_p == pytest.approx(mcnemar_exact(1, 2)) and row.p_holm == pytest.approx(row.mcnemar_p)


def test_depth_pairs_pair_the_same_set_and_condition_by_hand():
    """Two ladders; depth 0 has no attractor, so it is the baseline of the 'match' items only."""
    rows = []
    for s, (base, match, mismatch) in enumerate([(True, True, False), (True, False, False)]):
        for controller in ("sg", "pl"):
            rows.append({"item_id": f"d0/{s}{controller}", "kind": "test", "depth": 0, "set_id": f"s{s}",
                         "controller": controller, "correct": float(base)})
            rows.append({"item_id": f"d1/{s}{controller}m", "kind": "test", "depth": 1, "set_id": f"s{s}",
                         "controller": controller, "attractor_condition": "match", "correct": float(match)})
            rows.append({"item_id": f"d1/{s}{controller}x", "kind": "test", "depth": 1, "set_id": f"s{s}",
                         "controller": controller, "attractor_condition": "mismatch", "correct": float(mismatch)})
    out = depth_pairs(frame(rows))
    assert len(out) == 1
    row = out.iloc[0]
    assert (row.depth, row.base_depth, row.n_pairs) == (1, 0, 4)  # 2 sets x 2 controllers, match items only
    assert (row.both_correct, row.only_first, row.only_second, row.both_wrong) == (2, 2, 0, 0)
    assert row.difference == pytest.approx(-0.5)


def test_items_drawn_independently_per_depth_give_no_depth_pairs():
    rows = [{"item_id": f"d{d}/{i}", "kind": "test", "depth": d, "set_id": f"d{d}/s{i}", "correct": 1.0}
            for d in range(3) for i in range(4)]
    assert depth_pairs(frame(rows)).empty


def test_condition_contrasts_by_hand():
    rows = []
    for s, (match, mismatch) in enumerate([(True, False), (True, False), (True, True), (False, True)]):
        rows.append({"item_id": f"{s}m", "kind": "test", "depth": 1, "set_id": f"s{s}", "controller": "sg",
                     "attractor_condition": "match", "correct": float(match)})
        rows.append({"item_id": f"{s}x", "kind": "test", "depth": 1, "set_id": f"s{s}", "controller": "sg",
                     "attractor_condition": "mismatch", "correct": float(mismatch)})
    out = condition_contrasts(frame(rows))
    assert list(out["factor"]) == ["attractor_condition"]  # one controller value: no controller contrast
    row = out.iloc[0]
    assert (row["first"], row["second"]) == ("match", "mismatch")
    assert (row.both_correct, row.only_first, row.only_second, row.both_wrong) == (1, 2, 1, 0)
    assert row.difference == pytest.approx(-1 / 4)


def test_the_fixture_pairs_equal_a_recount_from_judgments():
    """fake-weak minimal-pair: depth d vs depth 0 of the same ladder, recounted from judgments.jsonl."""
    import json

    items = {i["id"]: i for i in H.read_items()}
    judged = {}
    for line in (H.RUN_WEAK / "judgments.jsonl").read_text().splitlines():
        j = json.loads(line)
        if j["task"] == "minimal-pair" and j["kind"] == "test" and j["correct"] is not None:
            judged[j["item_id"]] = j["correct"]
    loaded = load_runs([H.RUN_WEAK])
    out = depth_pairs(judgment_table(loaded.judgments, loaded.items))
    out = out[out.task == "minimal-pair"].set_index("depth")
    for depth in (1, 2, 3):
        counts = [0, 0, 0, 0]
        for item_id, right in judged.items():
            item = items[item_id]
            condition = item["condition"] or {}
            if item["depth"] != depth or condition.get("attractors") != "match":
                continue
            base = next(i for i in items.values() if i["kind"] == "test" and i["depth"] == 0
                        and i["set_id"] == item["set_id"] and i["condition"]["controller"] == condition["controller"])
            if base["id"] not in judged:
                continue
            first = judged[base["id"]]
            counts[(0 if first else 2) + (0 if right else 1)] += 1
        row = out.loc[depth]
        assert [row.both_correct, row.only_first, row.only_second, row.both_wrong] == counts
