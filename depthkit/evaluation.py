"""`depthkit eval`: ask a model about every item, through a cache, into judgments.

:func:`evaluate` is the notebook entry point; :class:`EvalConfig` holds how to evaluate. For each
batch of items the loop builds the task requests (pure, :mod:`depthkit.tasks`), takes what it can
from the SQLite call cache, sends only the rest to the backend, commits the responses to the cache
the moment they arrive (:class:`~depthkit.backends.cache.CachedBackend`), then appends the batch's
judgments (one flushed line each). A run killed at any moment and started again (same command)
loses and duplicates no judgment and sends no answered request twice; at the end judgments.jsonl
is rewritten in item order. What a run folder may be resumed from, and when it must start over,
is :mod:`depthkit.run_folder`.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, overload

from ._version import __version__
from .backends import get_backend
from .backends.base import Backend
from .backends.cache import CachedBackend, CallCache
from .errors import DepthkitError, InputError, UsageError
from .logs import logger
from .run_folder import (CACHE_FILE, check_resume, default_out, lock_run_folder, read_judgments, save_eval_section,
                         start_over_or_refuse)
from .schema import Item, Judgment
from .store import (ITEMS_FILE, JUDGMENTS_FILE, VERIFICATION_FILE, JsonlAppender, dumps, package_versions, read_items,
                    resolve_items_folder, sha256_file, write_jsonl)
from .eval_config import EvalConfig
from .tasks import TASKS, Task, make_tasks

VERSIONED = ("depthkit", "torch", "transformers", "tokenizers", "numpy", "httpx", "pyyaml")
IN_MEMORY = "(items in memory)"


@dataclass(frozen=True)
class ItemSource:
    """The items of a run and where they came from (``folder`` None: items given in memory)."""

    items: list[Item]
    folder: Path | None
    label: str  # what the manifest records as the items
    sha256: str  # of items.jsonl, or of the items as items.jsonl would hold them


@dataclass(frozen=True)
class _Unit:
    """One item under one task: the requests to make."""

    item: Item
    task: Task
    requests: tuple[Any, ...]


@overload
def evaluate(source: str | Path, model: str | Backend | None = ..., tasks: str | Sequence[str] | None = ...,
             out: str | Path | None = ..., *, config: EvalConfig | None = ..., **settings: Any) -> Path: ...


@overload
def evaluate(source: Sequence[Item], model: str | Backend | None = ..., tasks: str | Sequence[str] | None = ...,
             out: str | Path | None = ..., *, config: EvalConfig | None = ..., **settings: Any) -> list[Judgment]: ...


def evaluate(source, model=None, tasks=None, out=None, *, config=None, **settings):
    """Judge items with ``model`` on ``tasks``.

    ``source`` is a folder `depthkit generate` wrote (or its items.jsonl): the judgments go to
    ``out`` (default ``runs/<folder name>-<model>``) and the path of judgments.jsonl is returned.
    Or ``source`` is a list of :class:`~depthkit.schema.Item`: the judgments are returned, and also
    written to ``out`` when it is given (nothing touches the disk otherwise).

    ``model`` is a spec (``"hf:PATH"``, ``"openai:MODEL@URL"``, ``"fake"``; None: the embedded
    SmolLM2) or a backend object (left open for its owner). ``config`` is an :class:`EvalConfig`;
    keyword ``settings`` (``limit=10``, ``options={...}``...) replace its fields, and ``tasks`` its
    ``tasks``.
    """
    config = config or EvalConfig()
    if tasks is not None:
        settings["tasks"] = tasks
    unknown = sorted(set(settings) - {f.name for f in fields(EvalConfig)})
    if unknown:
        raise UsageError(f"evaluate has no setting {', '.join(unknown)}",
                         fix=f"settings: {', '.join(f.name for f in fields(EvalConfig))}")
    if settings:
        config = replace(config, **settings)
    started = time.time()
    items_source = read_source(source)
    if not config.tasks:  # no task given: the suite's own measure (depthkit import), else minimal-pair
        from .suites.common import default_tasks
        config = replace(config, tasks=default_tasks(items_source.folder, items_source.items))
    task_list = make_tasks(config.tasks, config.presentation, config.verdict_by, config.prompts, config.seed)
    items = items_source.items
    for task in task_list:  # e.g. a few-shot example that is one of the items (all of them, not only this run's)
        task.check_items(items)
    if config.verified_only:
        items = verified_items(items_source, items)
    if config.limit is not None:
        items = limit_items(items, config.limit)
    backend = get_backend(model, **config.options)
    try:
        check_backend(backend, task_list)
        pairless_warning = check_pairs(items_source, items, task_list)
        if out is None and items_source.folder is not None:
            out = default_out(items_source.folder, backend)
        if out is None:
            if pairless_warning:
                logger.warning(pairless_warning)
            return _judge_in_memory(items, backend, task_list, config)
        out = Path(out)
        with lock_run_folder(out):
            if pairless_warning:
                logger.warning(pairless_warning)
            judgments = _judge_into(out, items_source, items, backend, task_list, config, started)
        return judgments if items_source.folder is None else out / JUDGMENTS_FILE
    finally:
        if not isinstance(model, Backend):  # a backend the caller made stays open for them
            backend.close()


def read_source(source: str | Path | Sequence[Item]) -> ItemSource:
    """The items of a generated folder (or its items.jsonl), or items given in memory (checked)."""
    if isinstance(source, (str, Path)):
        folder, path = resolve_items_folder(source)
        return ItemSource(read_items(path), folder, str(folder), sha256_file(path))
    items = list(source)
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Item):
            raise UsageError(f"evaluate takes a folder or a list of depthkit.schema.Item, not {type(item).__name__}",
                             fix="read items with depthkit.store.read_items, or give the folder")
        if item.id in seen:
            raise UsageError(f"item id '{item.id}' appears twice", fix="give each item once")
        seen.add(item.id)
    lines = "".join(dumps(item.to_dict()) + "\n" for item in items)
    return ItemSource(items, None, IN_MEMORY, hashlib.sha256(lines.encode("utf-8")).hexdigest())


def limit_items(items: list[Item], limit: int) -> list[Item]:
    """The first ``limit`` test items of each depth, with the controls made for them."""
    kept: set[str] = set()
    per_depth: dict[int, int] = {}
    for item in items:
        if not item.is_control and per_depth.get(item.depth, 0) < limit:
            per_depth[item.depth] = per_depth.get(item.depth, 0) + 1
            kept.add(item.id)
    return [i for i in items if i.id in kept or (i.is_control and i.control_of in kept)]


def verified_items(source: ItemSource, items: list[Item]) -> list[Item]:
    """The items `depthkit verify` marked verified (``--verified-only``)."""
    if source.folder is None:
        raise UsageError("--verified-only needs the folder the items came from (it holds verification.jsonl)",
                         fix="evaluate the folder, or pick the verified items yourself")
    folder = source.folder
    if not (folder / VERIFICATION_FILE).exists():
        raise UsageError(f"--verified-only needs {VERIFICATION_FILE}, and this folder has none",
                         path=folder / VERIFICATION_FILE, fix=f"run `depthkit verify {folder}` first")
    try:
        from .verify import load_verified_ids  # parsers are heavy: only runs that ask for them import verify
    except ImportError:
        raise DepthkitError("this depthkit installation has no verification module",
                            fix="reinstall depthkit, or drop --verified-only") from None
    ids = load_verified_ids(folder)
    kept = [i for i in items if i.id in ids]
    if not kept:
        raise UsageError(f"no item of {folder} is verified", path=folder / VERIFICATION_FILE,
                         fix="look at `depthkit verify`'s summary, or drop --verified-only")
    return kept


def check_backend(backend: Backend, tasks: list[Task]) -> None:
    """Refuse tasks whose backend call the backend does not make."""
    for task in tasks:
        if task.kind == "score" and not backend.supports_score:
            raise UsageError(f"backend '{backend.name}' cannot score log-probabilities, which {task.name} needs",
                             fix="use --task judgment or forced-choice with this backend, or another --model")
        if task.kind == "complete" and not backend.supports_complete:
            raise UsageError(f"backend '{backend.name}' cannot answer prompts, which {task.name} needs",
                             fix="use --task minimal-pair with this backend, or another --model")


def check_pairs(source: ItemSource, items: list[Item], tasks: list[Task]) -> str | None:
    """Refuse paired tasks on items that have no bad member; a warning when only some lack one."""
    paired = [t.name for t in tasks if t.paired]
    pairless = [i for i in items if not i.bad]
    if not paired or not pairless:
        return None
    if len(pairless) == len(items):
        raise UsageError(f"task {' and '.join(paired)} compares each sentence with its ungrammatical twin, "
                         f"and these items have none (`bad` is null: their grammar has no `pair:`)",
                         path=source.folder / ITEMS_FILE if source.folder else None,
                         fix="use --task judgment (it then asks about the good sentences alone), or add a `pair:` "
                             "section to the grammar and generate again")
    return (f"warning: {len(pairless)} of {len(items)} items have no bad member (their grammar has no `pair:`, "
            f"e.g. {pairless[0].id}): {' and '.join(paired)} give them no verdict (correct: null)")


def _judge_in_memory(items: list[Item], backend: Backend, tasks: list[Task], config: EvalConfig) -> list[Judgment]:
    """The loop with nothing written (the cache in memory unless ``config.cache`` names a file)."""
    judgments: list[Judgment] = []
    with CallCache(config.cache) as cache:
        cached = _judge(_units(items, tasks), backend, cache, judgments.append, config)
    judgments = final_order(judgments, items)
    _summary(judgments, tasks, cached)
    return judgments


def _judge_into(out: Path, source: ItemSource, items: list[Item], backend: Backend, tasks: list[Task],
                config: EvalConfig, started: float) -> list[Judgment]:
    """The resumable loop into run folder ``out``: judgments appended as they come, the manifest kept current."""
    judgments_path = out / JUDGMENTS_FILE
    start_over_or_refuse(out, source.sha256, config.force)
    earlier_judgments = read_judgments(judgments_path)
    known = {item.id for item in source.items}
    strangers = [j.item_id for j in earlier_judgments if j.item_id not in known]
    if strangers:
        raise InputError(f"{len(strangers)} judgments are of items that are not in the {len(known)} items of "
                         f"{source.label} (first: {strangers[0]!r})", path=judgments_path, field="item_id",
                         fix="give another --out, or pass --force to start over (the old judgments are kept as "
                             f"{JUDGMENTS_FILE}.stale-N)")
    done = {(j.item_id, j.task) for j in earlier_judgments}
    identity = {t.name: {"backend": backend.fingerprint(), "presentation": config.presentation.to_dict(),
                         "seed": config.seed, **t.identity()} for t in tasks}
    previous = check_resume(out, identity, done)
    earlier = {t for _, t in done} - set(identity)  # tasks of earlier runs into this folder (same model)
    identity = {**{t: previous.identity[t] for t in earlier}, **identity}
    task_facts = {**{t: previous.tasks.get(t) for t in earlier}, **{t.name: t.manifest() for t in tasks}}
    cache_path = config.cache or out / CACHE_FILE
    facts: dict[str, Any] = {
        "status": "running", "items": source.label, "items_sha256": source.sha256, "model": backend.label,
        "backend": backend.fingerprint(), "options": backend.public_config, "tasks": task_facts,
        "presentation": config.presentation.to_dict(), "seed": config.seed, "verified_only": config.verified_only,
        "limit": config.limit, "batch_size": config.batch_size or backend.default_batch_size, "cache": str(cache_path),
        "identity": identity, "depthkit_version": __version__, "versions": package_versions(VERSIONED),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
    }
    save_eval_section(out, facts)
    try:  # until the judgments are in their final order, a crash records why the run stopped
        units = _units(items, tasks, done)
        with CallCache(cache_path) as cache, JsonlAppender(judgments_path) as appender:
            cached = _judge(units, backend, cache, lambda j: appender.write(j.to_dict()), config)
        judgments = final_order(read_judgments(judgments_path), items)
        write_jsonl(judgments_path, (j.to_dict() for j in judgments))
    except BaseException as exc:  # finished judgments stay on disk
        facts["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        facts.update(_server_counts(backend))
        facts["error"] = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        save_eval_section(out, facts)
        raise
    facts.update({
        "status": "complete",
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.time() - started, 2),
        "counts": {"items_in_folder": len(source.items), "items": len(items), "judgments": len(judgments),
                   "requests_sent": cached.sent, "requests_from_cache": cached.cached, **_counts(judgments)},
        **_server_counts(backend),
    })
    save_eval_section(out, facts)
    _summary(judgments, tasks, cached)
    return judgments


def _server_counts(backend: Backend) -> dict[str, Any]:
    """``{"servers": [...]}`` for a backend that spreads requests over servers (openai), else nothing."""
    counts = getattr(backend, "server_counts", None)
    return {"servers": counts()} if callable(counts) else {}


def _units(items: list[Item], tasks: list[Task], done: set[tuple[str, str]] = frozenset()) -> list[_Unit]:
    """Every item under every task not yet judged, similar lengths together (the backend pads little)."""
    pairs = [(item, task) for task in tasks for item in items if (item.id, task.name) not in done]
    pairs.sort(key=lambda u: (u[1].kind, len(u[0].good or "")))
    return [_Unit(item, task, tuple(task.requests(item))) for item, task in pairs]


def _chunks(units: list[_Unit], size: int) -> list[list[_Unit]]:
    """Batches of units holding about ``size`` requests each."""
    chunks: list[list[_Unit]] = []
    chunk: list[_Unit] = []
    n = 0
    for unit in units:
        chunk.append(unit)
        n += len(unit.requests)
        if n >= size:
            chunks.append(chunk)
            chunk, n = [], 0
    if chunk:
        chunks.append(chunk)
    return chunks


def _judge(units: list[_Unit], backend: Backend, cache: CallCache, write: Callable[[Judgment], None],
           config: EvalConfig) -> CachedBackend:
    """Answer (from the cache or the backend) and judge every unit, writing each chunk's judgments as it finishes."""
    cached = CachedBackend(backend, cache)
    by_kind: dict[str, list[Any]] = {}
    for unit in units:
        by_kind.setdefault(unit.task.kind, []).extend(unit.requests)
    if any(cached.missing(kind, requests) for kind, requests in by_kind.items()):
        backend.load()  # before the progress bar: loading (or converting) a model takes a while
    bar = _progress(len(units), backend.label, config.progress)
    try:
        for chunk in _chunks(units, config.batch_size or backend.default_batch_size):
            for judgment in _judge_chunk(chunk, cached):
                write(judgment)
            bar.update(len(chunk))
            bar.set_postfix(sent=cached.sent, cached=cached.cached, refresh=False)
    finally:
        bar.close()
    return cached


