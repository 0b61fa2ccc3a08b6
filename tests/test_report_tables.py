"""`depthkit report` end to end on the fixture: files, numbers recomputed from judgments.jsonl, facts, escaping."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import statistics
from collections import defaultdict
from pathlib import Path

import _report_helpers as H
import pytest

from depthkit.cli import main
from depthkit.errors import DepthkitError, InputError, StaleOutputError, UsageError
from depthkit.report import build_report, load_runs


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "fixture-report"
    html = build_report([H.RUN_STRONG, H.RUN_WEAK], out, threshold=0.6, title="Fixture report")
    assert html == out / "report.html"
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def judgments() -> list[dict]:
    out = []
    for run in (H.RUN_STRONG, H.RUN_WEAK):
        with (run / "judgments.jsonl").open(encoding="utf-8") as f:
            out.extend(json.loads(line) for line in f if line.strip())
    return out


def test_the_report_folder_holds_every_file(report):
    for name in ("report.html", "report.md", "manifest.json", "accuracy_by_depth.csv", "controls_by_depth.csv",
                 "breaking_depth.csv", "regression.csv", "verified_vs_all.csv", "parser_agreement.csv",
                 "critical_differences.csv", "task_comparison.csv", "judgments_joined.csv", "ladder_pairs.csv",
                 "accuracy_by_condition.csv", "condition_contrasts.csv", "collinearity.csv", "control_match.csv",
                 "answer_bias.csv", "suites.csv", "references.csv"):
        assert (report / name).is_file(), name
    for figure in ("accuracy_vs_depth", "accuracy_by_condition", "controls_vs_depth", "construction_depth_heatmap",
                   "critical_difference_by_depth", "parser_agreement_vs_depth"):
        for ext in ("png", "svg"):
            path = report / "figures" / f"{figure}.{ext}"
            assert path.is_file() and path.stat().st_size > 5000, path
    assert (report / "figures" / "accuracy_vs_depth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (report / "figures" / "accuracy_vs_depth.svg").read_bytes()[:2000]
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["report"]["threshold"] == 0.6 and len(manifest["report"]["runs"]) == 2
    assert manifest["report"]["references"] is None  # no reference points unless asked


def test_accuracy_csv_equals_a_recomputation_from_judgments(report):
    """Counted here with plain Python over judgments.jsonl, independent of depthkit.analysis."""
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])  # correct, with verdict, without
    for j in judgments():
        if j["kind"] != "test":
            continue
        cell = cells[(j["model"], j["task"], j["construction"], j["depth"])]
        if j["correct"] is None:
            cell[2] += 1
        else:
            cell[0] += j["correct"]
            cell[1] += 1
    rows = read_csv(report / "accuracy_by_depth.csv")
    assert list(rows[0])[:8] == ["model", "task", "construction", "depth", "n", "n_correct", "accuracy", "ci_low"]
    assert len(rows) == len(cells)
    for row in rows:
        k, n, none = cells[(row["model"], row["task"], row["construction"], int(row["depth"]))]
        assert int(row["n"]) == n and int(row["n_correct"]) == k and int(row["n_no_verdict"]) == none
        assert float(row["accuracy"]) == pytest.approx(k / n, abs=1e-12)
        # Wilson by hand
        z, p = 1.959963984540054, k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        assert float(row["ci_low"]) == pytest.approx(max(0.0, centre - half), abs=1e-12)
        assert float(row["ci_high"]) == pytest.approx(min(1.0, centre + half), abs=1e-12)


def test_control_csv_pairs_each_item_with_its_own_control(report):
    """Recounted here: per model, task and depth of the test item, (item right, its control right) pairs."""
    records = judgments()
    verdicts = {(j["model"], j["task"], j["item_id"]): j["correct"] for j in records}
    depth_of = {j["item_id"]: j["depth"] for j in records if j["kind"] == "test"}
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # both, only test, only control, neither
    for j in records:
        test = verdicts.get((j["model"], j["task"], j["control_of"]))
        if j["kind"] != "control" or j["correct"] is None or test is None:
            continue
        cells[(j["model"], j["task"], depth_of[j["control_of"]])][(0 if test else 2) + (0 if j["correct"] else 1)] += 1
    rows = read_csv(report / "controls_by_depth.csv")
    assert len(rows) == len(cells)
    for row in rows:
        both, only_test, only_control, neither = cells[(row["model"], row["task"], int(row["depth"]))]
        got = [int(row[c]) for c in ("both_correct", "only_test", "only_control", "both_wrong")]
        assert got == [both, only_test, only_control, neither]
        n = both + only_test + only_control + neither
        assert int(row["n_test"]) == int(row["n_control"]) == n
        assert float(row["gap"]) == pytest.approx((only_control - only_test) / n, abs=1e-12)
        assert float(row["p_holm"]) >= float(row["mcnemar_p"])
    assert {int(r["depth"]) for r in rows} == {1, 2, 3}  # depth-0 items have no controls: they are the baseline


def test_verified_csv_equals_a_recomputation(report):
    verified = {}
    with (H.GENERATED / "verification.jsonl").open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            verified[record["item_id"]] = record["verified"]
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for j in judgments():
        if j["kind"] == "test" and j["correct"] is not None and verified[j["item_id"]]:
            cell = cells[(j["model"], j["task"], j["depth"])]
            cell[0] += j["correct"]
            cell[1] += 1
    for row in read_csv(report / "verified_vs_all.csv"):
        k, n = cells[(row["model"], row["task"], int(row["depth"]))]
        assert int(row["n_verified"]) == n
        assert float(row["accuracy_verified"]) == pytest.approx(k / n, abs=1e-12)


def test_critical_csv_equals_a_recomputation(report):
    diffs: dict[tuple, list[float]] = defaultdict(list)
    for j in judgments():
        s = j["scores"]
        if j["kind"] == "test" and "good_critical" in s:
            diffs[(j["model"], j["task"], j["depth"])].append(s["good_critical"] - s["bad_critical"])
    rows = read_csv(report / "critical_differences.csv")
    assert len(rows) == len(diffs)
    for row in rows:
        values = diffs[(row["model"], row["task"], int(row["depth"]))]
        assert float(row["median"]) == pytest.approx(statistics.median(values), abs=1e-9)
        assert float(row["mean"]) == pytest.approx(statistics.fmean(values), abs=1e-9)
        assert float(row["share_positive"]) == pytest.approx(sum(v > 0 for v in values) / len(values))


def test_breaking_depth_csv(report):
    rows = {(r["model"], r["task"]): r for r in read_csv(report / "breaking_depth.csv")}
    assert rows[("fake-weak", "minimal-pair")]["breaking_depth"] == "3"
    assert rows[("fake-weak", "minimal-pair")]["status"] == "breaks"
    assert rows[("fake-strong", "minimal-pair")]["breaking_depth"] == ""
    assert rows[("fake-strong", "minimal-pair")]["status"] == "holds"
    assert rows[("fake-strong", "minimal-pair")]["max_depth"] == "3"
    weak = rows[("fake-weak", "judgment")]
    assert weak["status"] == "undecided" and weak["n_min"] == "20"
    assert float(weak["detectable"]) == pytest.approx(7 / 20)  # 7/20 is the most a depth of 20 can have and break


def test_regression_csv_has_coefficient_interval_and_p(report):
    rows = read_csv(report / "regression.csv")
    methods = {r["method"] for r in rows}
    assert {"logit", "mixed logit (VB), set + lemma intercepts", "GEE logit, set clusters"} <= methods
    weak = [r for r in rows if r["model"] == "fake-weak" and r["task"] == "minimal-pair" and r["term"] == "depth"]
    for r in weak:
        assert r["status"] == "ok"
        assert float(r["ci_low"]) < float(r["coef"]) < float(r["ci_high"]) < 0
        assert 0 <= float(r["p"]) < 0.05
        assert int(r["n"]) == sum(H.N_TEST.values()) - 1  # test items with a verdict; no controls
    plain = [r for r in rows if r["method"] == "logit" and r["term"] == "depth"]
    assert len(plain) == 3 and all(float(r["p_holm"]) >= float(r["p"]) for r in plain)
    assert {float(r["n_groups"]) for r in rows if r["method"] == "GEE logit, set clusters"} == {5.0}  # five ladders


def test_html_shows_the_tables_facts_and_summary(report):
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "<title>Fixture report</title>" in page
    # numbers from accuracy_by_depth.csv appear in the page (2 decimals)
    weak3 = next(r for r in read_csv(report / "accuracy_by_depth.csv")
                 if r["model"] == "fake-weak" and r["task"] == "minimal-pair" and r["depth"] == "3")
    assert f"{float(weak3['accuracy']):.2f} [{float(weak3['ci_low']):.2f}, {float(weak3['ci_high']):.2f}] · n 20" in page
    assert "What the curves show" in page and "It breaks at depth 3" in page
    assert "on average" not in page  # no signed gaps averaged across curves
    assert "No constituency (benepar) model was available during verification" in page
    generated = json.loads((H.GENERATED / "manifest.json").read_text())["generate"]
    assert "object-rc" in page and generated["grammar_sha256"][:12] in page
    assert re.search(r"<td[^>]*>seed</td><td[^>]*>1</td>", page)
    assert "GEE logit, set clusters" in page and "set + lemma intercepts" in page
    assert "How well the controls matched their items" in page and "The same sets at every depth" in page
    assert "Accuracy by condition" in page
    # self-contained: figures are data URIs, nothing is fetched
    assert page.count('src="data:image/png;base64,') == 6
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<link" not in page and "<script" not in page


def test_markdown_report(report):
    md = (report / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Fixture report")
    assert "![Accuracy vs depth](figures/accuracy_vs_depth.png)" in md
    assert "| construction | depth |" in md


def test_text_from_models_grammars_and_items_is_escaped(tmp_path):
    data = H.copy_fixture(tmp_path)
    evil_model = '<script>alert("model")</script>'
    evil_construction = '<img src=x onerror=alert(1)> & "rc"'
    for run in ("run-strong", "run-weak"):
        path = data / run / "judgments.jsonl"
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        for record in lines:
            record["model"] = evil_model + run
            record["construction"] = evil_construction
        path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    manifest = json.loads((data / "generated" / "manifest.json").read_text())
    manifest["generate"]["grammar"] = "<b>grammar</b>"
    (data / "generated" / "manifest.json").write_text(json.dumps(manifest))
    html = build_report([data / "run-strong", data / "run-weak"], tmp_path / "out", title="<i>title</i>")
    page = html.read_text(encoding="utf-8")
    for raw in (evil_model, "<img src=x", "<b>grammar</b>", "<i>title</i>"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#34;model&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;rc&#34;" in page
    assert "<script" not in page
    md = (html.parent / "report.md").read_text(encoding="utf-8")
    assert "<script" not in md and "<img" not in md and "&lt;script&gt;" in md


def test_a_folder_holding_items_and_judgments_works_without_an_eval_manifest(tmp_path):
    folder = tmp_path / "together"
    shutil.copytree(H.GENERATED, folder)
    shutil.copy(H.RUN_WEAK / "judgments.jsonl", folder / "judgments.jsonl")
    html = build_report([folder], tmp_path / "out")
    rows = read_csv(html.parent / "accuracy_by_depth.csv")
    assert {r["model"] for r in rows} == {"fake-weak"}


def test_runs_inside_the_generated_folder_are_found(tmp_path):
    data = H.copy_fixture(tmp_path)
    run = data / "generated" / "runs" / "weak"
    run.parent.mkdir()
    shutil.move(str(data / "run-weak"), run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["eval"]["items"] = str(tmp_path / "moved-away")  # the items are no longer where eval read them
    H.write_manifest(run, manifest)
    assert load_runs([run]).runs[0].generated == (data / "generated").resolve()


def test_the_same_model_in_two_runs_is_told_apart(tmp_path):
    data = H.copy_fixture(tmp_path)
    shutil.copytree(data / "run-strong", data / "run-strong-again")
    loaded = load_runs([data / "run-strong", data / "run-strong-again"])
    labels = {j.judgment.model for j in loaded.judgments}
    assert labels == {"fake-strong (run-strong)", "fake-strong (run-strong-again)"}
    assert loaded.notes


def test_a_record_written_twice_counts_once(tmp_path):
    data = H.copy_fixture(tmp_path)
    path = data / "run-strong" / "judgments.jsonl"
    first = path.read_text().splitlines()[0]
    with path.open("a") as f:
        f.write(first + "\n")
    assert len(load_runs([data / "run-strong"]).judgments) == len(H.read_items())


def test_bad_input_names_the_file_line_and_fix(tmp_path):
    data = H.copy_fixture(tmp_path)
    with pytest.raises(UsageError, match="run folder not found"):
        load_runs([tmp_path / "nope"])
    with pytest.raises(UsageError, match="no judgments.jsonl"):
        load_runs([data / "generated"])
    path = data / "run-strong" / "judgments.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3] + ["{not json"] + lines[3:]) + "\n")
    with pytest.raises(DepthkitError) as err:
        load_runs([data / "run-strong"])
    assert err.value.line == 4 and err.value.fix
    record = json.loads(lines[0])
    record["item_id"] = "object-rc/d9/999"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(StaleOutputError, match="not in .*items.jsonl"):
        load_runs([data / "run-strong"])
    record["item_id"] = json.loads(lines[0])["item_id"]
    record["correct"] = "yes"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(InputError) as err:  # 'correct' must be true, false or null
        load_runs([data / "run-strong"])
    assert (err.value.path, err.value.line, err.value.field) == (path, 1, "correct") and err.value.fix
    path.write_text("\n".join(lines) + "\n")
    manifest = json.loads((data / "run-strong" / "manifest.json").read_text())
    manifest["eval"]["items_sha256"] = "0" * 64
    H.write_manifest(data / "run-strong", manifest)
    with pytest.raises(StaleOutputError, match="changed after this run judged it"):
        load_runs([data / "run-strong"])
    manifest["eval"]["items"] = "../missing"
    H.write_manifest(data / "run-strong", manifest)
    shutil.rmtree(data / "generated")
    with pytest.raises(InputError, match="cannot find the items"):
        load_runs([data / "run-strong"])
    with pytest.raises(UsageError, match="threshold"):
        build_report([H.RUN_WEAK], tmp_path / "x", threshold=1.2)


def test_cli_json_and_exit_codes(tmp_path, capsys):
    out = tmp_path / "cli-report"
    code = main(["report", str(H.RUN_STRONG), str(H.RUN_WEAK), "--out", str(out), "--threshold", "0.6", "--json"])
    assert code == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["report"] == str(out / "report.html")
    breaking = {(b["model"], b["task"]): b for b in facts["breaking_depth"]}
    assert breaking[("fake-weak", "minimal-pair")]["breaking_depth"] == 3
    assert breaking[("fake-strong", "minimal-pair")]["breaking_depth"] is None
    assert breaking[("fake-strong", "minimal-pair")]["status"] == "holds"
    assert breaking[("fake-weak", "judgment")]["status"] == "undecided"
    assert breaking[("fake-weak", "judgment")]["undecided_depths"] == [0, 1, 2, 3]
    assert any("It breaks at depth 3" in s["text"] for s in facts["summary"])
    assert main(["report", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "run folder not found" in capsys.readouterr().err


def test_without_controls_verification_or_scores_the_report_says_what_is_missing(tmp_path):
    data = H.copy_fixture(tmp_path)
    (data / "generated" / "verification.jsonl").unlink()
    path = data / "run-weak" / "judgments.jsonl"
    kept = [line for line in path.read_text().splitlines()
            if json.loads(line)["kind"] == "test" and json.loads(line)["task"] == "judgment"]
    path.write_text("\n".join(kept) + "\n")
    html = build_report([data / "run-weak"], tmp_path / "out")
    page = html.read_text(encoding="utf-8")
    assert "No verification.jsonl was found" in page
    assert "These items have no controls" in page
    assert page.count('src="data:image/png;base64,') == 3  # the curve, conditions and the heatmap; nothing else
    assert read_csv(html.parent / "verified_vs_all.csv") == []
    assert len(read_csv(html.parent / "accuracy_by_depth.csv")) == len(H.DEPTHS)


def test_a_run_given_twice_counts_once_and_an_unfinished_run_is_flagged(tmp_path):
    data = H.copy_fixture(tmp_path)
    manifest = json.loads((data / "run-strong" / "manifest.json").read_text())
    manifest["eval"]["status"] = "running"
    (data / "run-strong" / "manifest.json").write_text(json.dumps(manifest))
    loaded = load_runs([data / "run-strong", data / "run-strong" / "judgments.jsonl"])
    assert len(loaded.judgments) == len(H.read_items())
    assert any("more than once" in n for n in loaded.notes)
    assert any("not complete (status: running)" in n for n in loaded.notes)
