"""The references file: published accuracies (``references:``) and suite-to-grammar matches (``matches:``).

depthkit ships ``depthkit/data/references.yaml``; ``depthkit report --reference-file FILE`` reads
another file of the same form. Every entry is validated (:class:`~depthkit.schema.ReferencePoint`,
:class:`~depthkit.schema.SuiteMatch`) and an error names the file, the entry's line, the field and
the fix. The report always uses the matches (to put a suite's row beside the matching depthkit
grammar); it draws the reference points only when asked.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from ..errors import InputError
from ..schema import ReferencePoint, SuiteMatch
from ..yamlfile import load_mapping, read_text

SHIPPED = "data/references.yaml"  # inside the depthkit package
KEYS = ("references", "matches")
FIX = "see the comments at the top of depthkit/data/references.yaml for the form of the file"


@dataclass(frozen=True)
class References:
    """A references file, read and validated."""

    path: Path
    points: tuple[ReferencePoint, ...]
    matches: tuple[SuiteMatch, ...]


def shipped_path() -> Path:
    """Where depthkit's own references file is installed."""
    return Path(str(resources.files("depthkit").joinpath(SHIPPED)))


def load_references(path: str | Path | None = None) -> References:
    """Read and validate a references file (depthkit's own when ``path`` is None)."""
    path = Path(path) if path is not None else shipped_path()
    text = read_text(path, "references file", FIX)
    data, key_lines = load_mapping(text, path, what="references file", fix=FIX)
    for key in data:
        if key not in KEYS:
            raise InputError(f"unknown key '{key}' (a references file has {' and '.join(KEYS)})", path=path,
                             line=key_lines.get(str(key), (None,))[0], field=str(key), fix=FIX)
    lines = _entry_lines(text)
    points = tuple(_entries(data, "references", ReferencePoint, path, key_lines, lines))
    matches = tuple(_entries(data, "matches", SuiteMatch, path, key_lines, lines))
    seen: dict[str, int] = {}
    for index, point in enumerate(points):
        line = lines.get("references", [])[index] if index < len(lines.get("references", [])) else None
        if point.id in seen:
            raise InputError(f"the reference id '{point.id}' is used twice (entries {seen[point.id] + 1} and "
                             f"{index + 1} of references)", path=path, line=line, field="id",
                             fix="give every reference point its own id")
        seen[point.id] = index
    return References(path, points, matches)


def _entries(data: dict, key: str, record: type, path: Path, key_lines: dict, lines: dict[str, list[int]]) -> list:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"'{key}' must be a list of entries (lines starting with '- ')", path=path,
                         line=key_lines.get(key, (None,))[0], field=key, fix=FIX)
    out = []
    for index, entry in enumerate(value):
        line = lines.get(key, [])[index] if index < len(lines.get(key, [])) else None
        unknown = [k for k in entry if k not in record.model_fields] if isinstance(entry, dict) else []
        if unknown:  # said before any missing field: a misspelt key is the likelier mistake
            close = difflib.get_close_matches(str(unknown[0]), list(record.model_fields), n=1)
            raise InputError(f"entry {index + 1} of {key} has an unknown field '{unknown[0]}'", path=path, line=line,
                             field=f"{key}.{index}.{unknown[0]}",
                             fix=(f"did you mean '{close[0]}'? " if close else "") + record.FIX)
        try:
            out.append(record.from_dict(entry, path=path, line=line))
        except InputError as exc:
            exc.message = f"entry {index + 1} of {key}: {exc.message}"
            exc.field = f"{key}.{index}.{exc.field}" if exc.field else f"{key}.{index}"
            raise
    return out


def _entry_lines(text: str) -> dict[str, list[int]]:
    """The 1-based line of every list entry under each top-level key (the text already loaded safely)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    out: dict[str, list[int]] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(value, yaml.SequenceNode):
                out[str(key.value)] = [item.start_mark.line + 1 for item in value.value]
    return out


__all__ = ["References", "load_references", "shipped_path"]
