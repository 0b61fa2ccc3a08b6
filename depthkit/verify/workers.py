"""The grammar check (the chart parse, verify's slow part) in worker processes: ``depthkit verify --workers N``.

:class:`GrammarPool` runs :meth:`GrammarChecker.check <depthkit.verify.chart_parse.GrammarChecker.check>`
in ``N`` worker processes (``concurrent.futures.ProcessPoolExecutor``). The functions they run are
top-level, so the pool works under every start method; :func:`start_method` picks ``fork`` or a
preloaded ``forkserver`` where they are safe. A batch of items is cut into chunks; the results
come back in item order, equal to the in-process check (same grammar, same ``max_parses``; the
parse cache only saves time). The runner submits the next batch before it runs spaCy and benepar
on the current one, so the workers parse while the main process does the other checks.

spaCy stays in the main process: ``nlp.pipe`` checks 750-1,000 items/s, and ``n_process=2``
was slower here (345 vs 876-980 sentences/s on 900 sentences: the second process loads the model
again); see docs/verification.md.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ..errors import UsageError
from ..grammar import Grammar
from ..schema import GrammarCheck, Item

CHUNKS_PER_WORKER = 4  # chunks per worker and batch: small enough to balance, large enough to amortise pickling

_GRAMMARS: dict[str, Grammar] = {}
_CHECKERS: dict[str, Any] = {}


def resolve_workers(workers: int) -> int:
    """``workers`` as a process count: 0 means every core this process may use."""
    if workers < 0:
        raise UsageError(f"--workers {workers} must be 0 (all cores) or more", fix="e.g. --workers 2")
    if workers == 0:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return workers


def start_method() -> str:
    """How worker processes start: ``fork`` when this process runs no other thread (at once, nltk
    already imported); else ``forkserver`` preloaded with the chart parser (a fork next to running
    threads can inherit a held lock; the fork server is started once per process and reused);
    ``spawn`` where neither exists."""
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _init_worker(grammars: dict[str, Grammar], max_parses: int) -> None:
    """Run once in each worker: the grammars and their chart parsers."""
    from .chart_parse import GrammarChecker

    _GRAMMARS.update(grammars)
    _CHECKERS.update({name: GrammarChecker(g, max_parses) for name, g in grammars.items()})


def _check_chunk(jobs: list[tuple[str, Item]]) -> tuple[list[GrammarCheck], float]:
    """In a worker: the grammar check of each (grammar name, item), in order, and the seconds it took."""
    from .intended import NO_TREE, intended_structure

    started = time.perf_counter()
    out = []
    for name, item in jobs:
        intended = intended_structure(item, _GRAMMARS.get(name))  # as in the runner: an error here stops the run
        if intended.tree is None:  # an imported suite's item: no grammar check applies
            out.append(GrammarCheck.not_run(NO_TREE))
            continue
        try:
            out.append(_CHECKERS[name].check(item, intended))
        except Exception as exc:  # noqa: BLE001 - one item's failure stays with that item (as in-process)
            out.append(GrammarCheck.error(f"{exc.__class__.__name__}: {exc}"))
    return out, time.perf_counter() - started


class GrammarPool:
    """``workers`` processes that chart-parse items; use as a context manager."""

    def __init__(self, grammars: dict[str, Grammar], max_parses: int, workers: int):
        import multiprocessing

        self.workers = workers
        self.start_method = start_method()
        context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            context.set_forkserver_preload([__name__, "depthkit.verify.chart_parse", "depthkit.verify.intended"])
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                         initializer=_init_worker, initargs=(grammars, max_parses))

    def submit(self, jobs: list[tuple[str, Item]]) -> list[Future]:
        """Start checking ``jobs`` (grammar name, item); :meth:`collect` gives the results in order."""
        size = max(1, math.ceil(len(jobs) / (self.workers * CHUNKS_PER_WORKER)))
        return [self._pool.submit(_check_chunk, jobs[i:i + size]) for i in range(0, len(jobs), size)]

    @staticmethod
    def collect(futures: list[Future]) -> tuple[list[GrammarCheck], float]:
        """The records of one :meth:`submit`, in item order, and the workers' parsing seconds."""
        records: list[GrammarCheck] = []
        seconds = 0.0
        for f in futures:
            part, took = f.result()
            records.extend(part)
            seconds += took
        return records, seconds

    def __enter__(self) -> "GrammarPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["CHUNKS_PER_WORKER", "GrammarPool", "resolve_workers", "start_method"]
