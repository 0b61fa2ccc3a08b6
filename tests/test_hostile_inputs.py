"""Broken and hostile input through the CLI, in-process: every case exits 2 with a message naming the file and a fix.

The corpus is tests/data/broken (built by tests/data/broken/build.py): grammar files each broken in one way,
and pipeline folders (gen/ from `depthkit generate`, run/ from `depthkit eval`) with one broken file each.
``messages.json`` holds the exact first line of each case's error (``{dir}`` stands for the case's folder);
refresh it after an intended change of wording with ``PYTHONPATH=$PWD python -m tests.test_hostile_inputs --freeze``.
No case may hang: the code's own limits (file size, aliases, feature combinations) stop each one.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

BROKEN = Path(__file__).resolve().parent / "data" / "broken"
GRAMMAR_CASES = sorted(p.stem for p in (BROKEN / "grammars").glob("*.yaml"))
PIPELINE_CASES = sorted(p.name for p in (BROKEN / "pipeline").iterdir() if (p / "case.json").is_file())
MESSAGES_FILE = BROKEN / "messages.json"
GRAMMAR_COMMANDS = ("check", "generate")


def _setup_fifo(folder: Path) -> None:
    os.mkfifo(folder / "inc" / "pipe.yaml")


def _setup_huge(folder: Path) -> None:
    with (folder / "inc" / "huge.yaml").open("wb") as f:
        f.truncate(3_000_000)  # sparse: larger than yamlfile.MAX_BYTES without writing 3 MB


SETUPS = {"fifo": _setup_fifo, "huge": _setup_huge}


def _grammar_case(name: str, tmp: Path) -> tuple[Path, str]:
    """A copy of the case (with inc/) in ``tmp``, and the words its message must contain."""
    shutil.copytree(BROKEN / "grammars", tmp / "g", ignore=shutil.ignore_patterns("*.yaml"), dirs_exist_ok=True)
    shutil.copytree(BROKEN / "grammars" / "inc", tmp / "g" / "inc", dirs_exist_ok=True)
    path = tmp / "g" / f"{name}.yaml"
    raw = (BROKEN / "grammars" / f"{name}.yaml").read_bytes()
    path.write_bytes(raw)
    text = raw.decode("utf-8", errors="replace")
    expect = text.splitlines()[0].removeprefix("# expect: ")
    for line in text.splitlines():
        if line.startswith("# setup: "):
            SETUPS[line.removeprefix("# setup: ")](tmp / "g")
    return path, expect


def _run(argv: list[str], capsys) -> tuple[int, str]:
    from depthkit.cli import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


def _pipeline_case(name: str, tmp: Path) -> None:
    """A copy of the case in ``tmp``, its manifests pointing at this checkout's tests/ folder."""
    shutil.copytree(BROKEN / "pipeline" / name, tmp, dirs_exist_ok=True)
    for manifest in tmp.glob("*/manifest.json"):
        raw = manifest.read_bytes()
        manifest.write_bytes(raw.replace(b"{tests}", str(BROKEN.parent.parent).encode()))


def _grammar_argv(command: str, path: Path, tmp: Path) -> list[str]:
    if command == "check":
        return ["grammar", "check", str(path), "--no-stimuli"]
    return ["generate", "-g", str(path), "-d", "0-2", "-n", "2", "-o", str(tmp / "out")]


def _pipeline_argv(command: str) -> list[str]:
    return {
        "eval": ["eval", "gen", "--model", "fake", "-o", "run", "-q"],
        "eval-verified": ["eval", "gen", "--model", "fake", "-o", "run", "-q", "--verified-only"],
        "report": ["report", "run", "-o", "rep"],
        "verify": ["verify", "gen", "--no-spacy", "--no-benepar"],
    }[command]


def _first_line(err: str, folder: Path) -> str:
    line = next((x for x in err.splitlines() if x.startswith("error:")), err.splitlines()[0] if err else "")
    return line.replace(str(folder.resolve()), "{dir}").replace(str(folder), "{dir}")


def _messages() -> dict[str, str]:
    return json.loads(MESSAGES_FILE.read_text(encoding="utf-8")) if MESSAGES_FILE.exists() else {}


MESSAGES = _messages()


def _check(code: int, err: str, key: str, names: list[str], expect: str, folder: Path) -> None:
    assert "Traceback" not in err, err
    assert code == 2, f"exit {code}: {err}"
    assert err.startswith("error: "), err
    for name in names:
        assert name in err, f"{name!r} not named in: {err}"
    assert expect in err, f"{expect!r} not in: {err}"
    assert "\n  fix: " in err, f"no fix in: {err}"
    if key in MESSAGES:
        assert _first_line(err, folder) == MESSAGES[key]


@pytest.mark.parametrize("command", GRAMMAR_COMMANDS)
@pytest.mark.parametrize("name", GRAMMAR_CASES)
def test_hostile_inputs_grammar_file_is_refused(name, command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, expect = _grammar_case(name, tmp_path)
    code, err = _run(_grammar_argv(command, path, tmp_path), capsys)
    names = [path.name]
    text = path.read_text(encoding="utf-8", errors="replace")
    if name.startswith("include-") and "include: [" in text and name != "include-self":
        names.append(text.split("include: [")[1].split("]")[0].split("/")[-1])
    _check(code, err, f"grammar/{name}/{command}", names, expect, tmp_path / "g")
    assert not (tmp_path / "out").exists(), "generate wrote output for a broken grammar"


@pytest.mark.parametrize("name", PIPELINE_CASES)
def test_hostile_inputs_pipeline_file_is_refused(name, tmp_path, capsys, monkeypatch):
    case = json.loads((BROKEN / "pipeline" / name / "case.json").read_text())
    _pipeline_case(name, tmp_path)
    monkeypatch.chdir(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p.name != "case.json"}
    code, err = _run(_pipeline_argv(case["command"]), capsys)
    _check(code, err, f"pipeline/{name}", [case["file"]], case["expect"], tmp_path)
    for path, data in before.items():  # nothing written over the files given, the manifests included
        assert path.exists() and path.read_bytes() == data, f"{path} changed"


def _freeze() -> None:
    """Rewrite messages.json from what the code prints now (review the diff!)."""
    import tempfile

    from depthkit.cli import main

    out: dict[str, str] = {}

    for name in GRAMMAR_CASES:
        for command in GRAMMAR_COMMANDS:
            with tempfile.TemporaryDirectory() as tmp:
                tmp = Path(tmp)
                os.chdir(tmp)
                path, _ = _grammar_case(name, tmp)
                out[f"grammar/{name}/{command}"] = _first_line(_capture(main, _grammar_argv(command, path, tmp)),
                                                               tmp / "g")
    for name in PIPELINE_CASES:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            case = json.loads((BROKEN / "pipeline" / name / "case.json").read_text())
            _pipeline_case(name, tmp)
            os.chdir(tmp)
            out[f"pipeline/{name}"] = _first_line(_capture(main, _pipeline_argv(case["command"])), tmp)
    MESSAGES_FILE.write_text(json.dumps(out, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(out)} messages written to {MESSAGES_FILE}")


def _capture(main, argv: list[str]) -> str:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        main(argv)
    return err.getvalue()


if __name__ == "__main__" and "--freeze" in sys.argv:
    _freeze()
