"""Finding grammar files: shipped names (``object-rc``) and paths."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from ..errors import UsageError

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # depthkit/


def shipped_grammar_dirs() -> list[Path]:
    """Folders searched for grammar names: $DEPTHKIT_GRAMMARS, the repo's grammars/, the wheel's copy."""
    dirs = [Path(p) for p in os.environ.get("DEPTHKIT_GRAMMARS", "").split(os.pathsep) if p]
    dirs += [PACKAGE_DIR.parent / "grammars", PACKAGE_DIR / "_grammars"]
    return [d for d in dirs if d.is_dir()]


def list_grammar_files() -> list[Path]:
    """One file per grammar name, the first folder of :func:`shipped_grammar_dirs` winning; sorted by name."""
    seen: dict[str, Path] = {}
    for folder in shipped_grammar_dirs():
        for path in sorted(folder.glob("*.yaml")):
            seen.setdefault(path.stem, path)
    return sorted(seen.values(), key=lambda p: p.stem)


def resolve_grammar_path(name_or_path: str | Path) -> Path:
    """The file for a shipped grammar name or a path; a clear error (with "did you mean") otherwise.

    A bare name (no folder, no .yaml) is a shipped grammar first, so a folder or file of that name in the
    working directory does not hide it; write ``./object-rc`` for the local one.
    """
    path = Path(name_or_path)
    text = str(name_or_path)
    explicit = path.suffix in (".yaml", ".yml") or os.sep in text or (os.altsep or os.sep) in text
    if not explicit:
        for candidate in list_grammar_files():
            if candidate.stem == text:
                return candidate
    if explicit or path.exists():
        if not path.exists():
            raise UsageError("grammar file not found", path=path,
                             fix="give a path to a .yaml grammar or a shipped name (`depthkit grammar list`)")
        if path.is_dir():
            raise UsageError("this is a folder, not a grammar file", path=path, fix="give the .yaml file inside it")
        return path
    names = [p.stem for p in list_grammar_files()]
    close = difflib.get_close_matches(text, names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UsageError(f"no grammar named '{name_or_path}'",
                     fix=f"{hint}shipped grammars: {', '.join(names) or '(none found)'}; or give a file path")


__all__ = ["list_grammar_files", "resolve_grammar_path", "shipped_grammar_dirs"]
