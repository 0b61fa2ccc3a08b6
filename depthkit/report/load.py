"""Reading eval runs for a report: judgments, the items and verification they refer to, the manifests.

:func:`load_runs` is the only place the report touches input files. A run folder is the ``--out``
of ``depthkit eval``; its items are found through the eval manifest (or next to it), checked
against the sha256 the run recorded, and read once per generated folder. Every file is read
through :mod:`depthkit.store` and validated by :mod:`depthkit.schema`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.tables import ItemKey, SourcedJudgment
from ..errors import DepthkitError, InputError, StaleOutputError, UsageError
from ..logs import logger
from ..schema import EvalSection, Item, Judgment, Manifest, VerificationRecord
from ..store import (ITEMS_FILE, JUDGMENTS_FILE, MANIFEST_FILE, VERIFICATION_FILE, load_manifest, read_items,
                     read_judgment_records, read_records, resolve_items_folder, sha256_file)


@dataclass(frozen=True)
class Run:
    """One eval run folder and what it points at: ``manifest`` is the run's, ``generated_manifest`` its items'."""

    folder: Path
    generated: Path
    manifest: Manifest
    generated_manifest: Manifest
    n_judgments: int
    model_labels: tuple[str, ...]
    tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Loaded:
    """Everything read from disk for one report; items and verification are keyed by (source, item id)."""

    runs: tuple[Run, ...]
    judgments: list[SourcedJudgment]
    items: dict[ItemKey, Item]
    verification: dict[ItemKey, VerificationRecord]
    notes: tuple[str, ...] = field(default=())


def load_runs(run_dirs: Sequence[str | Path]) -> Loaded:
    """Read each run's judgments, the items and verification they refer to, and the manifests.

    A run folder is the ``--out`` of ``depthkit eval`` (judgments.jsonl + manifest.json); a folder
    holding items.jsonl and judgments.jsonl together also works. When the same model name
    appears in two runs over the same items, the run folder's name is added to tell them apart.
    """
    if not run_dirs:
        raise UsageError("no run folder given", fix="depthkit report runs/MODEL --out reports/NAME")
    items: dict[ItemKey, Item] = {}
    verification: dict[ItemKey, VerificationRecord] = {}
    manifests: dict[str, Manifest] = {}  # per generated folder
    notes: list[str] = []
    per_run: list[tuple[Path, Manifest, list[Judgment], str]] = []
    seen_runs: set[Path] = set()
    for given in run_dirs:
        run_dir = Path(given)
        if run_dir.is_file() and run_dir.name == JUDGMENTS_FILE:
            run_dir = run_dir.parent
        if run_dir.resolve() in seen_runs:
            notes.append(f"{run_dir} was given more than once; it counts once")
            continue
        seen_runs.add(run_dir.resolve())
        if not run_dir.is_dir():
            raise UsageError("run folder not found", path=run_dir,
                             fix="give the --out folder of `depthkit eval` (it holds judgments.jsonl)")
        path = run_dir / JUDGMENTS_FILE
        if not path.is_file():
            raise UsageError("no judgments.jsonl in this folder", path=run_dir,
                             fix="run `depthkit eval ... --out FOLDER` first and pass that FOLDER")
        manifest = load_manifest(run_dir)
        section = manifest.eval
        if section is not None and section.status != "complete":
            notes.append(f"the eval run in {run_dir} is not complete (status: {section.status}): its curves use the "
                         "judgments written so far; run the same `depthkit eval` command again to finish it")
        generated = _find_generated(run_dir, section)
        source = str(generated)
        records = _read_judgments(path)
        short = _missing_judgments_note(section, len(records), path)
        if short:
            logger.warning(f"warning: {short}")
            notes.append(short)
        per_run.append((run_dir, manifest, records, source))
        if source not in manifests:
            manifests[source] = load_manifest(generated)
            for item in read_items(generated):
                items[(source, item.id)] = item
            note = _read_verification(generated, manifests[source], source, verification)
            if note:
                logger.warning(f"warning: {note}")
                notes.append(note)
        _check_items_unchanged(section, generated, run_dir)
        missing = sorted({r.item_id for r in records} - {i for s, i in items if s == source})
        if missing:
            raise StaleOutputError(f"{len(missing)} judged items are not in {generated / ITEMS_FILE} "
                                   f"(first: {missing[0]!r})", path=path,
                                   fix="the generated folder changed after the run; re-run `depthkit eval` on it")
    labels = _model_labels(per_run)
    runs: list[Run] = []
    judgments: list[SourcedJudgment] = []
    for run_dir, manifest, records, source in per_run:
        names = set()
        for record in records:
            label = labels[(str(run_dir), record.model)]
            names.add(label)
            relabelled = record if label == record.model else record.model_copy(update={"model": label})
            judgments.append(SourcedJudgment(relabelled, run=str(run_dir), source=source))
        for (folder, model), label in labels.items():
            if folder == str(run_dir) and label != model:
                notes.append(f"model '{model}' appears in several runs over the same items; "
                             f"this run's judgments are labelled '{label}'")
        runs.append(Run(folder=run_dir, generated=Path(source), manifest=manifest, generated_manifest=manifests[source],
                        n_judgments=len(records), model_labels=tuple(sorted(names)),
                        tasks=tuple(sorted({r.task for r in records}))))
    if not judgments:
        raise InputError("the run folders hold no judgments", path=per_run[0][0] / JUDGMENTS_FILE,
                         fix="let `depthkit eval` finish (it resumes where it stopped)")
    return Loaded(tuple(runs), judgments, items, verification, tuple(notes))


def _find_generated(run_dir: Path, section: EvalSection | None) -> Path:
    """The generated folder a run read.

    Candidates, in order: the eval manifest's ``items`` path (as given, then relative to the run
    folder and its parent), then the run folder and its parents (``GENERATED/runs/MODEL``). When
    the manifest records the items' sha256, the first candidate whose items.jsonl matches wins.
    """
    candidates: list[Path] = []
    if section is not None:
        path = Path(section.items).expanduser()
        candidates += [path] if path.is_absolute() else [Path.cwd() / path, run_dir / path, run_dir.parent / path]
    candidates += [run_dir, run_dir.parent, run_dir.parent.parent]
    found = [folder.resolve() for folder in map(_items_folder, candidates) if folder is not None]
    if not found:
        where = ", ".join(str(c) for c in candidates)
        raise InputError(f"cannot find the items this run judged (looked in: {where})", path=run_dir / MANIFEST_FILE,
                         fix="keep the generated folder where `depthkit eval` read it, or put its items.jsonl "
                             "next to judgments.jsonl")
    recorded = section.items_sha256 if section is not None else None
    if recorded:
        for folder in found:
            if sha256_file(folder / ITEMS_FILE) == recorded:
                return folder
    return found[0]


def _items_folder(candidate: Path) -> Path | None:
    """The generated folder ``candidate`` names (a folder or its items.jsonl), or None when it holds no items."""
    try:
        folder, _ = resolve_items_folder(candidate)
    except DepthkitError:
        return None
    return folder


def _read_verification(generated: Path, manifest: Manifest, source: str,
                       into: dict[ItemKey, VerificationRecord]) -> str | None:
    """Add the folder's verification records to ``into``; a note instead when they were made for other items."""
    path = generated / VERIFICATION_FILE
    if not path.is_file():
        return None
    settings = manifest.verify.settings if manifest.verify is not None else {}
    recorded = settings.get("items_sha256")  # verify records the sha256 of the items it checked
    if recorded and recorded != sha256_file(generated / ITEMS_FILE):
        return (f"{path} is from an earlier items.jsonl, so the report ignores it; run "
                f"`depthkit verify {generated} --force`")
    for _, record in read_records(path, VerificationRecord):
        into[(source, record.item_id)] = record
    return None


