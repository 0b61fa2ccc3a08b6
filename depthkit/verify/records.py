"""Reading verification.jsonl back: all records of a folder, or the ids of its verified items."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..logs import logger
from ..schema import VerificationRecord
from ..store import VERIFICATION_FILE, load_manifest, read_records


def read_verification(path: Path) -> dict[str, VerificationRecord]:
    """Records of a verification.jsonl by item id (none when there is no file).

    The first record of an id wins; a cut-off last line (a killed run) is skipped; any other
    malformed line is an :class:`~depthkit.errors.InputError` naming it.
    """
    out: dict[str, VerificationRecord] = {}
    if path.exists():
        for _, record in read_records(path, VerificationRecord, allow_truncated_tail=True):
            out.setdefault(record.item_id, record)
    return out


def _verification_path(folder: str | Path) -> Path:
    path = Path(folder)
    if path.is_dir():
        path = path / VERIFICATION_FILE
    if not path.exists():
        raise InputError(f"no {VERIFICATION_FILE} found", path=path,
                         fix="run `depthkit verify FOLDER` on the folder `depthkit generate` wrote")
    return path


def load_verification(folder: str | Path) -> dict[str, VerificationRecord]:
    """All verification records of a folder (or of a verification.jsonl), by item id."""
    return read_verification(_verification_path(folder))


def load_verified_ids(folder: str | Path) -> set[str]:
    """Ids of the items whose ``verified`` flag is true (for ``depthkit eval --verified-only``)."""
    path = _verification_path(folder)
    section = load_manifest(path.parent).verify
    if section is not None and not section.complete:
        logger.warning(f"warning: verification in {path.parent} is incomplete; items not yet checked count as unverified")
    return {item_id for item_id, record in read_verification(path).items() if record.verified}
