"""The file edge of generation: items.jsonl and the manifest's ``generate`` section."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import UsageError
from ..grammar.model import Grammar
from ..logs import logger
from ..schema import GenerateSection, Item
from ..store import ITEMS_FILE, VERIFICATION_FILE, package_versions, save_section, write_jsonl
from .items import Generation, Options


def write_generated(out: str | Path, grammar: Grammar, items: Sequence[Item] | Generation,
                    options: Options | Mapping[str, Any], *, warn_stale: bool = True) -> Path:
    """Write ``items.jsonl`` and the ``generate`` section of ``manifest.json`` into ``out``; returns the items path.

    ``items`` is a :class:`Generation` (its design and rejection counts go into the manifest) or a list
    of items. ``options`` are recorded in the manifest: an :class:`Options` as :meth:`Options.to_manifest`
    gives them, a mapping as it is. With ``warn_stale``, log a warning when new items replace
    old ones that were already verified or evaluated in that folder.
    """
    generation = items if isinstance(items, Generation) else None
    items = generation.items if generation is not None else list(items)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError("--out exists and is not a folder", path=out, fix="give a folder path, e.g. generated/my-set")
    items_path = out / ITEMS_FILE
    previous = items_path.read_bytes() if items_path.exists() else None
    write_jsonl(items_path, (item.to_dict() for item in items))
    stale = [p.name for p in (out / VERIFICATION_FILE, out / "runs") if p.exists()]
    if warn_stale and previous is not None and previous != items_path.read_bytes() and stale:
        logger.warning(f"warning: {out} had other items before; {' and '.join(stale)} there describe the old items: "
                       "run `depthkit verify --force` and `depthkit eval --force` (or use a new --out)")
    by_depth: dict[int, int] = {}
    for item in items:
        if not item.is_control:
            by_depth[item.depth] = by_depth.get(item.depth, 0) + 1
    save_section(out, "generate", GenerateSection(
        grammar=grammar.name,
        grammar_path=str(Path(grammar.path).resolve()),  # absolute: `verify` finds it from any folder
        grammar_sha256=grammar.sha256,
        includes=list(grammar.includes),
        construction=grammar.construction,
        options=options.to_manifest() if isinstance(options, Options) else dict(options),
        n_items=len(items),
        items_per_depth={str(k): v for k, v in sorted(by_depth.items())},
        depthkit_version=__version__,
        versions=package_versions(("depthkit", "nltk", "numpy", "pyyaml")),
        design=generation.design if generation is not None else {},
        rejected=generation.tally.to_record() if generation is not None else {},
    ))
    return items_path


__all__ = ["write_generated"]