def _missing_judgments_note(section: EvalSection | None, n_read: int, path: Path) -> str | None:
    """A note when a complete eval run recorded more (or fewer) judgments than judgments.jsonl holds."""
    if section is None or section.status != "complete":
        return None
    recorded = section.counts.get("judgments")
    if not isinstance(recorded, int) or recorded == n_read:
        return None
    return (f"{path} holds {n_read} judgments but its complete eval run recorded {recorded}: the file was cut short "
            "or edited after the run, so these curves rest on the judgments found; run the same `depthkit eval` "
            "command again to fill in the missing ones")


def _check_items_unchanged(section: EvalSection | None, generated: Path, run_dir: Path) -> None:
    """The items file must be the one the run judged (eval records its sha256)."""
    recorded = section.items_sha256 if section is not None else None
    if not recorded:
        return
    actual = sha256_file(generated / ITEMS_FILE)
    if actual != recorded:
        raise StaleOutputError(f"{generated / ITEMS_FILE} changed after this run judged it (sha256 {actual[:12]}, "
                               f"the run recorded {recorded[:12]})", path=run_dir / MANIFEST_FILE,
                               fix="re-run `depthkit eval` on the current items, or restore the items the run used")


def _read_judgments(path: Path) -> list[Judgment]:
    """Judgments keyed by (item, model, task); a record written twice counts once, two different ones are an error."""
    return read_judgment_records(path)


def _model_labels(per_run: list[tuple[Path, Manifest, list[Judgment], str]]) -> dict[tuple[str, str], str]:
    """Model label per (run, model): the model name, plus the run folder's name when it clashes."""
    owners: dict[tuple[str, str, str], list[str]] = {}
    for run_dir, _, records, source in per_run:
        for model, task in {(r.model, r.task) for r in records}:
            owners.setdefault((source, model, task), []).append(str(run_dir))
    clashing = {(folder, model) for (source, model, task), folders in owners.items() if len(set(folders)) > 1
                for folder in folders}
    labels = {}
    for run_dir, _, records, source in per_run:
        for model in {r.model for r in records}:
            key = (str(run_dir), model)
            labels[key] = f"{model} ({run_dir.name})" if key in clashing else model
    return labels
