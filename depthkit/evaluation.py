"""`depthkit eval`: ask a model about every item, through a cache, into judgments.jsonl.

:func:`evaluate` is the notebook entry point. For each batch of items it builds the task
requests (pure, :mod:`depthkit.tasks`), takes what it can from the SQLite call cache,
sends only the rest to the backend, commits the responses to the cache the moment they
arrive, then appends the batch's judgments (one flushed line each). A run killed at any
moment and started again (same command) loses and duplicates no judgment and sends no
answered request twice; at the end judgments.jsonl is rewritten in item order. Judgments
made from another items.jsonl (regenerated since) are never resumed: ``force`` moves them
aside (judgments.jsonl.stale-N) and starts over, still answering from the cache.
"""

from __future__ import annotations

import fcntl
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .backends import get_backend
from .backends.base import Backend, Completion, TokenScores
from .backends.cache import CallCache, request_key
from .errors import DepthkitError
from .store import (ITEMS_FILE, JUDGMENTS_FILE, VERIFICATION_FILE, JsonlAppender, load_items, log,
                    package_versions, read_jsonl, read_manifest, sha256_file, update_manifest, write_jsonl)
from .tasks import PAIRED_TASKS, TASKS, Presentation, PromptTemplate, Task, load_prompt, make_task

SECTION = "eval"
CACHE_FILE = "cache.sqlite"
VERSIONED = ("depthkit", "torch", "transformers", "tokenizers", "numpy", "httpx", "pyyaml")


@dataclass(frozen=True)
class _Unit:
    """One item under one task: the requests to make and where their answers go."""

    item: dict[str, Any]
    task: Task
    requests: tuple[Any, ...]
    keys: tuple[str, ...]


def evaluate(folder: str | Path, model: str | Backend | None = None, tasks: str | Sequence[str] = ("minimal-pair",),
             out: str | Path | None = None, *, options: Mapping[str, Any] | None = None,
             batch_size: int | None = None, verified_only: bool = False, limit: int | None = None,
             cache: str | Path | None = None, prompts: Iterable[str | Path] | None = None,
             presentation: Presentation | None = None, verdict_by: str = "critical", seed: int = 0,
             force: bool = False, progress: bool = True) -> Path:
    """Judge the items of ``folder`` with ``model`` on ``tasks``; returns the judgments.jsonl path.

    ``model`` is a spec (``"hf:PATH"``, ``"openai:MODEL@URL"``, ``"fake"``; None: the embedded
    SmolLM2) or a backend object; ``options`` go to the backend. ``out`` defaults to
    ``runs/<folder name>-<model>``; ``cache`` to ``OUT/cache.sqlite``. ``limit`` keeps the first
    N test items of each depth (and their controls). ``prompts`` are prompt files, each for the
    task its ``task:`` names. ``force`` starts over: judgments already in OUT are renamed
    judgments.jsonl.stale-N (the cache stays: it is keyed by request text).
    """
    started = time.time()
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise DepthkitError("folder not found", path=folder,
                            fix="give the folder `depthkit generate` wrote (it holds items.jsonl)")
    task_names = [tasks] if isinstance(tasks, str) else list(dict.fromkeys(tasks))
    if not task_names:
        raise DepthkitError("no task given", fix=f"tasks: {', '.join(TASKS)}")
    for name in task_names:
        if name not in TASKS:
            raise DepthkitError(f"unknown task '{name}'", fix=f"tasks: {', '.join(TASKS)}")
    if batch_size is not None and batch_size < 1:
        raise DepthkitError("--batch-size must be at least 1", fix="e.g. --batch-size 64")
    if limit is not None and limit < 1:
        raise DepthkitError("--limit must be at least 1", fix="e.g. --limit 10 (items per depth)")
    presentation = presentation or Presentation()
    templates = _prompt_files(prompts, task_names)
    task_objs = [make_task(n, presentation, verdict_by, templates.get(n), seed) for n in task_names]

    items = load_items(folder)
    n_loaded = len(items)
    if verified_only:
        items = _verified(folder, items)
    if limit is not None:
        items = limit_items(items, limit)

    backend = get_backend(model, **dict(options or {}))
    for task in task_objs:
        if task.kind == "score" and not backend.supports_score:
            raise DepthkitError(f"backend '{backend.name}' cannot score log-probabilities, which {task.name} needs",
                                fix="use --task judgment or forced-choice with this backend, or another --model")
        if task.kind == "complete" and not backend.supports_complete:
            raise DepthkitError(f"backend '{backend.name}' cannot answer prompts, which {task.name} needs",
                                fix="use --task minimal-pair with this backend, or another --model")
    pairless_warning = _check_pairs(folder, items, task_names)
    out = Path(out) if out is not None else default_out(folder, backend)
    if out.exists() and not out.is_dir():
        raise DepthkitError("--out exists and is not a folder", path=out, fix="give a folder path, e.g. runs/my-run")
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = _lock(out)
    except OSError as exc:
        raise DepthkitError(f"cannot create or write the run folder ({exc.strerror or exc})", path=out,
                            fix="give an --out in a folder you can write to, e.g. --out runs/my-run") from None
    try:
        if pairless_warning:
            log(pairless_warning)
        return _run(folder, items, n_loaded, backend, task_objs, out, cache, batch_size, verified_only, limit,
                    presentation, seed, force, progress, started)
    finally:
        lock.close()
        if not isinstance(model, Backend):  # a backend the caller made stays open for them
            backend.close()


