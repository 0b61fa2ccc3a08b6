"""Accuracy by condition, collinearity of depth with length and distance, and how well controls matched — by hand."""

from __future__ import annotations

import json
import math

import _report_helpers as H
import numpy as np
import pandas as pd
import pytest

from depthkit.analysis import collinearity, condition_accuracy, control_match, judgment_table, wilson_interval
from depthkit.report import load_runs


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    loaded = load_runs([H.RUN_WEAK])
    return judgment_table(loaded.judgments, loaded.items, loaded.verification)


def test_accuracy_by_condition_equals_a_recount(table):
    items = {i["id"]: i for i in H.read_items()}
    cells: dict[tuple, list[int]] = {}
    for line in (H.RUN_WEAK / "judgments.jsonl").read_text().splitlines():
        j = json.loads(line)
        if j["kind"] != "test" or j["correct"] is None:
            continue
        condition = items[j["item_id"]]["condition"]
        key = (j["task"], j["depth"], condition["controller"], condition.get("attractors"))
        cell = cells.setdefault(key, [0, 0])
        cell[0] += j["correct"]
        cell[1] += 1
    out = condition_accuracy(table)
    assert len(out) == len(cells)
    for row in out.itertuples():
        k, n = cells[(row.task, row.depth, row.controller, row.attractor_condition)]
        assert (row.n_correct, row.n) == (k, n)
        assert (row.ci_low, row.ci_high) == pytest.approx(wilson_interval(k, n))
    assert out[out.depth == 0]["attractor_condition"].isna().all()  # nothing between controller and verb at depth 0


def test_collinearity_by_hand(table):
    tests = table[table.kind == "test"].drop_duplicates("item_id")
    row = collinearity(table).iloc[0]
    r_words = np.corrcoef(tests.depth, tests.n_words)[0, 1]
    r_sv = np.corrcoef(tests.depth, tests.sv_distance)[0, 1]
    assert row.n_items == len(tests) == sum(H.N_TEST.values())
    assert row.r_n_words == pytest.approx(r_words) and row.r_sv_distance == pytest.approx(r_sv)
    X = np.column_stack([np.ones(len(tests)), tests.n_words, tests.sv_distance])
    fitted = X @ np.linalg.lstsq(X, tests.depth.to_numpy(float), rcond=None)[0]
    r2 = 1 - ((tests.depth - fitted) ** 2).sum() / ((tests.depth - tests.depth.mean()) ** 2).sum()
    assert row.r2_depth == pytest.approx(r2) and row.vif_depth == pytest.approx(1 / (1 - r2))
    expected = [n for n, r in (("n_words", r_words), ("sv_distance", r_sv)) if abs(r) > 0.9]
    assert row.inseparable == ", ".join(expected)


def test_control_match_by_hand(table):
    items = H.read_items()
    tests = {i["id"]: i for i in items if i["kind"] == "test"}
    out = control_match(table).set_index("depth")
    for depth in (1, 2, 3):
        controls = [i for i in items if i["kind"] == "control" and tests[i["control_of"]]["depth"] == depth]
        row = out.loc[depth]
        assert row.n_controls == len(controls) == H.N_CONTROLS[depth]
        for fact in ("sv_distance", "attractors", "n_words"):
            gaps = [c["match"][fact] for c in controls]
            assert row[f"exact_{fact}"] == pytest.approx(sum(g == 0 for g in gaps) / len(gaps))
            assert row[f"mean_abs_{fact}"] == pytest.approx(sum(abs(g) for g in gaps) / len(gaps))
        same = [c["pair"]["good_value"] == tests[c["control_of"]]["pair"]["good_value"] for c in controls]
        assert row.same_direction == pytest.approx(sum(same) / len(same)) == 1.0


def test_control_match_without_a_fact_says_nothing_about_it():
    rows = pd.DataFrame([
        {"source": "s", "item_id": "t", "kind": "test", "grammar": "g", "construction": "c", "depth": 1,
         "matched_depth": 1, "good_value": "sg", "control_of": None, "suite": False,
         "match_n_words": math.nan, "match_sv_distance": math.nan, "match_attractors": math.nan},
        {"source": "s", "item_id": "t/control", "kind": "control", "grammar": "g", "construction": "c", "depth": 0,
         "matched_depth": 1, "good_value": "pl", "control_of": "t", "suite": False,
         "match_n_words": 2.0, "match_sv_distance": math.nan, "match_attractors": math.nan}])
    row = control_match(rows).iloc[0]
    assert row.exact_n_words == 0.0 and row.mean_abs_n_words == 2.0
    assert math.isnan(row.exact_sv_distance) and math.isnan(row.mean_abs_attractors)
    assert row.same_direction == 0.0  # the control flipped the number direction
