"""What every suite importer shares: the source record, the folder writer and the suite's default task.

An imported folder is a normal generated folder: ``items.jsonl`` (one :class:`~depthkit.schema.Item`
per pair or suite item, at depth 0, ``grammar`` the suite kind) and the manifest's ``generate``
section, whose ``options`` record ``import`` (the kind), ``sources`` (each file's path, sha256,
item count), ``licence`` and ``task`` (the suite's own measure, what ``depthkit eval`` runs when no
``--task`` is given).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import InputError, UsageError
from ..logs import logger
from ..schema import GenerateSection, Item
from ..store import (ITEMS_FILE, MANIFEST_FILE, VERIFICATION_FILE, load_manifest, package_versions, save_section,
                     sha256_file, write_jsonl)

# The suite kinds, their licences as published, and the task that is the suite's own measure.
LICENCES = {
    "blimp": "BLiMP (Warstadt et al. 2020, TACL; alexwarstadt/blimp) is published under CC BY 4.0: cite the paper",
    "syntaxgym": "SyntaxGym test suites (Hu et al. 2020, ACL; cpllab/syntactic-generalization) are published "
                 "under the MIT licence: keep its notice with copies",
}
DEFAULT_TASKS = {"blimp": "minimal-pair", "syntaxgym": "syntaxgym"}
MEASURES = {
    "blimp": "whole-sentence log-probability: good scores higher than bad (minimal-pair; BLiMP items have no "
             "critical region, so the verdict is the sum)",
    "syntaxgym": "the suite's predictions: inequalities over region surprisals (bits), all must hold",
}


@dataclass(frozen=True)
class Source:
    """One imported file: its path, sha256 and the items read from it."""

    path: Path
    sha256: str
    items: list[Item]

    def to_manifest(self) -> dict[str, Any]:
        return {"path": str(self.path), "sha256": self.sha256, "items": len(self.items)}


def read_text(path: Path, kind: str) -> str:
    """The file's text, with a clear error for a missing, unreadable or non-UTF-8 file."""
    if not path.is_file():
        raise UsageError("file not found" if not path.exists() else "not a file", path=path,
                         fix=f"give the path of a {kind} file")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=path,
                         fix=f"give the {kind} file as published (UTF-8 text)") from None


def words(text: str) -> str:
    """Words joined by single spaces (items store sentences that way)."""
    return " ".join(text.split())


def write_suite(out: str | Path, kind: str, sources: Sequence[Source], options: dict[str, Any] | None = None) -> Path:
    """Write ``items.jsonl`` and the ``generate`` section of the manifest; returns the items path."""
    if not sources:
        raise UsageError(f"no {kind} file given", fix=f"e.g. depthkit import {kind} FILE --out DIR")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError("--out exists and is not a folder", path=out, fix="give a folder path, e.g. generated/blimp")
    items: list[Item] = []
    seen: dict[str, Path] = {}
    for source in sources:
        for item in source.items:
            if item.id in seen:
                raise InputError(f"item '{item.id}' comes from {seen[item.id]} and again from this file",
                                 path=source.path, field="id",
                                 fix="give each paradigm or suite once (two files with the same name clash)")
            seen[item.id] = source.path
            items.append(item)
    _warn_replaced(out, kind)
    items_path = out / ITEMS_FILE
    write_jsonl(items_path, (item.to_dict() for item in items))
    digest = (sources[0].sha256 if len(sources) == 1 else
              hashlib.sha256("".join(s.sha256 for s in sources).encode()).hexdigest())
    constructions = sorted({i.construction for i in items if i.construction})
    save_section(out, "generate", GenerateSection(
        grammar=kind,
        grammar_path=", ".join(str(s.path) for s in sources),
        grammar_sha256=digest,
        construction=constructions[0] if len(constructions) == 1 else None,
        options={"import": kind, "files": [str(s.path) for s in sources],
                 "sources": [s.to_manifest() for s in sources], "licence": LICENCES[kind],
                 "task": DEFAULT_TASKS[kind], "measure": MEASURES[kind], **(options or {})},
        n_items=len(items),
        items_per_depth={"0": len(items)},
        depthkit_version=__version__,
        versions=package_versions(("depthkit",)),
    ))
    logger.info(f"import {kind}: {len(items)} items from {len(sources)} file(s) -> {items_path}")
    return items_path


def _warn_replaced(out: Path, kind: str) -> None:
    stale = [p.name for p in (out / VERIFICATION_FILE, out / "runs") if p.exists()]
    if (out / ITEMS_FILE).exists() and stale:
        logger.warning(f"warning: {out} had items before; {' and '.join(stale)} there may describe the old items: "
                       f"run `depthkit verify --force` and `depthkit eval --force` (or use a new --out)")


def default_tasks(folder: Path | None, items: Sequence[Item]) -> tuple[str, ...]:
    """The task(s) ``depthkit eval`` runs when none is given: the suite's own measure, else minimal-pair.

    Read from the manifest's ``generate.options.task`` (written by ``depthkit import``); items given
    in memory: ``syntaxgym`` when every item carries a SyntaxGym table.
    """
    if folder is not None and (folder / MANIFEST_FILE).exists():
        generated = load_manifest(folder).generate
        task = generated.options.get("task") if generated is not None else None
        if isinstance(task, str) and task:
            return (task,)
        if isinstance(task, list) and task and all(isinstance(t, str) for t in task):
            return tuple(task)
    if items and all(item.suite is not None for item in items):
        return (DEFAULT_TASKS["syntaxgym"],)
    return ("minimal-pair",)


__all__ = ["DEFAULT_TASKS", "LICENCES", "MEASURES", "Source", "default_tasks", "read_text", "words", "write_suite"]
