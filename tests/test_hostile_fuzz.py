"""Fuzz tier: hypothesis mutates a valid grammar file and a valid items.jsonl (delete, duplicate or retype a
field, truncate, inject bytes) and the CLI must either accept the result or refuse it with exit code 2, a
message naming the file and a fix; never a traceback, never another exit code. The example budget is fixed
(``max_examples``) so CI runs the same amount of work every time; the code's own limits bound each run."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depthkit.cli import main

DATA = Path(__file__).parent / "data"
GRAMMAR = (DATA / "grammars" / "tiny-rc.yaml").read_text(encoding="utf-8")
ITEMS = (DATA / "eval" / "items.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:6]
RETYPES = st.sampled_from([None, True, 0, -1, 2.5, "", "x y", [], ["S"], {}, {"a": 1}, "(", "nan"])
BUDGET = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _mutate_mapping(data: dict, draw) -> dict:
    key = draw(st.sampled_from(sorted(data)))
    action = draw(st.sampled_from(["delete", "retype", "rename"]))
    out = dict(data)
    if action == "delete":
        out.pop(key)
    elif action == "retype":
        out[key] = draw(RETYPES)
    else:
        out[key + draw(st.sampled_from(["s", "_", "X"]))] = out.pop(key)
    return out


@st.composite
def broken_grammars(draw) -> bytes:
    how = draw(st.sampled_from(["field", "truncate", "inject", "duplicate-line"]))
    raw = GRAMMAR.encode("utf-8")
    if how == "field":
        data = _mutate_mapping(yaml.safe_load(GRAMMAR), draw)
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    lines = raw.splitlines(keepends=True)
    at = draw(st.integers(0, len(lines) - 1))
    if how == "duplicate-line":
        return b"".join(lines[: at + 1] + [lines[at]] + lines[at + 1:])
    junk = draw(st.binary(min_size=1, max_size=8) | st.sampled_from([b"(", b")", b"@ nan", b"*a", b"&a [", b"\t",
                                                                      b"\xff", b"\x00", b": :", b"'"]))
    pos = draw(st.integers(0, len(raw)))
    return raw[:pos] + junk + raw[pos:]


@st.composite
def broken_items(draw) -> bytes:
    how = draw(st.sampled_from(["field", "truncate", "inject", "duplicate-line"]))
    raw = "".join(ITEMS).encode("utf-8")
    if how == "field":
        n = draw(st.integers(0, len(ITEMS) - 1))
        record = _mutate_mapping(json.loads(ITEMS[n]), draw)
        lines = list(ITEMS)
        lines[n] = json.dumps(record) + "\n"
        return "".join(lines).encode("utf-8")
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if how == "duplicate-line":
        n = draw(st.integers(0, len(ITEMS) - 1))
        return raw + ITEMS[n].encode("utf-8")
    pos = draw(st.integers(0, len(raw)))
    return raw[:pos] + draw(st.binary(min_size=1, max_size=8)) + raw[pos:]


def _refused_cleanly(code: int, err: str, name: str) -> None:
    assert "Traceback" not in err, err
    assert code in (0, 2), f"exit {code}: {err}"
    if code == 2:
        assert err.startswith("error: ") and name in err and "\n  fix: " in err, err


@BUDGET
@given(raw=broken_grammars())
def test_hostile_fuzz_grammar_check(raw, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "fuzzed.yaml"
    path.write_bytes(raw)
    code = main(["grammar", "check", str(path), "--no-stimuli"])
    _refused_cleanly(code, capsys.readouterr().err, "fuzzed.yaml")


@BUDGET
@given(raw=broken_items())
def test_hostile_fuzz_eval_items(raw, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "gen").mkdir()
    (folder / "gen" / "items.jsonl").write_bytes(raw)
    code = main(["eval", str(folder / "gen"), "--model", "fake", "--out", str(folder / "run"), "-q"])
    err = capsys.readouterr().err
    _refused_cleanly(code, err, "items.jsonl")
    assert (folder / "gen" / "items.jsonl").read_bytes() == raw  # nothing written over the input