def _judge_chunk(chunk: list[_Unit], cached: CachedBackend) -> list[Judgment]:
    """One backend call per kind for the whole chunk, then each unit's judgment from its share of the answers."""
    answers: dict[int, list[Any]] = {}
    for kind, call in (("score", cached.score), ("complete", cached.complete)):
        mine = [(n, u) for n, u in enumerate(chunk) if u.task.kind == kind]
        requests = [r for _, u in mine for r in u.requests]
        responses = call(requests) if requests else []
        at = 0
        for n, unit in mine:
            answers[n] = responses[at:at + len(unit.requests)]
            at += len(unit.requests)
    return [unit.task.judge(unit.item, answers[n], cached.label) for n, unit in enumerate(chunk)]


def _progress(total: int, label: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="item", desc=f"eval {label}", file=sys.stderr, disable=not enabled or not total,
                dynamic_ncols=True, smoothing=0.1)


def final_order(judgments: Iterable[Judgment], items: list[Item]) -> list[Judgment]:
    """Every judgment once: task by task (registry order), each in item order; the rest kept after."""
    by_key: dict[tuple[str, str], Judgment] = {}
    for judgment in judgments:
        by_key.setdefault((judgment.item_id, judgment.task), judgment)
    ordered = []
    for name in TASKS.names():
        for item in items:
            judgment = by_key.pop((item.id, name), None)
            if judgment is not None:
                ordered.append(judgment)
    return ordered + list(by_key.values())


