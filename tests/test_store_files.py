"""JSONL files and manifests: clear errors for bad lines, crash-safe appends."""

import json

import pytest

from depthkit.errors import DepthkitError
from depthkit.store import JsonlAppender, load_items, read_jsonl, repair_truncated_tail, update_manifest, write_jsonl


def test_store_roundtrip(tmp_path):
    path = tmp_path / "a.jsonl"
    assert write_jsonl(path, [{"id": "x", "n": 1}, {"id": "é", "n": 2}]) == 2
    assert list(read_jsonl(path)) == [{"id": "x", "n": 1}, {"id": "é", "n": 2}]


def test_store_malformed_line_named(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "a", "depth": 0, "good": "x"}\n{"id": "b", "dep\n{"id": "c"}\n')
    with pytest.raises(DepthkitError) as info:
        list(read_jsonl(path))
    assert info.value.line == 2 and "line 2" in info.value.message and info.value.fix


def test_store_truncated_tail_repaired_for_appending(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": ')
    assert list(read_jsonl(path, allow_truncated_tail=True)) == [{"a": 1}, {"a": 2}]
    assert repair_truncated_tail(path)
    with JsonlAppender(path) as out:
        out.write({"a": 3})
    assert [r["a"] for r in read_jsonl(path)] == [1, 2, 3]


def test_store_load_items_requires_fields(tmp_path):
    (tmp_path / "items.jsonl").write_text('{"id": "a", "good": "x"}\n')
    with pytest.raises(DepthkitError, match="no 'depth' field"):
        load_items(tmp_path)


def test_store_missing_and_binary_files(tmp_path):
    with pytest.raises(DepthkitError, match="not found"):
        list(read_jsonl(tmp_path / "nope.jsonl"))
    (tmp_path / "b.jsonl").write_bytes(b"\x00\x01")
    with pytest.raises(DepthkitError, match="binary"):
        list(read_jsonl(tmp_path / "b.jsonl"))


def test_store_manifest_sections_merge(tmp_path):
    update_manifest(tmp_path, "generate", {"seed": 1})
    update_manifest(tmp_path, "verify", {"parsers": ["spacy"]})
    assert json.loads((tmp_path / "manifest.json").read_text()) == {"generate": {"seed": 1}, "verify": {"parsers": ["spacy"]}}
