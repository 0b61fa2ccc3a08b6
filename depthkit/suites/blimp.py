"""BLiMP paradigms (Warstadt et al. 2020) as depthkit items.

A paradigm file (``data/PARADIGM.jsonl`` in alexwarstadt/blimp) holds one minimal pair per line:
``sentence_good``, ``sentence_bad``, ``UID`` (the paradigm), ``pairID`` and descriptive fields.
Each line becomes one item: id ``blimp/UID/NNNN`` (the line's position, from 0000), grammar
``blimp``, construction the paradigm, depth 0, no tree and no regions (BLiMP's measure is the whole
sentence), frame ``blimp/UID/pairID``, metric ``n_words``. Sentences are kept as published
(capitalised, with their final period), whitespace normalised to single spaces.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..schema import Item, Regions
from ..store import sha256_file
from .common import Source, read_text, words, write_suite

REQUIRED = ("sentence_good", "sentence_bad", "UID")
FIX = ("give a BLiMP paradigm file as published (data/PARADIGM.jsonl of alexwarstadt/blimp): one JSON object a line "
       "with sentence_good, sentence_bad, UID and pairID")


def read_blimp(path: str | Path) -> Source:
    """The items of one BLiMP paradigm file; :class:`InputError` with file, line, field and fix for a bad line."""
    path = Path(path)
    text = read_text(path, "BLiMP paradigm (.jsonl)")
    items: list[Item] = []
    paradigm: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"line is not JSON ({exc.msg}, column {exc.colno})", path=path, line=number,
                             fix=FIX) from None
        if not isinstance(data, dict):
            raise InputError(f"line is a JSON {type(data).__name__}, not an object", path=path, line=number, fix=FIX)
        for field in REQUIRED:
            value = data.get(field)
            if not isinstance(value, str) or not value.strip():
                problem = "is missing" if field not in data else "is not a non-empty string"
                raise InputError(f"field '{field}' {problem}", path=path, line=number, field=field, fix=FIX)
        uid = data["UID"].strip()
        if "/" in uid or uid != data["UID"]:
            raise InputError(f"UID {data['UID']!r} is not a paradigm name", path=path, line=number, field="UID",
                             fix=FIX)
        if paradigm is None:
            paradigm = uid
        elif uid != paradigm:
            raise InputError(f"UID '{uid}' differs from the file's first paradigm '{paradigm}'", path=path,
                             line=number, field="UID", fix="give one paradigm per file, as BLiMP publishes them")
        pair_id = data.get("pairID", str(len(items)))
        if not isinstance(pair_id, (str, int)) or isinstance(pair_id, bool):
            raise InputError("field 'pairID' is not a string or a number", path=path, line=number, field="pairID",
                             fix=FIX)
        good, bad = words(data["sentence_good"]), words(data["sentence_bad"])
        if good == bad:
            raise InputError("sentence_good and sentence_bad are the same sentence", path=path, line=number,
                             field="sentence_bad", fix="a minimal pair needs two different sentences; drop the line")
        items.append(Item(id=f"blimp/{uid}/{len(items):04d}", grammar="blimp", construction=uid, kind="test",
                          control_of=None, depth=0, good=good, bad=bad, tree=None, regions=Regions(), pair=None,
                          frame=f"blimp/{uid}/{pair_id}", metrics={"n_words": len(good.split(" "))}))
    if not items:
        raise InputError("the file holds no pair", path=path, fix=FIX)
    return Source(path, sha256_file(path), items)


def import_blimp(files: Sequence[str | Path], out: str | Path) -> Path:
    """``depthkit import blimp``: read the paradigm files, write a generated folder; returns items.jsonl's path."""
    return write_suite(out, "blimp", [read_blimp(f) for f in files])


__all__ = ["import_blimp", "read_blimp"]
