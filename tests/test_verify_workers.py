"""`depthkit verify --workers N`: the chart parse in worker processes gives the same records, in order, resumable."""

from __future__ import annotations

import json
import shutil

import pytest

from depthkit.errors import UsageError
from depthkit.verify import verify_folder
from depthkit.verify import workers
from depthkit.verify.workers import resolve_workers

from _verify_helpers import AMBIGUOUS_GRAMMAR, make_generated, read_records

FAST = dict(skip=("spacy", "benepar"), progress=False)


def test_workers_records_identical_to_one_process_and_in_item_order(tmp_path):
    one = make_generated(tmp_path / "one", depths="0-3", per_depth=6)
    two = shutil.copytree(one, tmp_path / "two")
    verify_folder(one, workers=1, batch_size=5, **FAST)
    summary = verify_folder(two, workers=2, batch_size=5, **FAST)
    assert (two / "verification.jsonl").read_bytes() == (one / "verification.jsonl").read_bytes()
    assert (two / "verification_summary.csv").read_bytes() == (one / "verification_summary.csv").read_bytes()
    assert summary["records"] == summary["items"] == len(read_records(two)) > 10
    assert {r["grammar"]["status"] for r in read_records(two)} == {"ok"}


def test_workers_ambiguous_grammar_failures_are_the_same_with_spawned_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "start_method", lambda: "spawn")  # what a process with threads gets
    one = make_generated(tmp_path / "one", depths="0-2", per_depth=4, grammar=AMBIGUOUS_GRAMMAR)
    two = shutil.copytree(one, tmp_path / "two")
    verify_folder(one, workers=1, **FAST)
    verify_folder(two, workers=2, batch_size=3, **FAST)
    records = read_records(two)
    assert records == read_records(one)
    assert any(r["grammar"]["ambiguous"] for r in records)  # the check really ran in the workers


def test_workers_resume_a_partial_run(tmp_path):
    whole = make_generated(tmp_path / "whole", depths="0-2", per_depth=5)
    part = shutil.copytree(whole, tmp_path / "part")
    verify_folder(whole, workers=1, **FAST)
    lines = (whole / "verification.jsonl").read_text().splitlines(keepends=True)
    (part / "verification.jsonl").write_text("".join(lines[:7]))  # as left by an interrupted run
    verify_folder(part, workers=2, batch_size=4, **FAST)
    assert (part / "verification.jsonl").read_text() == "".join(lines)


def test_workers_count_is_checked():
    assert resolve_workers(3) == 3 and resolve_workers(0) >= 1
    with pytest.raises(UsageError):
        resolve_workers(-1)


def test_workers_imported_suite_items_without_a_tree_are_not_applicable(tmp_path):
    from pathlib import Path

    from depthkit.suites import import_syntaxgym

    suites = Path(__file__).parent / "data" / "suites"
    one, two = tmp_path / "one", tmp_path / "two"
    import_syntaxgym([suites / "syntaxgym" / "number_orc.json"], one)
    shutil.copytree(one, two)
    verify_folder(one, workers=1, **FAST)
    verify_folder(two, workers=2, **FAST)
    assert (two / "verification.jsonl").read_bytes() == (one / "verification.jsonl").read_bytes()
    assert {r["grammar"]["status"] for r in read_records(two)} == {"not_run"}


def test_workers_cli_option_is_recorded_and_checked(tmp_path, capsys):
    from depthkit.cli import main

    folder = make_generated(tmp_path / "set", depths="0-1", per_depth=2)
    assert main(["verify", str(folder), "--no-spacy", "--no-benepar", "--workers", "2", "--json"]) == 0
    capsys.readouterr()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["verify"]["timing"]["workers"] == 2 and manifest["verify"]["complete"]
    assert main(["verify", str(folder), "--workers", "-1"]) == 2
    assert "--workers" in capsys.readouterr().err
