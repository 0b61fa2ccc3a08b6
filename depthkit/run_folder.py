"""An eval run folder (OUT): its lock, its judgments, its manifest section, and when it may be resumed.

One run folder holds the judgments of one model with one set of task settings. Judgments already in it
are resumed only when they were made from the same items.jsonl (``items_sha256``) and with the same
backend fingerprint, presentation, seed and task settings (``identity``); otherwise a
:class:`~depthkit.errors.StaleOutputError` says so, and ``force`` moves the old judgments aside
(judgments.jsonl.stale-N) to start over. Only one `depthkit eval` writes into a folder at a time.
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .backends.base import Backend
from .errors import StaleOutputError, UsageError
from .logs import logger
from .schema import SCHEMA_VERSION, EvalSection, Judgment
from .store import JUDGMENTS_FILE, MANIFEST_FILE, load_manifest, read_judgment_records, save_section

SECTION = "eval"
CACHE_FILE = "cache.sqlite"
LOCK_FILE = ".eval.lock"


def default_out(folder: Path, backend: Backend) -> Path:
    """``runs/<items folder name>-<model>``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", backend.label.split("/")[-1]).strip("-").lower()
    return Path("runs") / f"{folder.name}-{slug or backend.name}"


@contextmanager
def lock_run_folder(out: Path) -> Iterator[Path]:
    """Create ``out`` and hold its lock while the block runs (another eval into it is refused)."""
    if out.exists() and not out.is_dir():
        raise UsageError("--out exists and is not a folder", path=out, fix="give a folder path, e.g. runs/my-run")
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = (out / LOCK_FILE).open("w")
    except OSError as exc:
        raise UsageError(f"cannot create or write the run folder ({exc.strerror or exc})", path=out,
                         fix="give an --out in a folder you can write to, e.g. --out runs/my-run") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UsageError("another `depthkit eval` is writing to this folder", path=out,
                             fix="wait for it to finish, or give another --out") from None
        yield out
    finally:
        handle.close()


def read_judgments(path: Path) -> list[Judgment]:
    """The judgments in a judgments.jsonl (none when it does not exist; an unfinished last line is skipped)."""
    if not path.exists():
        return []
    return read_judgment_records(path)


def save_eval_section(out: Path, facts: dict[str, Any]) -> Path:
    """Record the run's facts as the manifest's ``eval`` section (only the facts known so far)."""
    return save_section(out, SECTION, EvalSection(schema_version=SCHEMA_VERSION, **facts))


def start_over_or_refuse(out: Path, items_sha256: str, force: bool) -> None:
    """With ``force`` move earlier judgments aside; without, refuse those made from another items.jsonl."""
    path = out / JUDGMENTS_FILE
    if not path.exists() or path.stat().st_size == 0:
        return
    if force:
        n = 1
        while path.with_name(f"{JUDGMENTS_FILE}.stale-{n}").exists():
            n += 1
        stale = path.with_name(f"{JUDGMENTS_FILE}.stale-{n}")
        path.rename(stale)
        logger.info(f"--force: earlier judgments moved to {stale}; starting over (cached answers are reused)")
        return
    section = load_manifest(out).eval
    recorded = section.items_sha256 if section else None
    if recorded and recorded != items_sha256:
        raise StaleOutputError(f"{path} holds judgments made from a different items.jsonl (regenerated since, or "
                               "another folder)", path=out,
                               fix="give another --out, or pass --force to start over (the old judgments are kept as "
                                   f"{JUDGMENTS_FILE}.stale-N)")


def check_resume(out: Path, identity: dict[str, Any], done: set[tuple[str, str]]) -> EvalSection | None:
    """Refuse to mix models or settings in one judgments.jsonl; returns the previous eval section.

    ``identity`` maps each task of this run to what its judgments depend on; a task judged earlier
    into this folder but not run now only needs the same backend.
    """
    previous = load_manifest(out).eval
    if previous is None and done:
        missing = "is missing" if not (out / MANIFEST_FILE).exists() else "has no eval section"
        raise StaleOutputError(f"{out / JUDGMENTS_FILE} holds {len(done)} judgments, but the run's {MANIFEST_FILE} "
                               f"{missing}, so depthkit cannot tell which model and settings made them",
                               path=out / MANIFEST_FILE,
                               fix="restore manifest.json, give another --out, or pass --force to start over (the "
                                   f"old judgments are kept as {JUDGMENTS_FILE}.stale-N)")
    old_identity = previous.identity if previous else {}
    fingerprint = next(iter(identity.values()))["backend"]
    for task in sorted({t for _, t in done}):
        same = (old_identity.get(task) == identity[task] if task in identity
                else (old_identity.get(task) or {}).get("backend") == fingerprint)
        if not same:
            raise StaleOutputError(f"{out / JUDGMENTS_FILE} already holds {task} judgments made with another model, "
                                   "options, prompt or presentation", path=out,
                                   fix="give another --out, or pass --force to start over")
    return previous


__all__ = ["CACHE_FILE", "LOCK_FILE", "SECTION", "check_resume", "default_out", "lock_run_folder", "read_judgments",
           "save_eval_section", "start_over_or_refuse"]
