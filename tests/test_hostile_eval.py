"""Eval on hostile run folders: a crash after the judgments are written leaves an honest status, and what
cannot be resumed (judgments of unknown items, no manifest, duplicated ids, no items) is refused."""

from __future__ import annotations

import json
import shutil

import pytest

import depthkit.evaluation as evaluation
from _eval_helpers import items_folder
from depthkit.errors import InputError, StaleOutputError
from depthkit.evaluation import evaluate


def _status(run) -> str:
    return json.loads((run / "manifest.json").read_text())["eval"]["status"]


def test_hostile_eval_crash_while_rewriting_judgments_records_failed(tmp_path, monkeypatch):
    folder = items_folder(tmp_path)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(evaluation, "write_jsonl", crash)
    with pytest.raises(OSError):
        evaluate(folder, "fake", out=tmp_path / "run", progress=False)
    assert _status(tmp_path / "run") == "failed"
    monkeypatch.undo()
    evaluate(folder, "fake", out=tmp_path / "run", progress=False)  # the same command finishes it
    assert _status(tmp_path / "run") == "complete"


def test_hostile_eval_interrupt_while_rewriting_judgments_records_interrupted(tmp_path, monkeypatch):
    folder = items_folder(tmp_path)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluation, "final_order", interrupt)
    with pytest.raises(KeyboardInterrupt):
        evaluate(folder, "fake", out=tmp_path / "run", progress=False)
    assert _status(tmp_path / "run") == "interrupted"


def test_hostile_eval_resume_refuses_judgments_of_unknown_items(tmp_path):
    folder = items_folder(tmp_path)
    run = tmp_path / "run"
    evaluate(folder, "fake", out=run, progress=False)
    lines = (run / "judgments.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["item_id"] = "nowhere/d9/999"
    (run / "judgments.jsonl").write_text("\n".join([json.dumps(record)] + lines[1:]) + "\n")
    with pytest.raises(InputError, match="not in the .* items") as info:
        evaluate(folder, "fake", out=run, progress=False)
    assert str(info.value.path).endswith("judgments.jsonl")


def test_hostile_eval_deleted_run_manifest_is_named(tmp_path):
    folder = items_folder(tmp_path)
    run = tmp_path / "run"
    evaluate(folder, "fake", out=run, progress=False)
    (run / "manifest.json").unlink()
    with pytest.raises(StaleOutputError, match="manifest.json is missing") as info:
        evaluate(folder, "fake", out=run, progress=False)
    assert "another model" not in str(info.value)


def test_hostile_eval_refuses_duplicate_item_ids_and_empty_items(tmp_path):
    folder = items_folder(tmp_path)
    lines = (folder / "items.jsonl").read_text().splitlines()
    (folder / "items.jsonl").write_text("\n".join(lines + lines[:1]) + "\n")
    with pytest.raises(InputError, match="already appeared on line 1"):
        evaluate(folder, "fake", out=tmp_path / "run", progress=False)
    (folder / "items.jsonl").write_text("")
    with pytest.raises(InputError, match="holds no items"):
        evaluate(folder, "fake", out=tmp_path / "run2", progress=False)
    assert not (tmp_path / "run2" / "judgments.jsonl").exists()
    shutil.rmtree(folder)
