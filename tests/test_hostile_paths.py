"""Paths: the manifest names the grammar so `verify` finds it from any folder; shipped names beat local folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from depthkit.cli import main
from depthkit.errors import UsageError
from depthkit.grammar import load_grammar
from depthkit.grammar.shipped import resolve_grammar_path

TINY = Path(__file__).parent / "data" / "grammars" / "tiny-rc.yaml"


def test_hostile_paths_manifest_grammar_path_is_absolute_and_verify_works_elsewhere(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    (work / "g").mkdir(parents=True)
    shutil.copy(TINY, work / "g" / "mine.yaml")
    monkeypatch.chdir(work)
    assert main(["generate", "-g", "g/mine.yaml", "-d", "0-1", "-n", "1", "-o", "out"]) == 0, capsys.readouterr().err
    recorded = json.loads((work / "out" / "manifest.json").read_text())["generate"]["grammar_path"]
    assert Path(recorded).is_absolute() and Path(recorded) == (work / "g" / "mine.yaml").resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code = main(["verify", str(work / "out"), "--no-spacy", "--no-benepar"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "cannot find grammar" not in err


def test_hostile_paths_shipped_name_wins_over_a_local_folder(tmp_path, monkeypatch):
    (tmp_path / "object-rc").mkdir()
    (tmp_path / "object-rc" / "object-rc.yaml").write_text("name: decoy\n")
    monkeypatch.chdir(tmp_path)
    path = resolve_grammar_path("object-rc")
    assert path.name == "object-rc.yaml" and path.parent.name == "grammars"
    assert load_grammar("object-rc").name == "object-rc"
    with pytest.raises(UsageError, match="folder, not a grammar file"):
        resolve_grammar_path("./object-rc")


def test_hostile_paths_explicit_local_file_is_used(tmp_path, monkeypatch):
    shutil.copy(TINY, tmp_path / "object-rc")  # a file without .yaml, named like a shipped grammar
    monkeypatch.chdir(tmp_path)
    assert resolve_grammar_path("object-rc").parent.name == "grammars"
    assert load_grammar("./object-rc").name == "tiny-rc"
