"""The report notices inputs that do not fit together: stale verification, cut-short judgments, pairless items."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import _report_helpers as H

from depthkit.analysis import analyze, critical_differences, judgment_table
from depthkit.cli import main
from depthkit.report import build_report, load_runs
from depthkit.report.narrative import summary
from depthkit.store import sha256_file
from depthkit.tasks.info import chance_level

CONSTRUCTION = json.loads((H.GENERATED / "items.jsonl").read_text().splitlines()[0])["construction"]


def _edit_manifest(folder: Path, section: str, **facts) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.setdefault(section, {}).update(facts)
    path.write_text(json.dumps(manifest))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------- 1. verification of other items

def test_verification_made_for_other_items_is_ignored_and_said_so(tmp_path, caplog):
    data = H.copy_fixture(tmp_path)
    _edit_manifest(data / "generated", "verify", settings={"items_sha256": "0" * 64})
    loaded = load_runs([data / "run-strong"])
    assert loaded.verification == {}
    note = next(n for n in loaded.notes if "is from an earlier items.jsonl" in n)
    assert f"depthkit verify {(data / 'generated').resolve()} --force" in note
    assert any("earlier items.jsonl" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
    page = build_report([data / "run-strong"], tmp_path / "out").read_text(encoding="utf-8")
    assert "is from an earlier items.jsonl" in page and "--force" in page
    assert _read_csv(tmp_path / "out" / "verified_vs_all.csv") == []


def test_verification_made_for_these_items_is_used(tmp_path):
    data = H.copy_fixture(tmp_path)
    generated = data / "generated"
    _edit_manifest(generated, "verify", settings={"items_sha256": sha256_file(generated / "items.jsonl")})
    loaded = load_runs([data / "run-strong"])
    assert len(loaded.verification) == len(H.read_items())
    assert not any("earlier items.jsonl" in n for n in loaded.notes)


# --------------------------------------------------------------------------- 3. judgments cut short

def test_a_complete_run_with_missing_judgments_is_flagged(tmp_path, caplog):
    data = H.copy_fixture(tmp_path)
    run = data / "run-strong"
    path = run / "judgments.jsonl"
    lines = path.read_text().splitlines()
    _edit_manifest(run, "eval", status="complete", counts={"judgments": len(lines)})
    assert not any("cut short" in n for n in load_runs([run]).notes)  # intact: no note
    path.write_text("\n".join(lines[:-7]) + "\n" + lines[-7][:30])  # 6 lines gone, a 7th cut mid-record
    caplog.clear()
    loaded = load_runs([run])
    assert len(loaded.judgments) == len(lines) - 7
    note = next(n for n in loaded.notes if "cut short" in n)
    assert f"holds {len(lines) - 7} judgments" in note and f"recorded {len(lines)}" in note
    assert any("cut short" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
    page = build_report([run], tmp_path / "out").read_text(encoding="utf-8")
    assert f"recorded {len(lines)}" in page


# --------------------------------------------------------------------------- 2. items without a bad twin

def _pairless_run(data: Path) -> Path:
    """A generated set whose items have no bad member, judged by 'fake-single' on two tasks."""
    generated = data / "single"
    generated.mkdir()
    items = [json.loads(line) for line in (data / "generated" / "items.jsonl").read_text().splitlines()]
    items = [{**item, "bad": None} for item in items if item["kind"] == "test"]
    position = H.positions(items)
    H.write_jsonl(generated / "items.jsonl", items)
    judgments = []
    for item in items:
        base = {"item_id": item["id"], "model": "fake-single", "depth": item["depth"],
                "construction": item["construction"], "kind": "test", "control_of": None}
        judgments.append({**base, "task": "minimal-pair", "correct": None, "verdict_by": None,
                          "scores": {"good_sum": -20.0, "good_critical": -8.0}})
        right = position[item["id"]] % 2 == 0  # half the good sentences accepted at every depth
        judgments.append({**base, "task": "judgment", "correct": right, "verdict_by": "logprobs",
                          "scores": {"good_answer": "Yes" if right else "No", "good_correct": right}})
    run = data / "run-single"
    H.write_jsonl(run / "judgments.jsonl", judgments)
    H.write_manifest(run, {"eval": H.eval_section("fake-single", ["minimal-pair", "judgment"], "../single",
                                                  generated / "items.jsonl", len(judgments))})
    return run


def test_pairless_items_say_no_verdicts_and_judgment_chance_is_one_half(tmp_path, capsys):
    data = H.copy_fixture(tmp_path)
    run = _pairless_run(data)
    out = tmp_path / "out"
    assert main(["report", str(run), str(H.RUN_WEAK), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    c = CONSTRUCTION
    assert f"fake-single · minimal-pair · {c}: no verdicts" in err
    assert f"fake-single · minimal-pair · {c}: holds" not in err
    assert f"fake-single · minimal-pair · {c}: undecided" not in err
    assert f"fake-weak · minimal-pair · {c}: breaks at depth 3" in err
    breaking = {(r["model"], r["task"]): r for r in _read_csv(out / "breaking_depth.csv")}
    assert breaking[("fake-single", "minimal-pair")]["n_verdicts"] == "0"
    rows = _read_csv(out / "accuracy_by_depth.csv")
    chance = {(r["model"], r["task"]): float(r["chance"]) for r in rows}
    assert chance[("fake-single", "judgment")] == 0.5  # one member: a coin is right half the time
    assert chance[("fake-weak", "judgment")] == chance_level("judgment")  # paired items: the task's fact
    assert chance[("fake-single", "minimal-pair")] == 0.5
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "no verdicts" in page

    loaded = load_runs([run, H.RUN_WEAK])
    findings = dict(summary(analyze(judgment_table(loaded.judgments, loaded.items, loaded.verification),
                                    loaded.verification.values())))
    assert findings[f"fake-single · minimal-pair · {c}"].startswith("No verdicts")
    assert "No depth up to" not in findings[f"fake-single · minimal-pair · {c}"]
    assert "cannot be told apart from chance (0.5)" in findings[f"fake-single · judgment · {c}"]
    assert f"({chance_level('judgment'):g})" in findings[f"fake-weak · judgment · {c}"]


# --------------------------------------------------------------------------- 6. target-only share

def test_target_only_share_appears_when_judgments_have_target_scores(tmp_path):
    data = H.copy_fixture(tmp_path)
    path = data / "run-strong" / "judgments.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    position = H.positions(H.read_items())
    for record in records:
        scores = record["scores"]
        index = position[record["item_id"]]
        # target words alone prefer the good member for even indices only
        scores["good_target"], scores["bad_target"] = (-3.0, -4.0) if index % 2 == 0 else (-4.0, -3.0)
    H.write_jsonl(path, records)
    loaded = load_runs([data / "run-strong"])
    critical = critical_differences(judgment_table(loaded.judgments, loaded.items))
    assert set(critical["share_positive_target"]) == {0.5}
    page = build_report([data / "run-strong"], tmp_path / "out").read_text(encoding="utf-8")
    assert "target words alone prefer good" in page

    plain = critical_differences(judgment_table(load_runs([H.RUN_STRONG]).judgments, load_runs([H.RUN_STRONG]).items))
    assert plain["share_positive_target"].isna().all()
    page = build_report([H.RUN_STRONG], tmp_path / "plain").read_text(encoding="utf-8")
    assert "target words alone prefer good" not in page
