"""`depthkit eval` and `depthkit models list` on the command line: output, and errors without tracebacks."""

from __future__ import annotations

import json

import pytest

from _eval_helpers import items, items_folder, read_judgments
from depthkit.cli import main


def test_eval_prints_the_judgments_path(tmp_path, capsys):
    folder = items_folder(tmp_path)
    code = main(["eval", str(folder), "--model", "fake", "--out", str(tmp_path / "run"), "--task", "minimal-pair",
                 "--option", "seed=2", "--verdict-by", "sum", "--no-period"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    path = captured.out.strip()
    assert path == str(tmp_path / "run" / "judgments.jsonl")
    records = read_judgments(path)
    assert len(records) == len(items()) and records[0]["verdict_by"] == "sum"
    assert "minimal-pair accuracy by depth" in captured.err
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())["eval"]
    assert manifest["presentation"]["period"] is False and manifest["backend"]["options"]["seed"] == 2


@pytest.mark.parametrize("args, message", [
    (["--option", "colour=blue"], "has no option colour"),
    (["--option", "seed"], "is not KEY=VALUE"),
    (["--model", "nosuch:thing"], "unknown backend 'nosuch'"),
    (["--verified-only"], "verification.jsonl"),
    (["--task", "cloze"], "unknown task 'cloze'"),
    (["--verdict-by", "max"], "unknown verdict rule"),
    (["--prompt", "/nowhere.yaml", "--task", "judgment"], "prompt file not found"),
])
def test_errors_are_one_paragraph_without_traceback(tmp_path, capsys, args, message):
    folder = items_folder(tmp_path)
    code = main(["eval", str(folder), "--model", "fake", "--out", str(tmp_path / "run"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err and err.startswith("error:")


def test_out_that_cannot_be_created(tmp_path, capsys):
    folder = items_folder(tmp_path)
    assert main(["eval", str(folder), "--model", "fake", "--out", "/proc/depthkit-test/run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: /proc/depthkit-test/run: cannot create") and "Traceback" not in err


def test_changed_items_are_refused_then_force_starts_over(tmp_path, capsys):
    folder = items_folder(tmp_path)
    args = ["eval", str(folder), "--model", "fake", "--out", str(tmp_path / "run"), "-q"]
    assert main(args) == 0
    old = read_judgments(tmp_path / "run" / "judgments.jsonl")
    lines = (folder / "items.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "items.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")  # regenerated: one item fewer
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "different items.jsonl" in err and "--force" in err and "Traceback" not in err
    assert main([*args, "--force"]) == 0
    assert "moved to" in capsys.readouterr().err
    assert len(read_judgments(tmp_path / "run" / "judgments.jsonl")) == len(old) - 1
    assert read_judgments(tmp_path / "run" / "judgments.jsonl.stale-1") == old


def test_pairless_items_are_refused_for_minimal_pair(tmp_path, capsys):
    folder = tmp_path / "pairless"
    folder.mkdir()
    row = next(i for i in items() if not i.bad)
    (folder / "items.jsonl").write_text(json.dumps(row.to_dict()) + "\n", encoding="utf-8")
    assert main(["eval", str(folder), "--model", "fake", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "grammar has no `pair:`" in err and "--task judgment" in err and "Traceback" not in err


def test_missing_folder(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nothing"), "--model", "fake"]) == 2
    err = capsys.readouterr().err
    assert "folder not found" in err and "Traceback" not in err


def test_models_list_text_and_json(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "embedded (default" in out and "fake" in out and "needs:" in out
    assert main(["models", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["default"] == "embedded"
    names = {b["name"]: b for b in data["backends"]}
    assert {"embedded", "hf", "fake", "openai"} <= set(names)
    assert names["fake"]["available"] is True and "delay" in names["fake"]["options"]


def test_a_run_whose_model_fails_is_recorded_as_failed(tmp_path, capsys):
    folder = items_folder(tmp_path)
    out = tmp_path / "run"
    code = main(["eval", str(folder), "--model", f"hf:{tmp_path / 'no-such-model'}", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err
    manifest = json.loads((out / "manifest.json").read_text())["eval"]
    assert manifest["status"] == "failed" and "cannot load model" in manifest["error"]
