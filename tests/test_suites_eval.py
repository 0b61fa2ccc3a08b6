"""`depthkit eval` on imported suites: the suite's own measure with no --task, checked by direct computation."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from depthkit.backends import get_backend
from depthkit.backends.base import ScoreRequest
from depthkit.cli import main
from depthkit.store import load_manifest, read_items
from depthkit.suites import import_blimp, import_syntaxgym
from depthkit.suites.formula import FormulaError, holds, parse_formula
from depthkit.tasks import make_task

SUITES = Path(__file__).parent / "data" / "suites"
BLIMP = SUITES / "blimp" / "distractor_agreement_relative_clause.jsonl"
SG = [SUITES / "syntaxgym" / f"{n}.json" for n in ("number_orc", "number_prep", "center_embed")]

# The published predictions, written out by hand: (condition, region) surprisals -> holds
HAND = {
    "number_orc": lambda s: s["match_sing", 7] < s["mismatch_sing", 7] and s["match_plural", 7] < s["mismatch_plural", 7],
    "number_prep": lambda s: s["match_sing", 6] < s["mismatch_sing", 6] and s["match_plural", 6] < s["mismatch_plural", 6],
    "center_embed": lambda s: s["plaus", 6] + s["plaus", 7] < s["implaus", 6] + s["implaus", 7],
}


def _judgments(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _word_of(text: str, offset: int) -> int:
    """The index of the word a token starting at ``offset`` belongs to (its leading space goes with the word)."""
    p = offset
    while p < len(text) and text[p] == " ":
        p += 1
    return len(text[:p + 1].split()) - 1


def _direct_surprisals(raw_item: dict, backend) -> dict[tuple[str, int], float]:
    """Region surprisals (bits) computed directly from the suite JSON and the backend's token scores."""
    out = {}
    for cond in raw_item["conditions"]:
        contents = [r["content"] for r in cond["regions"]]
        text = " ".join(c for c in contents if c.strip())
        region_of_word = [r["region_number"] for r in cond["regions"] for _ in r["content"].split()]
        scores = backend.score([ScoreRequest("", text)])[0]
        for r in cond["regions"]:
            out[cond["condition_name"], r["region_number"]] = 0.0
        for off, lp in zip(scores.offsets, scores.logprobs):
            out[cond["condition_name"], region_of_word[_word_of(text, off)]] += -lp / math.log(2)
    return out


def test_suites_eval_syntaxgym_default_task_equals_the_formulas_computed_directly(tmp_path, capsys):
    folder = tmp_path / "sg"
    import_syntaxgym(SG, folder)
    assert main(["eval", str(folder), "--model", "fake", "--out", str(folder / "runs" / "fake"), "-q"]) == 0
    run = folder / "runs" / "fake"
    judgments = {j["item_id"]: j for j in _judgments(run / "judgments.jsonl")}
    assert {j["task"] for j in judgments.values()} == {"syntaxgym"}
    assert list(load_manifest(run).eval.tasks) == ["syntaxgym"]
    backend = get_backend("fake")
    for path in SG:
        suite = json.loads(path.read_text())
        name = suite["meta"]["name"]
        expected = [HAND[name](_direct_surprisals(raw, backend)) for raw in suite["items"]]
        got = [judgments[f"syntaxgym/{name}/{raw['item_number']:04d}"]["correct"] for raw in suite["items"]]
        assert got == expected, name
        assert 0 < sum(got) < len(got)  # the fake gives both outcomes: the comparison can fail
    first = judgments["syntaxgym/number_orc/0001"]["scores"]
    direct = _direct_surprisals(json.loads(SG[0].read_text())["items"][0], backend)
    for k, value in enumerate(first["surprisal"]["mismatch_plural"], start=1):
        assert value == pytest.approx(direct["mismatch_plural", k], rel=1e-9)


def test_suites_eval_blimp_default_is_the_whole_sentence_comparison(tmp_path):
    folder = tmp_path / "bl"
    import_blimp([BLIMP], folder)
    assert main(["eval", str(folder), "--model", "fake", "--limit", "60", "--out", str(folder / "r"), "-q"]) == 0
    judgments = _judgments(folder / "r" / "judgments.jsonl")
    assert len(judgments) == 60 and {(j["task"], j["verdict_by"]) for j in judgments} == {("minimal-pair", "sum")}
    backend = get_backend("fake")
    items = {i.id: i for i in read_items(folder)}
    for j in judgments:
        item = items[j["item_id"]]
        good, bad = backend.score([ScoreRequest("", item.good), ScoreRequest("", item.bad)])
        assert j["correct"] == (good.total > bad.total)
        assert j["scores"]["diff"] == pytest.approx(good.total - bad.total, rel=1e-9)