def default_out(folder: Path, backend: Backend) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", backend.label.split("/")[-1]).strip("-").lower()
    return Path("runs") / f"{folder.name}-{slug or backend.name}"


def limit_items(items: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` test items of each depth, with the controls made for them."""
    kept: set[str] = set()
    per_depth: dict[int, int] = {}
    for item in items:
        if item.get("kind", "test") != "control":
            d = int(item["depth"])
            if per_depth.get(d, 0) < limit:
                per_depth[d] = per_depth.get(d, 0) + 1
                kept.add(item["id"])
    return [i for i in items if i["id"] in kept or (i.get("kind") == "control" and i.get("control_of") in kept)]


def _check_pairs(folder: Path, items: list[dict[str, Any]], task_names: list[str]) -> str | None:
    """Refuse paired tasks on items that have no bad member; a warning when only some lack one."""
    paired = [t for t in task_names if t in PAIRED_TASKS]
    pairless = [i for i in items if not i.get("bad")]
    if not paired or not pairless:
        return None
    if len(pairless) == len(items):
        raise DepthkitError(f"task {' and '.join(paired)} compares each sentence with its ungrammatical twin, "
                            f"and these items have none (`bad` is null: their grammar has no `pair:`)",
                            path=folder / ITEMS_FILE,
                            fix="use --task judgment (it then asks about the good sentences alone), or add a `pair:` "
                                "section to the grammar and generate again")
    return (f"warning: {len(pairless)} of {len(items)} items have no bad member (their grammar has no `pair:`, "
            f"e.g. {pairless[0]['id']}): {' and '.join(paired)} give them no verdict (correct: null)")


def _verified(folder: Path, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not (folder / VERIFICATION_FILE).exists():
        raise DepthkitError(f"--verified-only needs {VERIFICATION_FILE}, and this folder has none",
                            path=folder / VERIFICATION_FILE, fix=f"run `depthkit verify {folder}` first")
    try:
        from .verify import load_verified_ids
    except ImportError:
        raise DepthkitError("this depthkit installation has no verification module",
                            fix="reinstall depthkit, or drop --verified-only") from None
    ids = load_verified_ids(folder)
    kept = [i for i in items if i["id"] in ids]
    if not kept:
        raise DepthkitError(f"no item of {folder} is verified", path=folder / VERIFICATION_FILE,
                            fix="look at `depthkit verify`'s summary, or drop --verified-only")
    return kept


def _prompt_files(prompts: Iterable[str | Path] | None, task_names: list[str]) -> dict[str, PromptTemplate]:
    out: dict[str, PromptTemplate] = {}
    for path in prompts or ():
        template = path if isinstance(path, PromptTemplate) else load_prompt(path)
        if template.task not in task_names:
            raise DepthkitError(f"this prompt is for task '{template.task}', which this run does not do",
                                path=template.path, fix=f"add --task {template.task}, or drop this --prompt")
        if template.task in out:
            raise DepthkitError(f"two prompt files for task '{template.task}'", path=template.path,
                                fix="give one --prompt per task")
        out[template.task] = template
    return out


def _lock(out: Path):
    handle = (out / ".eval.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise DepthkitError("another `depthkit eval` is writing to this folder", path=out,
                            fix="wait for it to finish, or give another --out") from None
    return handle


def _identity(backend: Backend, tasks: list[Task], presentation: Presentation, seed: int) -> dict[str, Any]:
    """What must match for judgments already in OUT to be reused (per task)."""
    fp = backend.fingerprint()
    out = {}
    for task in tasks:
        facts = {"backend": fp, "presentation": presentation.to_dict(), "seed": seed, "kind": task.kind}
        if task.name == "minimal-pair":
            facts["verdict_by"] = task.verdict_by
        if task.prompt is not None:
            facts["prompt_sha256"] = task.prompt.sha256
        out[task.name] = facts
    return out


def _check_resume(out: Path, identity: dict[str, Any], done: set[tuple[str, str]]) -> dict[str, Any]:
    """Refuse to mix models or settings in one judgments.jsonl; returns the previous eval section."""
    old = read_manifest(out).get(SECTION) or {}
    old_identity = old.get("identity") or {}
    fingerprint = next(iter(identity.values()))["backend"]
    for task in sorted({t for _, t in done}):
        same = (old_identity.get(task) == identity[task] if task in identity
                else (old_identity.get(task) or {}).get("backend") == fingerprint)
        if not same:
            raise DepthkitError(f"{out / JUDGMENTS_FILE} already holds {task} judgments made with another model, "
                                "options, prompt or presentation", path=out,
                                fix="give another --out, or pass --force to start over")
    return old


def _start_over_or_refuse(out: Path, items_sha256: str, force: bool) -> None:
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
        log(f"--force: earlier judgments moved to {stale}; starting over (cached answers are reused)")
        return
    recorded = (read_manifest(out).get(SECTION) or {}).get("items_sha256")
    if recorded and recorded != items_sha256:
        raise DepthkitError(f"{path} holds judgments made from a different items.jsonl (regenerated since, or "
                            "another folder)", path=out,
                            fix="give another --out, or pass --force to start over (the old judgments are kept as "
                                f"{JUDGMENTS_FILE}.stale-N)")


def _run(folder: Path, items: list[dict[str, Any]], n_loaded: int, backend: Backend, tasks: list[Task], out: Path,
         cache_path: str | Path | None, batch_size: int | None, verified_only: bool, limit: int | None,
         presentation: Presentation, seed: int, force: bool, progress: bool, started: float) -> Path:
    judgments_path = out / JUDGMENTS_FILE
    items_sha256 = sha256_file(folder / ITEMS_FILE)
    _start_over_or_refuse(out, items_sha256, force)
    done: set[tuple[str, str]] = set()
    if judgments_path.exists():
        for record in read_jsonl(judgments_path, allow_truncated_tail=True):
            done.add((record.get("item_id"), record.get("task")))
    identity = _identity(backend, tasks, presentation, seed)
    previous = _check_resume(out, identity, done)
    earlier = {t for _, t in done} - set(identity)  # tasks of earlier runs into this folder (same model)
    identity = {**{t: previous["identity"][t] for t in earlier}, **identity}
    task_facts = {**{t: previous.get("tasks", {}).get(t) for t in earlier}, **{t.name: t.manifest() for t in tasks}}
    fingerprint = backend.fingerprint()
    cache_path = Path(cache_path) if cache_path else out / CACHE_FILE
    facts: dict[str, Any] = {
        "status": "running",
        "items": str(folder),
        "items_sha256": items_sha256,
        "model": backend.label,
        "backend": fingerprint,
        "options": backend.public_config,
        "tasks": task_facts,
        "presentation": presentation.to_dict(),
        "seed": seed,
        "verified_only": verified_only,
        "limit": limit,
        "batch_size": batch_size or backend.default_batch_size,
        "cache": str(cache_path),
        "identity": identity,
        "depthkit_version": __version__,
        "versions": package_versions(VERSIONED),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
    }
    update_manifest(out, SECTION, facts)

    units = [(item, task) for task in tasks for item in items if (item["id"], task.name) not in done]
    # similar lengths together: the backend's batches then need little padding
    units.sort(key=lambda u: (u[1].kind, len(u[0].get("good") or "")))
    stats = {"sent": 0, "cached": 0}
    size = batch_size or backend.default_batch_size
    chunks = list(_chunks(units, size, fingerprint))
    try:
        _judge(chunks, units, backend, cache_path, judgments_path, stats, progress)
    except BaseException as exc:  # record why the run stopped; finished judgments stay on disk
        facts["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        facts["error"] = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        update_manifest(out, SECTION, facts)
        raise

    records = _final_order(judgments_path, items)
    write_jsonl(judgments_path, records)
    counts = _counts(records)
    facts.update({
        "status": "complete",
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.time() - started, 2),
        "counts": {"items_in_folder": n_loaded, "items": len(items), "judgments": len(records),
                   "requests_sent": stats["sent"], "requests_from_cache": stats["cached"], **counts},
    })
    update_manifest(out, SECTION, facts)
    _summary(records, tasks, stats)
    return judgments_path


def _judge(chunks, units, backend: Backend, cache_path: Path, judgments_path: Path, stats: dict[str, int],
           progress: bool) -> None:
    """Send (or take from the cache) every chunk, appending judgments as each chunk finishes."""
    with CallCache(cache_path) as cache, JsonlAppender(judgments_path) as appender:
        keys = [k for chunk in chunks for u in chunk for k in u.keys]
        if len(cache.get_many(keys)) < len(set(keys)) and hasattr(backend, "load"):
            backend.load()  # before the progress bar: loading (or converting) a model takes a while
        bar = _progress(len(units), backend.label, progress)
        try:
            for chunk in chunks:
                records = _run_chunk(chunk, backend, cache, stats)
                for record in records:
                    appender.write(record)
                bar.update(len(chunk))
                bar.set_postfix(sent=stats["sent"], cached=stats["cached"], refresh=False)
        finally:
            bar.close()


def _progress(total: int, label: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="item", desc=f"eval {label}", file=sys.stderr, disable=not enabled or not total,
                dynamic_ncols=True, smoothing=0.1)


def _chunks(units: list[tuple[dict[str, Any], Task]], size: int, fingerprint: dict[str, Any]):
    """Batches of units holding about ``size`` requests each."""
    chunk: list[_Unit] = []
    n = 0
    for item, task in units:
        requests = tuple(task.requests(item))
        keys = tuple(request_key(fingerprint, task.kind, r.to_dict()) for r in requests)
        chunk.append(_Unit(item, task, requests, keys))
        n += len(requests)
        if n >= size:
            yield chunk
            chunk, n = [], 0
    if chunk:
        yield chunk


def _run_chunk(chunk: list[_Unit], backend: Backend, cache: CallCache, stats: dict[str, int]) -> list[dict[str, Any]]:
    """Answers from the cache, the rest from the backend (cached on arrival), then judgments."""
    answers = cache.get_many(k for u in chunk for k in u.keys)
    stats["cached"] += sum(1 for u in chunk for k in u.keys if k in answers)
    for kind in ("score", "complete"):
        todo: dict[str, Any] = {}
        for unit in chunk:
            if unit.task.kind == kind:
                for key, request in zip(unit.keys, unit.requests):
                    if key not in answers and key not in todo:
                        todo[key] = request
        if not todo:
            continue
        requests = list(todo.values())
        responses = backend.score(requests) if kind == "score" else backend.complete(requests)
        if len(responses) != len(requests):
            raise DepthkitError(f"backend '{backend.name}' returned {len(responses)} answers for {len(requests)} "
                                "requests", fix="this is a bug in the backend; report it to its authors")
        fresh = {k: r.to_dict() for k, r in zip(todo, responses)}
        cache.put_many(kind, fresh.items())
        answers.update(fresh)
        stats["sent"] += len(requests)
    records = []
    for unit in chunk:
        parse = TokenScores.from_dict if unit.task.kind == "score" else Completion.from_dict
        responses = [parse(answers[k]) for k in unit.keys]
        records.append(unit.task.judge(unit.item, responses, backend.label))
    return records


def _final_order(path: Path, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every judgment once: task by task (in TASKS order), each in item order; unknown records kept after."""
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for record in read_jsonl(path, allow_truncated_tail=True):
        by_key.setdefault((record.get("item_id"), record.get("task")), record)
    ordered = []
    for name in TASKS:
        for item in items:
            record = by_key.pop((item["id"], name), None)
            if record is not None:
                ordered.append(record)
    return ordered + list(by_key.values())


def _counts(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"per_task": {}}
    for task in dict.fromkeys(r["task"] for r in records):
        mine = [r for r in records if r["task"] == task]
        judged = [r for r in mine if r["correct"] is not None]
        out["per_task"][task] = {"judgments": len(mine), "with_verdict": len(judged),
                                 "correct": sum(1 for r in judged if r["correct"])}
    return out


def _summary(records: list[dict[str, Any]], tasks: list[Task], stats: dict[str, int]) -> None:
    """Requests sent and cached, then each task's accuracy per depth (test items with a verdict) on stderr."""
    from .analysis import accuracy_table, judgment_table

    log(f"{stats['sent']} requests sent to the model, {stats['cached']} answered from the cache")
    if not records:
        return
    table = accuracy_table(judgment_table(records, {}))
    for task in tasks:
        per_depth = table[table["task"] == task.name].groupby("depth")[["n_correct", "n"]].sum()
        cells = "  ".join(f"d{d} {k / n:.2f} ({n})" for d, k, n in
                          zip(per_depth.index, per_depth["n_correct"], per_depth["n"]) if n)
        if cells:
            log(f"{task.name} accuracy by depth: {cells}")


__all__ = ["default_out", "evaluate", "limit_items"]
