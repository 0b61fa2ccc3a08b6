"""`depthkit grammar list|check` and `generate` through the CLI's main(), in process; one real console run."""

import json
import subprocess
import sys

import pytest

from depthkit.cli import main


@pytest.fixture
def run(capsys):
    """Run ``depthkit ARGS`` in this process; returns (exit code, stdout, stderr)."""
    def call(*args):
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_cli_grammar_list_json_has_every_shipped_construction(run):
    code, out, err = run("grammar", "list", "--json")
    assert code == 0, err
    rows = json.loads(out)
    names = {r["name"] for r in rows}
    assert {"object-rc", "subject-rc", "pp-attractors", "sentential-complements", "possessives", "coordination",
            "reflexive-rc", "filler-gap"} <= names
    assert all(r["pair"] for r in rows)


def test_cli_grammar_check_prints_facts(run):
    code, out, err = run("grammar", "check", "object-rc", "--max-depth", "4", "--json")
    assert code == 0, err
    facts = json.loads(out)
    assert [d["reachable"] for d in facts["depths"]] == [True] * 5
    assert facts["depths"][1]["min_words"] == 7  # "the N that the N TV IV"
    assert facts["pair"]["flip"] == "NUM"


def test_cli_generate_writes_items_and_reports_path(run, tmp_path):
    out = tmp_path / "set"
    code, stdout, stderr = run("generate", "-g", "pp-attractors", "-d", "0-2", "-n", "3", "-s", "5", "-o", str(out))
    assert code == 0, stderr
    assert stdout.strip() == str(out / "items.jsonl")
    lines = (out / "items.jsonl").read_text().splitlines()
    # -n 3 rounds up to one set: sg/pl at depth 0, sg/pl x attractors match/mismatch at depths 1 and 2
    assert len(lines) == 10 and all(json.loads(line)["grammar"] == "pp-attractors" for line in lines)
    assert "wrote 10 items" in stderr


def test_cli_generate_console_entry_point(tmp_path):
    """The one real process: `python -m depthkit` runs main(), data on stdout, messages on stderr."""
    out = tmp_path / "set"
    proc = subprocess.run([sys.executable, "-m", "depthkit", "generate", "-g", "object-rc", "-d", "0-1", "-n", "2",
                           "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out / "items.jsonl")
    assert "wrote 6 items" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_generate_bad_option_no_traceback(run, tmp_path):
    code, _, err = run("generate", "-g", "object-rc", "-d", "zero", "-o", str(tmp_path / "x"))
    assert code == 2 and "Traceback" not in err and "cannot read depths" in err


@pytest.mark.parametrize("args", [["generate", "--bogus"], ["generate"], ["generate", "-g", "object-rc", "--per-depth", "abc"],
                                  ["nosuchcmd"], ["eval"], ["grammar", "check"]])
def test_cli_usage_errors_no_traceback(run, args):
    code, _, err = run(*args)
    assert code == 2, (args, code)
    assert "Traceback" not in err and "Error:" in err, (args, err)


@pytest.mark.parametrize("args", [["--extra-words", "-5"], ["--max-words", "1000"]])
def test_cli_generate_bad_numbers_no_traceback(run, tmp_path, args):
    code, _, err = run("generate", "-g", "object-rc", "-d", "0-1", "-o", str(tmp_path / "x"), *args)
    assert code == 2 and "Traceback" not in err and "fix:" in err, err


def test_cli_generate_unwritable_out_no_traceback(run):
    code, _, err = run("generate", "-g", "object-rc", "-d", "0", "-n", "1", "-o", "/proc/depthkit-test/x")
    assert code == 2 and "Traceback" not in err and "cannot create this folder" in err


def test_cli_generate_warns_when_controls_cannot_match(run, tmp_path, tiny_grammar_path):
    code, _, err = run("generate", "-g", str(tiny_grammar_path), "-d", "0-2", "-n", "2", "--controls",
                       "-o", str(tmp_path / "x"))
    assert code == 0, err
    assert "controls, these differ from their item: sv_distance in" in err
