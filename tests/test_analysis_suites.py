"""External suites as their own rows, beside the matching depthkit construction, and the reference points."""

from __future__ import annotations

import json

import _report_helpers as H
import pandas as pd
import pytest

from depthkit.analysis import analyze, judgment_table, reference_table, suite_accuracy, wilson_interval
from depthkit.report import load_runs
from depthkit.report.references import load_references
from depthkit.schema import ReferencePoint, SuiteMatch


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    loaded = load_runs([H.RUN_STRONG, H.RUN_BLIMP, H.RUN_SYNTAXGYM])
    return judgment_table(loaded.judgments, loaded.items, loaded.verification)


MATCHES = [SuiteMatch(suite="syntaxgym", name="number_orc", grammar="object-rc", depth=1, why="one object RC"),
           SuiteMatch(suite="blimp", name="regular_plural_subject_verb_agreement_1", grammar="object-rc", depth=0,
                      why="simple agreement"),
           SuiteMatch(suite="blimp", name="regular_plural_subject_verb_agreement_1", grammar="subject-rc", depth=0,
                      why="simple agreement")]


def test_suite_items_are_kept_out_of_the_depth_analysis(table):
    analysis = analyze(table)
    assert set(analysis.accuracy["construction"]) == {"object relative clauses (center-embedded)"}
    assert set(analysis.slopes["construction"]) == {"object relative clauses (center-embedded)"}
    assert set(analysis.suites["construction"]) == {"number_orc", *H.BLIMP_PARADIGMS}


def test_suite_rows_equal_a_recount_and_sit_beside_their_match(table):
    out = suite_accuracy(table, MATCHES)
    for run, paradigm in ((H.RUN_BLIMP, p) for p in H.BLIMP_PARADIGMS):
        records = [json.loads(x) for x in (run / "judgments.jsonl").read_text().splitlines()]
        k = sum(r["correct"] for r in records if r["construction"] == paradigm)
        n = sum(1 for r in records if r["construction"] == paradigm)
        rows = out[out.construction == paradigm]
        assert set(rows["n"]) == {n} and set(rows["n_correct"]) == {k}
        assert rows.iloc[0][["ci_low", "ci_high"]].tolist() == pytest.approx(wilson_interval(k, n))
    orc = out[out.construction == "number_orc"].iloc[0]
    assert orc.suite == "syntaxgym" and orc.task == "syntaxgym" and orc.verdict_by == "prediction"
    # beside it: fake-strong's minimal-pair accuracy on object-rc at depth 1 (its own task was not run there)
    assert orc.match_task == "minimal-pair" and orc.match_depth == 1
    assert (orc.match_n, orc.match_accuracy) == (H.N_TEST[1], H.CORRECT[("fake-strong", "minimal-pair")][1] / H.N_TEST[1])
    plural = out[out.construction == "regular_plural_subject_verb_agreement_1"].set_index("match_grammar")
    assert plural.loc["object-rc", "match_accuracy"] == 1.0 and plural.loc["object-rc", "match_task"] == "minimal-pair"
    assert plural.loc["subject-rc", "match_n"] == 0  # not in this report
    unmatched = out[out.construction == "distractor_agreement_relative_clause"].iloc[0]
    assert pd.isna(unmatched.match_grammar)


def test_reference_points_carry_their_match(table):
    points = load_references().points
    refs = reference_table(points, MATCHES, table)
    orc = refs[refs.id == "syntaxgym-gpt2-number-orc"].iloc[0]
    assert orc.accuracy == 0.63 and orc["items"] == 19 and orc.model == "GPT-2"
    assert orc.match_construction == "object relative clauses (center-embedded)" and orc.match_depth == 1
    assert len(refs[refs.id == "blimp-gpt2-regular-plural-1"]) == 2  # two matches listed
    assert reference_table([], MATCHES, table).empty


def test_the_shipped_references_hold_the_published_numbers():
    """The numbers from the sources in /work/shared (BLiMP summaries, LITERATURE.md), with their item counts."""
    refs = {p.id: p for p in load_references().points}
    assert (refs["blimp-gpt2-distractor-rc"].accuracy, refs["blimp-gpt2-distractor-rc"].items) == (0.657, 1000)
    assert (refs["blimp-humans-distractor-rc"].accuracy, refs["blimp-humans-distractor-rc"].items) == (0.857, 98)
    assert refs["blimp-gpt2-regular-plural-1"].accuracy == 0.967
    assert (refs["syntaxgym-gpt2-number-orc"].accuracy, refs["syntaxgym-gpt2-number-prep"].accuracy) == (0.63, 0.79)
    assert all(isinstance(p, ReferencePoint) and p.citation and p.source for p in refs.values())
    shared = H.SHARED_SUITES / "blimp" / "models_summary.jsonl"
    if shared.is_file():  # the published file itself, where this machine has it
        summary = {r["UID"]: r for r in map(json.loads, shared.read_text().splitlines()) if r["UID"] != "overall"}
        for point in refs.values():
            if point.suite == "blimp" and point.model == "GPT-2":
                assert summary[point.name]["gpt2"] == point.accuracy
    matches = load_references().matches
    assert ("syntaxgym", "number_orc", "object-rc", 1) in {(m.suite, m.name, m.grammar, m.depth) for m in matches}
