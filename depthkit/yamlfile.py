"""Reading the YAML files a person writes (grammars, prompts, experiments) safely and as meant.

* YAML 1.2 booleans: only ``true``/``false`` are booleans; ``yes``, ``no``, ``on``, ``off`` (YAML 1.1
  booleans) stay the strings a linguist meant (``NO`` as a category, ``yes`` as a feature value).
* A key given twice in one mapping is an error naming both lines (PyYAML keeps the last silently).
* Bounded: files over :data:`MAX_BYTES` and documents with more than :data:`MAX_ALIASES` aliases (the
  "billion laughs" alias bomb) are refused before they are expanded.
* Every top-level key's line is kept, so errors can point at it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

MAX_BYTES = 2_000_000  # a grammar with a large lexicon is ~50 kB
MAX_ALIASES = 100

KeyLines = dict[str, tuple[int, int]]  # key -> (line of the key, line where its block text starts), 1-based


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, duplicate keys refused and aliases counted."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _TooManyAliases(mark.line + 1)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _BadKey(key_node.start_mark.line + 1) from None
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(str(key), seen[key], line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


class _DuplicateKey(Exception):
    def __init__(self, key: str, first: int, second: int):
        super().__init__(key)
        self.key, self.first, self.second = key, first, second


class _TooManyAliases(Exception):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


class _BadKey(Exception):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


def read_text(path: Path, what: str, fix: str) -> str:
    """A regular text file's contents, refused when too large, binary or not UTF-8."""
    path = Path(path)
    if not path.is_file():
        kind = ("a folder" if path.is_dir() else "not found" if not path.exists()
                else "a device, pipe or socket: reading it could block or never end")
        raise InputError(f"this is not a regular file ({kind})", path=path, fix=fix)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"{what} is {size:,} bytes, more than the {MAX_BYTES:,} allowed", path=path, fix=fix)
    with path.open("rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise InputError(f"{what} is larger than the {MAX_BYTES:,} bytes allowed", path=path, fix=fix)
    if b"\x00" in raw:
        raise InputError(f"this is a binary file, not a {what}", path=path, fix=fix)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=path, fix="save the file as UTF-8") from None


def load_mapping(text: str, path: Path | str, *, what: str, fix: str) -> tuple[dict, KeyLines]:
    """The document's top-level mapping and the lines of its keys; errors name the file and line."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except _DuplicateKey as exc:
        raise InputError(f"the key '{exc.key}' appears twice (lines {exc.first} and {exc.second}); YAML would keep "
                         "only the second", path=path, line=exc.second, field=exc.key,
                         fix="delete or merge one of them") from None
    except _TooManyAliases as exc:
        raise InputError(f"more than {MAX_ALIASES} YAML aliases (*name): refusing to expand them", path=path,
                         line=exc.line, fix="write the values out instead of repeating anchors") from None
    except _BadKey as exc:
        raise InputError("a mapping key is itself a list or mapping", path=path, line=exc.line,
                         fix="keys are plain words, e.g. `start: S`") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"YAML syntax error: {problem}", path=path, line=(mark.line + 1) if mark else None,
                         fix=fix) from None
    except RecursionError:
        raise InputError("the YAML nests too deeply", path=path, fix=fix) from None
    if data is None:
        raise InputError(f"the {what} is empty (only comments or blank lines)", path=path, line=1, fix=fix)
    if not isinstance(data, dict):
        raise InputError(f"a {what} must be a YAML mapping (key: value lines)", path=path, line=1, fix=fix)
    key_lines: KeyLines = {}
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            first = vnode.start_mark.line + 1
            if isinstance(vnode, yaml.ScalarNode) and vnode.style in ("|", ">"):
                first += 1
            key_lines[str(knode.value)] = (knode.start_mark.line + 1, first)
    return data, key_lines


__all__ = ["KeyLines", "MAX_ALIASES", "MAX_BYTES", "load_mapping", "read_text"]
