"""The references file is validated with precise messages; `depthkit report --reference` draws its points."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import _report_helpers as H
import pytest

from depthkit.cli import main
from depthkit.errors import InputError
from depthkit.report.references import load_references, shipped_path

GOOD_POINT = """  - id: mine
    suite: syntaxgym
    name: number_orc
    model: my-model
    accuracy: 0.5
    items: 19
    measure: prediction accuracy
    citation: me (2025)
    source: my notebook
"""
GOOD_MATCH = """  - suite: syntaxgym
    name: number_orc
    grammar: object-rc
    depth: 1
    why: one object RC
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "refs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_is_valid():
    refs = load_references()
    assert refs.path == shipped_path() and refs.path.is_file()
    assert len(refs.points) >= 8 and len(refs.matches) >= 6
    assert len({p.id for p in refs.points}) == len(refs.points)


@pytest.mark.parametrize("text,line,field,message,fix", [
    ("references:\n" + GOOD_POINT + GOOD_POINT.replace("accuracy: 0.5", "accuracy: 57"), 11,
     "references.1.accuracy", "less than or equal to 1", "accuracy (0 to 1)"),
    ("references:\n" + GOOD_POINT.replace("    items: 19\n", ""), 2, "references.0.items", "has no 'items' field",
     "items"),
    ("references:\n" + GOOD_POINT.replace("citation:", "citaton:"), 2, "references.0.citaton", "unknown field",
     "did you mean 'citation'?"),
    ("matches:\n" + GOOD_MATCH.replace("suite: syntaxgym", "suite: blimpp"), 2, "matches.0.suite",
     "'blimp' or 'syntaxgym'", "a match has"),
    ("matches:\n" + GOOD_MATCH.replace("depth: 1", "depth: deep"), 2, "matches.0.depth", "valid integer", "depth"),
    ("references:\n" + GOOD_POINT + GOOD_POINT, 11, "id", "used twice", "its own id"),
    ("referenses:\n" + GOOD_POINT, 1, "referenses", "unknown key 'referenses'", "references.yaml"),
    ("references: 3\n", 1, "references", "must be a list", "references.yaml"),
])
def test_bad_entries_name_the_file_line_field_and_fix(tmp_path, text, line, field, message, fix):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_references(path)
    assert err.value.path == path and err.value.line == line and err.value.field == field
    assert message in err.value.message and fix in err.value.fix


def test_yaml_syntax_and_duplicate_keys_are_refused_with_a_line(tmp_path):
    with pytest.raises(InputError, match="YAML syntax error") as err:
        load_references(write(tmp_path, "references:\n  - id: [unclosed\n"))
    assert err.value.line
    with pytest.raises(InputError, match="appears twice") as err:
        load_references(write(tmp_path, "matches: []\nmatches: []\n"))
    assert err.value.line == 2


def test_cli_reference_draws_points_and_a_table(tmp_path, capsys):
    out = tmp_path / "ref"
    runs = [str(H.RUN_STRONG), str(H.RUN_SYNTAXGYM), str(H.RUN_BLIMP)]
    assert main(["report", *runs, "--out", str(out), "--reference", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert "references" in facts["tables"]
    with (out / "references.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    orc = next(r for r in rows if r["id"] == "syntaxgym-gpt2-number-orc")
    assert (orc["accuracy"], orc["items"], orc["match_depth"]) == ("0.63", "19", "1")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Published reference points" in page and "Hu, Gauthier, Qian, Wilcox &amp; Levy (2020)" in page
    assert "Published: GPT-2 0.630" in page
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["report"]["references"] == str(shipped_path())
    with (out / "suites.csv").open(encoding="utf-8", newline="") as f:
        suites = {r["construction"]: r for r in csv.DictReader(f)}
    assert suites["number_orc"]["match_grammar"] == "object-rc"  # the match is used with or without --reference


def test_without_reference_no_points_are_drawn_but_suites_sit_beside_their_match(tmp_path):
    out = tmp_path / "plain"
    assert main(["report", str(H.RUN_STRONG), str(H.RUN_SYNTAXGYM), "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Published reference points" not in page and "Published:" not in page
    assert "External suites" in page and "number_orc" in page


def test_a_reference_file_of_ones_own(tmp_path, capsys):
    path = write(tmp_path, "references:\n" + GOOD_POINT + "matches:\n" + GOOD_MATCH)
    out = tmp_path / "own"
    assert main(["report", str(H.RUN_STRONG), str(H.RUN_SYNTAXGYM), "--out", str(out), "--reference-file",
                 str(path)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "my-model 0.500" in page and "GPT-2" not in page
    bad = write(tmp_path, "references:\n" + GOOD_POINT.replace("items: 19", "items: 0"))
    assert main(["report", str(H.RUN_STRONG), "--out", str(out), "--reference-file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2" in err and "items" in err and "fix:" in err
    assert main(["report", str(H.RUN_STRONG), "--out", str(out), "--reference-file", str(tmp_path / "nope.yaml")]) == 2
    assert "reference file was not found" in capsys.readouterr().err


def test_a_report_of_imported_suites_only_shows_no_depth_sections(tmp_path):
    from depthkit.report import write_report

    report = write_report([H.RUN_BLIMP, H.RUN_SYNTAXGYM], tmp_path / "suites")
    md = report.markdown.read_text(encoding="utf-8")
    assert md.startswith("# External suites: 3 paradigms — fake-strong")
    assert "only imported suites (no depth)" in md
    assert "## Accuracy vs depth" not in md and "## The slope" not in md and "## External suites" in md
    assert [f.name for f in report.figures] == ["suites"]
