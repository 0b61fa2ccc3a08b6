"""Reading and writing depthkit's files: JSONL records, manifests, run folders.

Writes are atomic (temp file + rename) or append-only with a flush per record, so an
interrupted run never leaves a half-written file behind and never loses finished work.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .schema import Item, Judgment, Manifest, Record, Section

R = TypeVar("R", bound="Record")

from .errors import DepthkitError, InputError

ITEMS_FILE = "items.jsonl"
VERIFICATION_FILE = "verification.jsonl"
JUDGMENTS_FILE = "judgments.jsonl"
MANIFEST_FILE = "manifest.json"


def dumps(record: dict[str, Any]) -> str:
    """One canonical JSON line (stable key order as given, UTF-8, no spaces)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_lines_atomic(path: str | Path, lines: Iterable[str]) -> int:
    """Write text lines to ``path`` via a temp file and rename (readers never see half a file).

    Returns how many lines were written. The file gets ordinary permissions (0666 & ~umask).
    """
    path = Path(path)
    make_folder(path.parent)
    n = 0
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(line)
                n += 1
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def make_folder(folder: str | Path) -> Path:
    """Create ``folder`` (and parents), with a clear error when that is impossible."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DepthkitError(f"cannot create this folder ({exc.strerror or exc})", path=folder,
                            fix="choose an output folder you can write to") from None
    return folder


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Atomically write a whole text file."""
    write_lines_atomic(path, [text])
    return Path(path)


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Atomically write ``records`` to ``path``; returns how many were written."""
    return write_lines_atomic(path, (dumps(record) + "\n" for record in records))


def read_jsonl(path: str | Path, *, allow_truncated_tail: bool = False) -> Iterator[dict[str, Any]]:
    """Yield the records of a JSONL file (see :func:`read_jsonl_numbered`)."""
    for _, record in read_jsonl_numbered(path, allow_truncated_tail=allow_truncated_tail):
        yield record


def read_jsonl_numbered(path: str | Path, *, allow_truncated_tail: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (1-based line number, record) for a JSONL file, with an error naming a bad line.

    With ``allow_truncated_tail`` a last line without its newline that does not parse
    (what a killed writer leaves behind) is skipped instead of raising; callers that
    append to the file should then call :func:`repair_truncated_tail` first.
    """
    path = Path(path)
    if not path.exists():
        raise DepthkitError("file not found", path=path,
                            fix="check the path; `depthkit generate` writes items.jsonl into its --out folder")
    with path.open("rb") as f:
        raw = f.read()
    if b"\x00" in raw[:4096]:
        raise DepthkitError("this is a binary file, not JSON lines", path=path,
                            fix="point depthkit at the .jsonl file it wrote")
    lines = raw.split(b"\n")
    complete_tail = raw.endswith(b"\n") or not raw
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        is_last = number == len(lines)
        try:
            record = json.loads(line.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
        except _DuplicateKey as exc:
            raise InputError(f"line {number} has the key '{exc.key}' twice", path=path, line=number, field=exc.key,
                             fix="each key may appear once per record; delete one of them (or regenerate the file)") from None
        except UnicodeDecodeError as exc:
            if is_last and not complete_tail and allow_truncated_tail:
                return
            raise InputError(f"line {number} is not UTF-8 text (byte {exc.start} of the line)", path=path, line=number,
                             fix="the file was edited by another program or is not depthkit's; save it as UTF-8 "
                                 "(or regenerate it)") from None
        except json.JSONDecodeError as exc:
            if is_last and not complete_tail and allow_truncated_tail:
                return
            raise DepthkitError(
                f"line {number} is not valid JSON ({exc.__class__.__name__}: {exc})",
                path=path, line=number,
                fix="the file was truncated or edited by hand; delete that line (or regenerate the file)",
            ) from None
        if not isinstance(record, dict):
            raise DepthkitError(f"line {number} is JSON but not an object", path=path, line=number,
                                fix="each line must be one JSON object")
        yield number, record


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def read_records(path: str | Path, record_type: type[R], *, allow_truncated_tail: bool = False) -> list[tuple[int, R]]:
    """(line, record) for each line of a JSONL file, each validated as ``record_type`` (see :mod:`depthkit.schema`)."""
    path = Path(path)
    return [(number, record_type.from_dict(data, path=path, line=number))
            for number, data in read_jsonl_numbered(path, allow_truncated_tail=allow_truncated_tail)]


def resolve_items_folder(folder_or_file: str | Path) -> tuple[Path, Path]:
    """(folder, items.jsonl path) for a generated folder or its items.jsonl, with a clear error when neither."""
    given = Path(folder_or_file)
    if given.is_file():
        return given.parent, given
    items = given / ITEMS_FILE
    if not given.exists():
        raise DepthkitError("folder not found", path=given,
                            fix="give the folder `depthkit generate` wrote (it holds items.jsonl)")
    if not items.is_file():
        raise DepthkitError(f"no {ITEMS_FILE} in this folder", path=given,
                            fix="give the folder `depthkit generate` wrote (it holds items.jsonl)")
    return given, items


def read_items(folder_or_file: str | Path) -> list[Item]:
    """The validated items of a generated folder (or its items.jsonl): unique ids, controls of known items."""
    from .schema import Item

    _, path = resolve_items_folder(folder_or_file)
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, item in read_records(path, Item):
        if item.id in seen:
            raise InputError(f"item id '{item.id}' on line {number} already appeared on line {seen[item.id]}",
                             path=path, line=number, field="id", fix="item ids must be unique; regenerate the items")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise InputError("the file holds no items", path=path,
                         fix="run `depthkit generate` again into this folder (an empty items.jsonl is not a result)")
    lines = {item.id: n for n, item in zip(seen.values(), items)}
    for item in items:
        if item.control_of is not None and item.control_of not in seen:
            raise InputError(f"control '{item.id}' names test item '{item.control_of}', which is not in the file",
                             path=path, line=lines[item.id], field="control_of",
                             fix="keep each control with its test item (or regenerate the items)")
    return items


def read_judgment_records(path: str | Path) -> list["Judgment"]:
    """The judgments of a judgments.jsonl (an unfinished last line skipped), each (item, model, task) once.

    The same judgment written twice counts once; two different judgments of one item by one model under
    one task are an error naming both lines (the file was edited or two runs were mixed by hand).
    """
    from .schema import Judgment

    path = Path(path)
    seen: dict[tuple[str, str, str], tuple[int, Judgment]] = {}
    out: list[Judgment] = []
    for number, record in read_records(path, Judgment, allow_truncated_tail=True):
        key = (record.item_id, record.model, record.task)
        if key in seen:
            first, earlier = seen[key]
            if earlier != record:
                raise InputError(f"item '{record.item_id}' is judged twice by {record.model} under {record.task}, "
                                 f"differently (lines {first} and {number})", path=path, line=number, field="item_id",
                                 fix="delete one of the two lines, or re-run `depthkit eval --force`")
            continue
        seen[key] = (number, record)
        out.append(record)
    return out


def repair_truncated_tail(path: str | Path) -> bool:
    """Cut an unfinished last line (no trailing newline) off an append-only JSONL file.

    Returns True when something was cut. Only the partial record a killed writer left is
    removed; every complete line stays.
    """
    path = Path(path)
    if not path.exists():
        return False
    with path.open("rb+") as f:
        data = f.read()
        if not data or data.endswith(b"\n"):
            return False
        cut = data.rfind(b"\n") + 1
        f.truncate(cut)
    return True


class JsonlAppender:
    """Append records to a JSONL file one flushed line at a time (crash-safe resume)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        make_folder(self.path.parent)
        repair_truncated_tail(self.path)
        self._f = self.path.open("a", encoding="utf-8", newline="\n")

    def write(self, record: dict[str, Any]) -> None:
        self._f.write(dumps(record) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "JsonlAppender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions(names: Iterable[str] = ("depthkit", "nltk", "numpy", "spacy", "benepar", "torch",
                                              "transformers", "seaborn", "pandas", "statsmodels")) -> dict[str, str]:
    """Installed versions of the packages that can change results (absent ones omitted)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def read_manifest(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DepthkitError(f"manifest is not valid JSON ({exc})", path=path, line=exc.lineno,
                            fix="restore it from the run or re-run the step that wrote it") from None


def load_manifest(folder: str | Path) -> "Manifest":
    """The typed manifest of ``folder`` (empty when there is none); errors name the file and the fix."""
    from .schema import Manifest

    path = Path(folder) / MANIFEST_FILE
    if not path.exists():
        return Manifest()
    try:
        data = json.loads(path.read_bytes().decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except UnicodeDecodeError as exc:
        raise InputError(f"manifest is not UTF-8 text (byte {exc.start})", path=path,
                         fix="restore it from the run or re-run the step that wrote it") from None
    except _DuplicateKey as exc:
        raise InputError(f"manifest has the key '{exc.key}' twice", path=path, field=exc.key,
                         fix="restore it from the run or re-run the step that wrote it") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"manifest is not valid JSON ({exc})", path=path, line=exc.lineno,
                         fix="restore it from the run or re-run the step that wrote it") from None
    return Manifest.from_dict(data, path=path)


def save_section(folder: str | Path, name: str, section: "Section") -> Path:
    """Record one step's typed section (``generate``, ``verify``, ``eval``, ``report``) in ``folder``'s manifest.

    Sections other steps wrote are kept as they are on disk.
    """
    manifest = read_manifest(folder)
    manifest[name] = section.to_dict()
    return write_manifest(folder, manifest)


def write_manifest(folder: str | Path, manifest: dict[str, Any]) -> Path:
    """Atomically write ``manifest.json`` (pretty, sorted keys, trailing newline)."""
    from .errors import redact_secrets  # no password of a server address is ever written

    return write_text_atomic(Path(folder) / MANIFEST_FILE,
                             redact_secrets(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)) + "\n")



