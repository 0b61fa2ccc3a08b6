"""Reading verification.jsonl back: all records of a folder, or the ids of its verified items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import DepthkitError
from ..store import VERIFICATION_FILE, log, read_jsonl, read_manifest

SECTION = "verify"


def read_verification(path: Path) -> dict[str, dict[str, Any]]:
    """Records of a verification.jsonl by item id (the first one of an id wins; a cut-off last line is skipped)."""
    out: dict[str, dict[str, Any]] = {}
    if path.exists():
        for rec in read_jsonl(path, allow_truncated_tail=True):
            if isinstance(rec.get("item_id"), str):
                out.setdefault(rec["item_id"], rec)
    return out


def _verification_path(folder: str | Path) -> Path:
    path = Path(folder)
    if path.is_dir():
        path = path / VERIFICATION_FILE
    if not path.exists():
        raise DepthkitError(f"no {VERIFICATION_FILE} found", path=path,
                            fix="run `depthkit verify FOLDER` on the folder `depthkit generate` wrote")
    return path


def load_verification(folder: str | Path) -> dict[str, dict[str, Any]]:
    """All verification records of a folder (or of a verification.jsonl), by item id."""
    return read_verification(_verification_path(folder))


def load_verified_ids(folder: str | Path) -> set[str]:
    """Ids of the items whose ``verified`` flag is true (for ``depthkit eval --verified-only``)."""
    path = _verification_path(folder)
    section = read_manifest(path.parent).get(SECTION) or {}
    if section and not section.get("complete", False):
        log(f"warning: verification in {path.parent} is incomplete; items not yet checked count as unverified")
    return {k for k, r in read_verification(path).items() if r.get("verified") is True}
