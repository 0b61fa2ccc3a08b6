"""The verify run without heavy parsers: records, resume after interruption, bad input, not_run rules."""

from __future__ import annotations

import json
import logging

import pytest

from depthkit.errors import DepthkitError, InputError, StaleOutputError, UsageError
from depthkit.schema import BeneparCheck, GrammarCheck, SpacyCheck, VerificationRecord
from depthkit.store import dumps
from depthkit.verify import load_verified_ids, verify_folder
from depthkit.verify import chart_parse
from depthkit.verify.summary import format_summary, summary_rows
from depthkit.verify.verdict import decide

from _verify_helpers import make_generated, read_records

FAST = dict(skip=("spacy", "benepar"), progress=False)


@pytest.fixture
def folder(tmp_path):
    return make_generated(tmp_path / "set", depths="0-2", per_depth=4)


def _ids(folder):
    return [json.loads(line)["id"] for line in (folder / "items.jsonl").read_text().splitlines()]


def test_one_record_per_item_and_items_untouched(folder):
    before = (folder / "items.jsonl").read_bytes()
    summary = verify_folder(folder, **FAST)
    records = read_records(folder)
    assert [r["item_id"] for r in records] == _ids(folder)
    assert (folder / "items.jsonl").read_bytes() == before
    assert all(r["grammar"]["status"] == "ok" for r in records)
    assert summary["records"] == summary["items"] == len(records)
    for name in ("verification_summary.csv", "verification_summary.json"):
        assert (folder / name).exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "generate" in manifest  # the generator's section is kept
    v = manifest["verify"]
    assert v["complete"] is True and v["n_records"] == len(records)
    assert v["parsers"]["spacy"]["ran"] is False and "skipped" in v["parsers"]["spacy"]["reason"]
    assert v["parsers"]["benepar"]["ran"] is False


def test_not_run_checks_never_count_as_passed(folder):
    summary = verify_folder(folder, **FAST)
    records = read_records(folder)
    assert all(r["spacy"]["status"] == "not_run" and r["benepar"]["status"] == "not_run" for r in records)
    assert not any(r["verified"] for r in records)
    assert all("spacy not_run" in r["verified_by"] for r in records)
    assert load_verified_ids(folder) == set()
    for row in summary["rows"]:
        if row["parser"] in ("spacy", "benepar"):
            assert row["recovered"] == 0 and row["share"] is None and row["not_run"] == row["n"]
        if row["parser"] == "verified":
            assert row["share"] == 0.0


def test_decide_counts_benepar_only_when_it_ran():
    G, S, B = GrammarCheck, SpacyCheck, BeneparCheck
    ok_g = G(status="ok")
    ok_s = S(status="ok", root_ok=True, subject_ok=True)
    assert decide(ok_g, ok_s, B(status="not_run")) == (True, "grammar unambiguous and spacy root+subject")
    verified, by = decide(ok_g, ok_s, B(status="ok", split_ok=True, depth_ok=True))
    assert verified and by.endswith("benepar split+depth")
    assert decide(ok_g, ok_s, B(status="error"))[0] is False
    assert decide(ok_g, ok_s, B(status="failed", split_ok=False))[1] == "not verified: benepar failed (split)"
    assert decide(G(status="not_run"), ok_s, B(status="not_run"))[0] is False
    assert decide(ok_g, S(status="not_run"), B(status="ok", split_ok=True))[0] is False
    verified, by = decide(G(status="failed", in_language=True, ambiguous=True, n_parses=3), ok_s,
                          B(status="not_run"))
    assert not verified and "ambiguous: 3 parses" in by


def test_interrupted_run_resumes_without_duplicates(folder, monkeypatch):
    calls = {"n": 0}
    real = chart_parse.GrammarChecker.check

    def flaky(self, item, intended):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C in the second batch
        return real(self, item, intended)

    monkeypatch.setattr(chart_parse.GrammarChecker, "check", flaky)
    with pytest.raises(KeyboardInterrupt):
        verify_folder(folder, batch_size=3, **FAST)
    first = (folder / "verification.jsonl").read_text().splitlines()
    assert len(first) == 3  # the finished batch was kept
    monkeypatch.setattr(chart_parse.GrammarChecker, "check", real)
    verify_folder(folder, batch_size=3, **FAST)
    lines = (folder / "verification.jsonl").read_text().splitlines()
    assert lines[:3] == first
    assert [json.loads(line)["item_id"] for line in lines] == _ids(folder)


def test_a_truncated_last_record_is_repaired_and_redone(folder):
    verify_folder(folder, **FAST)
    path = folder / "verification.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:5]) + lines[5][: len(lines[5]) // 2])  # killed mid-write
    summary = verify_folder(folder, **FAST)
    again = path.read_text().splitlines(keepends=True)
    assert again == lines
    assert summary["complete"] is True and summary["records"] == len(lines)


def test_a_second_run_checks_nothing_new(folder, caplog):
    caplog.set_level(logging.INFO, logger="depthkit")
    verify_folder(folder, **FAST)
    before = (folder / "verification.jsonl").read_bytes()
    caplog.clear()
    verify_folder(folder, **FAST)
    assert (folder / "verification.jsonl").read_bytes() == before
    assert "verify: 0 of" in caplog.text


def test_changed_settings_need_force(folder):
    verify_folder(folder, **FAST)
    with pytest.raises(StaleOutputError) as exc:
        verify_folder(folder, max_parses=3, **FAST)
    assert "max_parses" in str(exc.value) and "--force" in str(exc.value)
    verify_folder(folder, max_parses=3, force=True, **FAST)
    assert len(read_records(folder)) == len(_ids(folder))


