"""JSONL files and manifests: clear errors for bad lines, crash-safe appends."""

import json

import pytest

from depthkit.errors import DepthkitError, InputError
from depthkit.schema import GenerateSection, VerifySection
from depthkit.store import JsonlAppender, read_items, read_jsonl, repair_truncated_tail, save_section, write_jsonl

ITEM = {"id": "a", "grammar": "g", "construction": None, "kind": "test", "control_of": None, "depth": 0,
        "good": "x", "bad": None, "tree": "(S x)", "regions": {}, "pair": None, "frame": "f", "metrics": {}}


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


def test_store_read_items_requires_fields(tmp_path):
    write_jsonl(tmp_path / "items.jsonl", [ITEM, {k: v for k, v in ITEM.items() if k != "depth"}])
    with pytest.raises(InputError, match="no 'depth' field") as info:
        read_items(tmp_path)
    assert info.value.line == 2 and info.value.field == "depth"


def test_store_missing_and_binary_files(tmp_path):
    with pytest.raises(DepthkitError, match="not found"):
        list(read_jsonl(tmp_path / "nope.jsonl"))
    (tmp_path / "b.jsonl").write_bytes(b"\x00\x01")
    with pytest.raises(DepthkitError, match="binary"):
        list(read_jsonl(tmp_path / "b.jsonl"))


def test_store_manifest_sections_merge(tmp_path):
    generate = GenerateSection(grammar="g", grammar_path="g.yaml", grammar_sha256="0" * 64, options={"seed": 1}, n_items=2)
    verify = VerifySection(parsers={"spacy": "en_core_web_sm"})
    save_section(tmp_path, "generate", generate)
    save_section(tmp_path, "verify", verify)
    assert json.loads((tmp_path / "manifest.json").read_text()) == {"generate": generate.to_dict(),
                                                                     "verify": verify.to_dict()}