def test_suites_eval_explicit_task_still_wins(tmp_path):
    folder = tmp_path / "sg"
    import_syntaxgym(SG[:1], folder)
    assert main(["eval", str(folder), "--model", "fake", "--task", "minimal-pair", "--out", str(tmp_path / "r"),
                 "-q"]) == 0
    judgments = _judgments(tmp_path / "r" / "judgments.jsonl")
    assert {(j["task"], j["verdict_by"]) for j in judgments} == {("minimal-pair", "critical")}


def test_suites_eval_syntaxgym_task_gives_no_verdict_without_a_table():
    item = read_items(Path(__file__).parent / "data" / "report" / "syntaxgym")[0]
    assert item.suite is None
    task = make_task("syntaxgym")
    assert task.requests(item) == [] and task.verdict(item, []) == (None, None, {})


def test_suites_eval_report_shows_each_paradigm_as_its_own_row(tmp_path):
    sg, bl = tmp_path / "sg", tmp_path / "bl"
    import_syntaxgym(SG, sg)
    import_blimp([BLIMP], bl)
    for folder in (sg, bl):
        assert main(["eval", str(folder), "--model", "fake", "--out", str(folder / "r"), "-q"]) == 0
    assert main(["report", str(sg / "r"), str(bl / "r"), "--out", str(tmp_path / "rep")]) == 0
    with open(tmp_path / "rep" / "suites.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    by = {(r["suite"], r["construction"]): r for r in rows}
    assert {k for k in by} >= {("syntaxgym", "number_orc"), ("syntaxgym", "number_prep"),
                               ("syntaxgym", "center_embed"), ("blimp", "distractor_agreement_relative_clause")}
    orc = [j for j in _judgments(sg / "r" / "judgments.jsonl") if j["construction"] == "number_orc"]
    row = by["syntaxgym", "number_orc"]
    assert row["task"] == "syntaxgym" and int(row["n"]) == 19
    assert float(row["accuracy"]) == pytest.approx(sum(j["correct"] for j in orc) / 19, rel=1e-9)


@pytest.mark.parametrize("formula, values, expected", [
    ("(1;%a%) < (1;%b%)", {("a", 1): 1.0, ("b", 1): 2.0}, True),
    ("(1;%a%) > (1;%b%)", {("a", 1): 1.0, ("b", 1): 2.0}, False),
    ("[(1;%a%) < (1;%b%)] & [(2;%a%) < (2;%b%)]", {("a", 1): 1, ("b", 1): 2, ("a", 2): 3, ("b", 2): 2}, False),
    ("[(1;%a%) < (1;%b%)] | [(2;%a%) < (2;%b%)]", {("a", 1): 1, ("b", 1): 2, ("a", 2): 3, ("b", 2): 2}, True),
    ("[ (1;%a%) + (2;%a%) ] < [ (1;%b%) + (2;%b%) ]", {("a", 1): 1, ("b", 1): 2, ("a", 2): 3, ("b", 2): 2.5}, True),
    ("(1;%a%) - (1;%b%) > 0.5", {("a", 1): 3.0, ("b", 1): 2.0}, True),
    ("(1;%a%) = (1;%b%)", {("a", 1): 100.0, ("b", 1): 100.0009}, True),
    ("(1;%a%) = (1;%b%)", {("a", 1): 100.0, ("b", 1): 100.01}, False),
    ("(*;%a%) < (*;%b%)", {("a", 1): 1.0, ("a", 2): 5.0, ("b", 1): 2.0, ("b", 2): 3.0}, False),
])
def test_suites_eval_formula_follows_syntaxgym_notation(formula, values, expected):
    assert holds(formula, values) is expected


@pytest.mark.parametrize("bad", ["(1;%a%) <", "[(1;%a%) < (1;%b%)", "(1;%a%) < (1;%b%) )", "(x;%a%) < 1", ""])
def test_suites_eval_formula_errors_say_where(bad):
    with pytest.raises(FormulaError, match="at character"):
        parse_formula(bad)
