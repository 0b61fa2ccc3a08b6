"""The real pipeline into the report: generate -> verify (spaCy) -> eval (fake backend) -> report.

Marked slow because verification loads the real spaCy pipeline (about 8 s here).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import pytest

import depthkit
from depthkit.generation import write_generated
from depthkit.report import build_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from depthkit.evaluation import evaluate
    from depthkit.verify import verify_folder

    root = tmp_path_factory.mktemp("pipeline")
    grammar = depthkit.load_grammar("object-rc")
    items = depthkit.generate(grammar, depths="0-2", per_depth=8, seed=3, controls=True)
    generated = root / "generated" / "orc"
    write_generated(generated, grammar, items, {"depths": [0, 1, 2], "per_depth": 8, "seed": 3, "controls": True})
    verify_folder(generated, skip=("benepar",), progress=False)
    runs = []
    for name, accuracy in (("good", "0.95"), ("poor", "0.6")):
        run = generated / "runs" / name
        evaluate(generated, "fake", ("minimal-pair", "judgment"), run, progress=False,
                 options={"items": str(generated / "items.jsonl"), "accuracy": accuracy, "decay": "0.2"})
        runs.append(run)
    html = build_report(runs, root / "reports" / "orc", threshold=0.6)
    return runs, html


def test_report_numbers_equal_the_runs_judgments(pipeline):
    runs, html = pipeline
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for run in runs:
        for line in (run / "judgments.jsonl").read_text(encoding="utf-8").splitlines():
            j = json.loads(line)
            if j["kind"] == "test" and j["correct"] is not None:
                cell = counts[(run.name, j["task"], j["depth"])]
                cell[0] += j["correct"]
                cell[1] += 1
    with (html.parent / "accuracy_by_depth.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(counts) == 2 * 2 * 3
    for row in rows:
        run = row["model"].split("(")[-1].rstrip(")")  # both runs use the model 'fake': labelled by run folder
        k, n = counts[(run, row["task"], int(row["depth"]))]
        assert (int(row["n_correct"]), int(row["n"])) == (k, n)
        assert float(row["accuracy"]) == pytest.approx(k / n)


def test_report_shows_the_runs_facts(pipeline):
    runs, html = pipeline
    page = html.read_text(encoding="utf-8")
    assert "fake (good)" in page and "fake (poor)" in page
    assert "not available" in page  # benepar was skipped during verification
    assert "No constituency (benepar) model was available during verification" in page
    assert "judgment.yaml" in page  # the prompt file of the prompted task
    with (html.parent / "parser_agreement.csv").open(encoding="utf-8", newline="") as f:
        checks = {r["check"] for r in csv.DictReader(f)}
    assert {"grammar", "spacy", "benepar"} <= checks