def test_a_malformed_items_line_is_named(folder):
    path = folder / "items.jsonl"
    lines = path.read_text().splitlines()
    lines[4] = lines[4][:40]  # truncated mid-record
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DepthkitError) as exc:
        verify_folder(folder, **FAST)
    assert exc.value.line == 5 and "line 5" in str(exc.value)
    assert not (folder / "verification.jsonl").exists()


def test_a_truncated_last_items_line_is_an_error_too(folder):
    path = folder / "items.jsonl"
    text = path.read_text()
    path.write_text(text[:-30])  # the generator was killed: no trailing newline, half a record
    with pytest.raises(DepthkitError) as exc:
        verify_folder(folder, **FAST)
    assert exc.value.line == len(text.splitlines())


def test_an_item_without_a_tree_is_named(folder):
    path = folder / "items.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[2])
    del record["tree"]
    lines[2] = json.dumps(record)
    path.write_text("\n\n".join(lines) + "\n")  # blank lines between records must not shift the numbers
    with pytest.raises(InputError) as exc:
        verify_folder(folder, **FAST)
    assert exc.value.line == 5 and "'tree'" in str(exc.value)


def test_missing_folder_and_missing_items_are_clear_errors(tmp_path):
    with pytest.raises(DepthkitError, match="folder not found"):
        verify_folder(tmp_path / "nope", **FAST)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DepthkitError, match="no items.jsonl"):
        verify_folder(tmp_path / "empty", **FAST)


def test_grammar_is_found_by_name_when_the_recorded_path_moved(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["generate"]["grammar_path"] = "/nowhere/tiny-rc.yaml"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError) as exc:
        verify_folder(folder, **FAST)
    assert "--grammar" in str(exc.value)
    from _verify_helpers import TINY_GRAMMAR

    verify_folder(folder, grammar=str(TINY_GRAMMAR), **FAST)
    assert len(read_records(folder)) == len(_ids(folder))


def _record(item_id: str, verified: bool, spacy: SpacyCheck | None = None,
            benepar: BeneparCheck | None = None) -> VerificationRecord:
    return VerificationRecord(item_id=item_id, depth=1, construction="c", kind="test", grammar=GrammarCheck(status="ok"),
                              spacy=spacy or SpacyCheck.not_run("skipped"), benepar=benepar or BeneparCheck.not_run("x"),
                              verified=verified, verified_by="test")


def test_load_verified_ids_reads_only_verified_records(tmp_path):
    lines = [dumps(_record(i, v).to_dict()) for i, v in (("a", True), ("b", False), ("c", True), ("d", True))]
    (tmp_path / "verification.jsonl").write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])  # d: cut off
    assert load_verified_ids(tmp_path) == {"a", "c"}
    assert load_verified_ids(tmp_path / "verification.jsonl") == {"a", "c"}
    with pytest.raises(InputError, match="depthkit verify"):
        load_verified_ids(tmp_path / "elsewhere")


def test_summary_rows_count_errors_as_checked_but_not_recovered():
    recs = [_record(str(n), False, spacy=SpacyCheck(status=s, root_ok=r), benepar=BeneparCheck.error("boom"))
            for n, (s, r) in enumerate((("ok", True), ("failed", False), ("error", None), ("not_run", None)))]
    rows = {r["parser"]: r for r in summary_rows(recs)}
    assert rows["spacy"]["checked"] == 3 and rows["spacy"]["recovered"] == 1 and rows["spacy"]["share"] == round(1 / 3, 4)
    assert rows["spacy"]["root_ok"] == 0.5 and rows["spacy"]["errors"] == 1 and rows["spacy"]["not_run"] == 1
    assert rows["benepar"]["share"] == 0.0 and rows["benepar"]["errors"] == 4
    text = format_summary({"folder": "f", "items": 4, "records": 4, "verified": 0, "complete": True,
                         "parsers": {}, "notes": ["benepar not run"], "rows": summary_rows(recs)})
    assert "c [test]" in text and "note: benepar not run" in text


def test_a_region_outside_the_sentence_is_named(folder):
    path = folder / "items.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record["regions"]["controller"] = [7, 99]
    lines[1] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as exc:
        verify_folder(folder, **FAST)
    assert exc.value.line == 2 and "regions.controller" in str(exc.value)


@pytest.mark.parametrize("tree, message", [
    ("(S (NP (Det the) (N doctor)) (VP (IV laughs))", "its tree does not parse"),
    ("(S (NP (Det the) (N pilot)) (VP (IV laughs)))", "the leaves of its tree are not the words of 'good'"),
])
def test_a_tree_that_does_not_parse_or_does_not_match_good_is_named(folder, tree, message):
    path = folder / "items.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[0])
    record["good"], record["bad"], record["tree"] = "the doctor laughs", None, tree
    record["regions"] = {"target": None, "critical": None, "controller": None}
    lines[0] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as exc:
        verify_folder(folder, **FAST)
    assert exc.value.line == 1 and message in str(exc.value)
    assert not (folder / "verification.jsonl").exists()


def test_options_that_cannot_work_are_usage_errors(folder):
    with pytest.raises(UsageError, match="unknown parser"):
        verify_folder(folder, skip=("spacey",), progress=False)
    with pytest.raises(UsageError, match="at least 1"):
        verify_folder(folder, batch_size=0, **FAST)
    assert not (folder / "verification.jsonl").exists()
