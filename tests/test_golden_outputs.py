"""Outputs stay what they were for the same seed and options (see tests/golden.py to rebuild)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from golden import GOLDEN, build, portable

EXACT = ("items.jsonl",)  # pure code: byte for byte
REL_TOL = 1e-6  # statsmodels / spaCy numbers: relative to magnitude
MODEL_REL_TOL = 1e-4  # the embedded model's log-probabilities across CPUs (float32 sums)


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("golden")
    return out, build(out)


def _close(a, b, rel: float) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=rel, abs_tol=rel)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_close(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, rel) for x, y in zip(a, b))
    return a == b


def _cell(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _assert_same(rel_path: Path, root: Path, want: Path, rel: float) -> None:
    got_text = portable((root / rel_path).read_text(encoding="utf-8"), root)
    want_text = want.read_text(encoding="utf-8")
    if rel_path.name in EXACT or (rel_path.name == "judgments.jsonl" and "fake" in rel_path.parts):
        assert got_text == want_text, f"{rel_path} changed"
    elif rel_path.suffix == ".jsonl":
        got_lines = [json.loads(x) for x in got_text.splitlines()]
        want_lines = [json.loads(x) for x in want_text.splitlines()]
        assert len(got_lines) == len(want_lines), f"{rel_path}: {len(got_lines)} records, was {len(want_lines)}"
        for n, (g, w) in enumerate(zip(got_lines, want_lines), start=1):
            assert _close(g, w, rel), f"{rel_path} line {n} changed:\n{g}\nwas\n{w}"
    else:
        got_rows = list(csv.reader(io.StringIO(got_text)))
        want_rows = list(csv.reader(io.StringIO(want_text)))
        assert got_rows[:1] == want_rows[:1], f"{rel_path}: columns changed"
        assert len(got_rows) == len(want_rows), f"{rel_path}: {len(got_rows)} rows, was {len(want_rows)}"
        for n, (g, w) in enumerate(zip(got_rows, want_rows), start=1):
            assert _close([_cell(x) for x in g], [_cell(x) for x in w], rel), f"{rel_path} row {n}:\n{g}\nwas\n{w}"


def test_golden_outputs_unchanged(rebuilt):
    out, files = rebuilt
    assert files, "the golden build wrote nothing"
    for rel_path in files:
        want = GOLDEN / rel_path
        assert want.exists(), f"no stored golden file {want}; rebuild with `python -m tests.golden`"
        _assert_same(rel_path, out, want, REL_TOL)


@pytest.mark.slow
def test_golden_embedded_judgments_unchanged(tmp_path):
    rel_path = Path("object-rc/runs/embedded/judgments.jsonl")
    want = GOLDEN / rel_path
    assert want.exists(), "rebuild with `python -m tests.golden --slow`"
    files = build(tmp_path, slow=True)
    assert rel_path in files
    got = [json.loads(x) for x in (tmp_path / rel_path).read_text(encoding="utf-8").splitlines()]
    stored = [json.loads(x) for x in want.read_text(encoding="utf-8").splitlines()]
    assert [(g["item_id"], g["task"], g["correct"]) for g in got] == \
        [(w["item_id"], w["task"], w["correct"]) for w in stored], "verdicts changed"
    for g, w in zip(got, stored):
        assert _close(g, w, MODEL_REL_TOL), f"{g['item_id']} {g['task']} scores changed"
