"""`depthkit grammar list|check` and `generate` through the real console entry point."""

import json
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "depthkit", *args], capture_output=True, text=True)


def test_cli_grammar_list_json_has_six_constructions():
    proc = run("grammar", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    names = {r["name"] for r in rows}
    assert {"object-rc", "subject-rc", "pp-attractors", "sentential-complements", "possessives", "coordination"} <= names
    assert all(r["pair"] for r in rows)


def test_cli_grammar_check_prints_facts():
    proc = run("grammar", "check", "object-rc", "--max-depth", "4", "--json")
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert [d["reachable"] for d in facts["depths"]] == [True] * 5
    assert facts["depths"][1]["min_words"] == 7  # "the N that the N TV IV"
    assert facts["pair"]["flip"] == "NUM"


def test_cli_generate_writes_items_and_reports_path(tmp_path):
    out = tmp_path / "set"
    proc = run("generate", "-g", "pp-attractors", "-d", "0-2", "-n", "3", "-s", "5", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out / "items.jsonl")
    lines = (out / "items.jsonl").read_text().splitlines()
    assert len(lines) == 9 and all(json.loads(line)["grammar"] == "pp-attractors" for line in lines)
    assert "wrote 9 items" in proc.stderr


def test_cli_generate_bad_option_no_traceback(tmp_path):
    proc = run("generate", "-g", "object-rc", "-d", "zero", "-o", str(tmp_path / "x"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "cannot read depths" in proc.stderr


def test_cli_usage_errors_no_traceback(tmp_path):
    for args in (["generate", "--bogus"], ["generate"], ["generate", "-g", "object-rc", "--per-depth", "abc"],
                 ["nosuchcmd"], ["eval"], ["grammar", "check"]):
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.returncode)
        assert "Traceback" not in proc.stderr and "Error:" in proc.stderr, (args, proc.stderr)


def test_cli_generate_bad_numbers_no_traceback(tmp_path):
    for args in (["--extra-words", "-5"], ["--max-words", "1000"]):
        proc = run("generate", "-g", "object-rc", "-d", "0-1", "-o", str(tmp_path / "x"), *args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr and "fix:" in proc.stderr, proc.stderr


def test_cli_generate_unwritable_out_no_traceback():
    proc = run("generate", "-g", "object-rc", "-d", "0", "-n", "1", "-o", "/proc/depthkit-test/x")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "cannot create this folder" in proc.stderr


def test_cli_generate_warns_when_controls_cannot_match_length(tmp_path):
    proc = run("generate", "-g", "tests/data/grammars/tiny-rc.yaml", "-d", "0-2", "-n", "2", "--controls",
               "-o", str(tmp_path / "x"))
    assert proc.returncode == 0, proc.stderr
    assert "controls differ in length" in proc.stderr
