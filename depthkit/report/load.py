"""Reading eval runs for a report: judgments, the items and verification they refer to, the manifests.

:func:`load_runs` is the only place the report touches input files. A run folder is the ``--out``
of ``depthkit eval``; its items are found through the eval manifest (or next to it), checked
against the sha256 the run recorded, and read once per generated folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DepthkitError
from ..store import (ITEMS_FILE, JUDGMENTS_FILE, MANIFEST_FILE, VERIFICATION_FILE, load_items, log, read_jsonl,
                     read_manifest, sha256_file)


@dataclass(frozen=True)
class Run:
    """One eval run folder and what it points at."""

    folder: Path
    generated: Path
    manifest: dict[str, Any]
    generated_manifest: dict[str, Any]
    n_judgments: int
    model_labels: tuple[str, ...]
    tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Loaded:
    """Everything read from disk for one report."""

    runs: tuple[Run, ...]
    judgments: list[dict[str, Any]]
    items: dict[tuple[str, str], dict[str, Any]]
    verification: dict[tuple[str, str], dict[str, Any]]
    notes: tuple[str, ...] = field(default=())


def _find_generated(run_dir: Path, manifest: Mapping[str, Any]) -> Path:
    """The generated folder a run read.

    Candidates, in order: the eval manifest's ``items`` path (as given, then relative to the run
    folder and its parent), then the run folder and its parents (``GENERATED/runs/MODEL``). When
    the manifest records the items' sha256, the first candidate whose items.jsonl matches wins.
    """
    section = manifest.get("eval") or {}
    named = section.get("items") or section.get("generated") or section.get("items_path")
    candidates: list[Path] = []
    if named:
        path = Path(str(named)).expanduser()
        for candidate in [path] if path.is_absolute() else [Path.cwd() / path, run_dir / path, run_dir.parent / path]:
            candidates.append(candidate.parent if candidate.name.endswith(".jsonl") else candidate)
    candidates += [run_dir, run_dir.parent, run_dir.parent.parent]
    found = [c.resolve() for c in candidates if (c / ITEMS_FILE).is_file()]
    if not found:
        where = ", ".join(str(c) for c in candidates)
        raise DepthkitError(f"cannot find the items this run judged (looked in: {where})", path=run_dir / MANIFEST_FILE,
                            fix="keep the generated folder where `depthkit eval` read it, or put its items.jsonl "
                                "next to judgments.jsonl")
    recorded = section.get("items_sha256")
    if recorded:
        for folder in found:
            if sha256_file(folder / ITEMS_FILE) == recorded:
                return folder
    return found[0]


def load_runs(run_dirs: Sequence[str | Path]) -> Loaded:
    """Read each run's judgments, the items and verification they refer to, and the manifests.

    A run folder is the ``--out`` of ``depthkit eval`` (judgments.jsonl + manifest.json); a folder
    holding items.jsonl and judgments.jsonl together also works. When the same model name
    appears in two runs over the same items, the run folder's name is added to tell them apart.
    """
    if not run_dirs:
        raise DepthkitError("no run folder given", fix="depthkit report runs/MODEL --out reports/NAME")
    runs: list[Run] = []
    judgments: list[dict[str, Any]] = []
    items: dict[tuple[str, str], dict[str, Any]] = {}
    verification: dict[tuple[str, str], dict[str, Any]] = {}
    notes: list[str] = []
    seen_sources: set[str] = set()
    per_run: list[tuple[Path, list[dict[str, Any]], str]] = []
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
            raise DepthkitError("run folder not found", path=run_dir,
                                fix="give the --out folder of `depthkit eval` (it holds judgments.jsonl)")
        path = run_dir / JUDGMENTS_FILE
        if not path.is_file():
            raise DepthkitError("no judgments.jsonl in this folder", path=run_dir,
                                fix="run `depthkit eval ... --out FOLDER` first and pass that FOLDER")
        manifest = read_manifest(run_dir)
        status = (manifest.get("eval") or {}).get("status")
        if status not in (None, "complete"):
            notes.append(f"the eval run in {run_dir} is not complete (status: {status}): its curves use the judgments "
                         "written so far; run the same `depthkit eval` command again to finish it")
        generated = _find_generated(run_dir, manifest)
        source = str(generated)
        records = _read_judgments(path)
        short = _missing_judgments_note(manifest, len(records), path)
        if short:
            log(f"warning: {short}")
            notes.append(short)
        per_run.append((run_dir, records, source))
        if source not in seen_sources:
            seen_sources.add(source)
            for item in load_items(generated):
                items[(source, item["id"])] = item
            vpath = generated / VERIFICATION_FILE
            stale = vpath.is_file() and _verification_is_stale(generated)
            if stale:
                note = (f"{vpath} is from an earlier items.jsonl, so the report ignores it; run "
                        f"`depthkit verify {generated} --force`")
                log(f"warning: {note}")
                notes.append(note)
            if vpath.is_file() and not stale:
                for number, record in enumerate(read_jsonl(vpath), start=1):
                    if "item_id" not in record:
                        raise DepthkitError(f"verification record on line {number} has no 'item_id'", path=vpath,
                                            line=number, fix="re-run `depthkit verify` on the generated folder")
                    verification[(source, record["item_id"])] = {**record, "source": source}
        _check_items_unchanged(manifest, generated, run_dir)
        missing = sorted({r["item_id"] for r in records} - {i for s, i in items if s == source})
        if missing:
            raise DepthkitError(f"{len(missing)} judged items are not in {generated / ITEMS_FILE} "
                                f"(first: {missing[0]!r})", path=path,
                                fix="the generated folder changed after the run; re-run `depthkit eval` on it")
    labels = _model_labels(per_run)
    for run_dir, records, source in per_run:
        names = set()
        for record in records:
            label = labels[(str(run_dir), str(record.get("model", "")))]
            names.add(label)
            judgments.append({**record, "model": label, "run": str(run_dir), "source": source})
        for (folder, model), label in labels.items():
            if folder == str(run_dir) and label != model:
                notes.append(f"model '{model}' appears in several runs over the same items; "
                             f"this run's judgments are labelled '{label}'")
        runs.append(Run(folder=run_dir, generated=Path(source), manifest=read_manifest(run_dir),
                        generated_manifest=read_manifest(source), n_judgments=len(records),
                        model_labels=tuple(sorted(names)), tasks=tuple(sorted({str(r["task"]) for r in records}))))
    if not judgments:
        raise DepthkitError("the run folders hold no judgments", path=per_run[0][0] / JUDGMENTS_FILE,
                            fix="let `depthkit eval` finish (it resumes where it stopped)")
    return Loaded(tuple(runs), judgments, items, verification, tuple(notes))


def _verification_is_stale(generated: Path) -> bool:
    """Whether verification.jsonl was made for other items (the verify manifest records their sha256)."""
    settings = (read_manifest(generated).get("verify") or {}).get("settings") or {}
    recorded = settings.get("items_sha256") if isinstance(settings, Mapping) else None
    return bool(recorded) and recorded != sha256_file(generated / ITEMS_FILE)


def _missing_judgments_note(manifest: Mapping[str, Any], n_read: int, path: Path) -> str | None:
    """A note when a complete eval run recorded more (or fewer) judgments than judgments.jsonl holds."""
    section = manifest.get("eval") or {}
    counts = section.get("counts") if isinstance(section.get("counts"), Mapping) else {}
    recorded = counts.get("judgments")
    if section.get("status") != "complete" or not isinstance(recorded, int) or recorded == n_read:
        return None
    return (f"{path} holds {n_read} judgments but its complete eval run recorded {recorded}: the file was cut short "
            "or edited after the run, so these curves rest on the judgments found; run the same `depthkit eval` "
            "command again to fill in the missing ones")


def _check_items_unchanged(manifest: Mapping[str, Any], generated: Path, run_dir: Path) -> None:
    """The items file must be the one the run judged (eval records its sha256)."""
    recorded = (manifest.get("eval") or {}).get("items_sha256")
    if not recorded:
        return
    actual = sha256_file(generated / ITEMS_FILE)
    if actual != recorded:
        raise DepthkitError(f"{generated / ITEMS_FILE} changed after this run judged it (sha256 {actual[:12]}, "
                            f"the run recorded {str(recorded)[:12]})", path=run_dir / MANIFEST_FILE,
                            fix="re-run `depthkit eval` on the current items, or restore the items the run used")


def _read_judgments(path: Path) -> list[dict[str, Any]]:
    """Judgments keyed by (item, model, task); a record written twice (a resumed run) counts once, the last."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for number, record in enumerate(read_jsonl(path, allow_truncated_tail=True), start=1):
        for key in ("item_id", "model", "task", "correct"):
            if key not in record:
                raise DepthkitError(f"judgment on line {number} has no '{key}' field", path=path, line=number,
                                    fix="judgments.jsonl must be written by `depthkit eval` (see docs/schema.md)")
        if record["correct"] is not None and not isinstance(record["correct"], bool):
            raise DepthkitError(f"judgment on line {number}: 'correct' must be true, false or null", path=path,
                                line=number, fix="judgments.jsonl must be written by `depthkit eval`")
        latest[(str(record["item_id"]), str(record["model"]), str(record["task"]))] = record
    return list(latest.values())


def _model_labels(per_run: list[tuple[Path, list[dict[str, Any]], str]]) -> dict[tuple[str, str], str]:
    """Model label per (run, model): the model name, plus the run folder's name when it clashes."""
    owners: dict[tuple[str, str, str], list[str]] = {}
    for run_dir, records, source in per_run:
        for model, task in {(str(r.get("model", "")), str(r["task"])) for r in records}:
            owners.setdefault((source, model, task), []).append(str(run_dir))
    clashing = {(folder, model) for (source, model, task), folders in owners.items() if len(set(folders)) > 1
                for folder in folders}
    labels = {}
    for run_dir, records, source in per_run:
        for model in {str(r.get("model", "")) for r in records}:
            key = (str(run_dir), model)
            labels[key] = f"{model} ({run_dir.name})" if key in clashing else model
    return labels

