"""minimal-pair: identical conditions for both members, all scores recorded, verdict rules."""

from __future__ import annotations

import pytest

from _eval_helpers import items, make_item
from depthkit.backends.base import ScoreRequest, TokenScores
from depthkit.backends.fake import FakeBackend
from depthkit.errors import DepthkitError
from depthkit.present import Presentation, render
from depthkit.tasks import judge_minimal_pair, make_task, minimal_pair_requests

FIELDS = {"id": "t/d1/000", "depth": 1, "construction": "c", "kind": "test", "control_of": None,
          "good": "the doctor that the boys know smiles", "bad": "the doctor that the boys know smile",
          "regions": {"target": {"good": [6, 7], "bad": [6, 7]}, "critical": {"good": [6, 7], "bad": [6, 7]}}}
ITEM = make_item(**FIELDS)


def scores_for(text: str, values: list[float]) -> TokenScores:
    """One token per word (leading space included) plus the period."""
    r = render(text, Presentation(capitalize=False, period=True))
    pieces = [(s, r.text[s:e]) for s, e in r.word_spans] + [(len(r.text) - 1, ".")]
    assert len(values) == len(pieces)
    return TokenScores(tuple(p for _, p in pieces), tuple(o for o, _ in pieces), tuple(values))


def test_requests_are_whole_sentences_under_the_same_conditions():
    good, bad = minimal_pair_requests(ITEM)
    assert good == ScoreRequest("", "The doctor that the boys know smiles.")
    assert bad == ScoreRequest("", "The doctor that the boys know smile.")


def test_item_without_bad_member_gets_no_verdict():
    item = make_item(**{**FIELDS, "bad": None, "regions": {"target": None, "critical": None}})
    (req,) = minimal_pair_requests(item)
    correct, by, scores = judge_minimal_pair(item, FakeBackend().score([req]))
    assert correct is None and by is None and "good_sum" in scores and "bad_sum" not in scores


@pytest.mark.parametrize("rule", ["critical", "sum", "mean"])
def test_verdict_rules_and_recorded_scores(rule):
    p = Presentation(capitalize=False)
    # shared prefix identical; good wins on every score
    good = scores_for(ITEM.good, [-1, -1, -1, -1, -1, -1, -2, -10])
    bad = scores_for(ITEM.bad, [-1, -1, -1, -1, -1, -1, -3, -9.5])
    correct, by, s = judge_minimal_pair(ITEM, [good, bad], p, rule)
    assert by == rule
    assert s["good_sum"] == -18 and s["bad_sum"] == -18.5
    assert s["good_mean"] == -18 / 8 and s["good_n_tokens"] == 8
    assert s["good_critical"] == -12 and s["bad_critical"] == -12.5  # " smiles" + "."
    assert s["good_target"] == -12 and s["good_critical_n_tokens"] == 2
    assert s["good_words"][:6] == [-1] * 6
    assert correct is True
    assert s["diff"] == pytest.approx(s[f"good_{rule}"] - s[f"bad_{rule}"])


def test_critical_region_differs_from_sum_when_the_tail_is_not_shared():
    item = make_item(**{**FIELDS, "regions": {"target": {"good": [6, 7], "bad": [6, 7]},
                                              "critical": {"good": [6, 7], "bad": [6, 7]}}})
    good = scores_for(item.good, [-1, -1, -1, -1, -1, -9, -2, -1])  # an odd prefix does not count
    bad = scores_for(item.bad, [-1, -1, -1, -1, -1, -1, -3, -1])
    p = Presentation(capitalize=False)
    assert judge_minimal_pair(item, [good, bad], p, "critical")[0] is True
    assert judge_minimal_pair(item, [good, bad], p, "sum")[0] is False


def test_ties_are_not_correct_and_missing_critical_falls_back_to_sum():
    item = make_item(**{**FIELDS, "regions": {"target": None, "critical": None}})
    same = scores_for(item.good, [-1] * 8)
    correct, by, _ = judge_minimal_pair(item, [same, scores_for(item.bad, [-1] * 8)],
                                        Presentation(capitalize=False), "critical")
    assert correct is False and by == "sum"


def test_task_record_has_the_schema_keys():
    task = make_task("minimal-pair")
    item = items()[0]
    record = task.judge(item, FakeBackend().score(task.requests(item)), "fake").to_dict()
    assert list(record) == ["item_id", "model", "task", "depth", "construction", "kind", "control_of", "correct",
                            "verdict_by", "scores"]
    assert record["item_id"] == item.id and record["model"] == "fake" and record["task"] == "minimal-pair"
    for key in ("good_sum", "bad_sum", "good_mean", "bad_mean", "good_critical", "bad_critical"):
        assert isinstance(record["scores"][key], float)


def test_unknown_task_and_rule():
    with pytest.raises(DepthkitError, match="unknown task"):
        make_task("cloze")
    with pytest.raises(DepthkitError, match="verdict rule"):
        make_task("minimal-pair", verdict_by="max")
