"""`depthkit verify` on the command line: errors without tracebacks, --json, --download-benepar."""

from __future__ import annotations

import json

from depthkit.cli import main

from _verify_helpers import make_generated


def test_missing_folder_is_an_error_without_traceback(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "no-such-set")]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    assert "error:" in err and "folder not found" in err and "no-such-set" in err


def test_no_folder_and_no_download_is_an_error(capsys):
    assert main(["verify"]) == 2
    assert "no folder given" in capsys.readouterr().err


def test_json_summary_on_stdout_and_progress_on_stderr(tmp_path, capsys):
    folder = make_generated(tmp_path / "set", depths="0-1", per_depth=2)
    assert main(["verify", str(folder), "--no-spacy", "--no-benepar", "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["items"] == summary["records"] > 0
    assert {r["parser"] for r in summary["rows"]} == {"grammar", "spacy", "benepar", "verified"}
    assert "verify:" in err  # progress and logs go to stderr


def test_table_output_names_parsers_that_did_not_run(tmp_path, capsys):
    folder = make_generated(tmp_path / "set", depths="0-1", per_depth=2)
    assert main(["verify", str(folder), "--no-spacy", "--no-benepar"]) == 0
    out = capsys.readouterr().out
    assert "spacy    NOT RUN" in out and "benepar  NOT RUN" in out
    assert "n/r" in out


def test_download_failure_is_reported_plainly(monkeypatch, capsys):
    import benepar

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(benepar, "download", offline)
    assert main(["verify", "--download-benepar"]) == 2
    err = capsys.readouterr().err
    assert "needs internet" in err and "Traceback" not in err