def _counts(judgments: list[Judgment]) -> dict[str, Any]:
    out: dict[str, Any] = {"per_task": {}}
    for task in dict.fromkeys(j.task for j in judgments):
        mine = [j for j in judgments if j.task == task]
        judged = [j for j in mine if j.correct is not None]
        out["per_task"][task] = {"judgments": len(mine), "with_verdict": len(judged),
                                 "correct": sum(1 for j in judged if j.correct)}
    return out


def accuracy_by_depth(judgments: Iterable[Judgment], task: str) -> list[tuple[int, int, int]]:
    """(depth, correct, judged) for the test items of ``task`` that got a verdict, by depth."""
    counts: dict[int, tuple[int, int]] = {}
    for j in judgments:
        if j.task == task and j.kind == "test" and j.correct is not None:
            k, n = counts.get(j.depth, (0, 0))
            counts[j.depth] = (k + int(j.correct), n + 1)
    return [(depth, k, n) for depth, (k, n) in sorted(counts.items())]


def _summary(judgments: list[Judgment], tasks: list[Task], cached: CachedBackend) -> None:
    """Requests sent and cached, then each task's accuracy per depth (test items with a verdict)."""
    logger.info(f"{cached.sent} requests sent to the model, {cached.cached} answered from the cache")
    for task in tasks:
        suite = [j for j in judgments if j.item_id.split("/")[0] in ("blimp", "syntaxgym")]  # depthkit import
        if suite:  # imported suites have no depth: one accuracy per paradigm
            counts: dict[str, list[int]] = {}
            for j in suite:
                if j.task == task.name and j.correct is not None:
                    counts.setdefault(str(j.construction), []).append(int(j.correct))
            cells = "  ".join(f"{c} {sum(v) / len(v):.3f} ({len(v)})" for c, v in counts.items())
            if cells:
                logger.info(f"{task.name} accuracy by paradigm: {cells}")
        own = [j for j in judgments if j.item_id.split("/")[0] not in ("blimp", "syntaxgym")] if suite else judgments
        cells = "  ".join(f"d{d} {k / n:.2f} ({n})" for d, k, n in accuracy_by_depth(own, task.name))
        if cells:
            logger.info(f"{task.name} accuracy by depth: {cells}")


__all__ = ["EvalConfig", "ItemSource", "accuracy_by_depth", "default_out", "evaluate", "final_order", "limit_items",
           "read_source"]
