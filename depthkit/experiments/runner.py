"""Running an experiment's grid: generate -> verify -> eval per cell, then one combined report.

Each step is the library function the single commands call (:func:`depthkit.generation.run_generation` and
:func:`~depthkit.generation.write_generated`, :func:`depthkit.verify.verify_folder`,
:func:`depthkit.evaluate`, :func:`depthkit.report.build_report`). A folder whose step finished for the
same inputs (its content key, :mod:`depthkit.experiments.plan`) carries a mark (``experiment-step.json``,
:class:`StepMark`) and is skipped. A step killed half way has no mark and simply runs again: generation is
deterministic and written atomically, verification and evaluation resume where they stopped (no judgment
lost or duplicated, no answered request sent twice). The grid shows one progress display on stderr
(``[run 3/9] ...`` lines through :mod:`depthkit.logs`); the steps' own progress bars are off.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import BackendError, DepthkitError, StaleOutputError
from ..logs import logger
from ..schema import Record
from ..store import ITEMS_FILE, JUDGMENTS_FILE, make_folder, write_text_atomic
from .plan import Cell, GenerateStep, Plan, make_plan, options_from_manifest
from .spec import Experiment, model_problem

MARK_FILE = "experiment-step.json"
PLAN_FILE = "experiment-plan.json"


class StepMark(Record):
    """experiment-step.json: the steps finished in a folder, each with the content key it finished for."""

    FILE: ClassVar[str] = MARK_FILE
    FIX: ClassVar[str] = "delete experiment-step.json; `depthkit run` then redoes (or resumes) that folder's steps"

    steps: dict[str, str] = {}


@dataclass
class RunResult:
    """What :func:`run_experiment` did: the plan, the report, and per step whether it ran or was skipped."""

    plan: Plan
    out: Path
    report: Path | None = None
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "report": str(self.report) if self.report else None, "ran": self.ran,
                "skipped": self.skipped, "notes": self.notes, "failed": self.failed, "seconds": round(self.seconds, 2),
                "plan": self.plan.to_dict()}


def plan_experiment(experiment: Experiment) -> Plan:
    """The plan, with the models this machine cannot run left out (and named)."""
    return make_plan(experiment, available={m.name: model_problem(m) for m in experiment.models})


def step_status(plan: Plan, out: Path, report_dir: Path | None = None) -> dict[str, bool]:
    """Which steps are already done for their keys: ``generate:<key>``, ``verify:<key>``, ``eval:<key>``, ``report``."""
    out = Path(out)
    status: dict[str, bool] = {}
    for step in plan.generates:
        status[f"generate:{step.key}"] = _done(out / step.folder, "generate", step.key, ITEMS_FILE)
        status[f"verify:{step.key}"] = (not step.verify["run"]) or _done(out / step.folder, "verify", step.verify_key)
    for cell in plan.cells:
        status[f"eval:{cell.key}"] = _done(out / cell.folder, "eval", cell.key, JUDGMENTS_FILE)
    status["report"] = _done(report_dir or out / "report", "report", plan.report_key, "report.html")
    return status


def run_experiment(experiment: Experiment, out: str | Path, *, report_dir: str | Path | None = None) -> RunResult:
    """Run the grid of ``experiment`` into ``out`` (report into ``report_dir``, default ``out/report``).

    Steps finished for the same inputs are skipped; an interrupted run resumes. Models this machine
    cannot run are skipped with a note; a model that fails while running (a server gone, weights that do
    not load) leaves its other cells undone and is named in :attr:`RunResult.failed`; the report covers
    every finished run. Raises :class:`~depthkit.errors.BackendError` when no model can run at all.
    """
    started = time.perf_counter()
    out = make_folder(Path(out)).resolve()
    report_dir = Path(report_dir).resolve() if report_dir is not None else out / "report"
    plan = plan_experiment(experiment)
    result = RunResult(plan, out)
    for model, why in plan.skipped_models.items():
        note = f"note: model '{model}' is skipped: {why}"
        result.notes.append(note)
        logger.warning(note)
    if not plan.cells:
        raise BackendError("no model of the experiment can run on this machine: "
                           + "; ".join(f"{m}: {w}" for m, w in plan.skipped_models.items()),
                           fix="install what the models need (`depthkit models list` says what), or list others")
    write_text_atomic(out / PLAN_FILE, json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n")
    progress = _Progress(plan, started)
    for step in plan.generates:
        _generate(step, out / step.folder, progress, result)
    finished: list[Path] = []
    for model in dict.fromkeys(c.model for c in plan.cells):
        cells = [c for c in plan.cells if c.model == model]
        finished += _evaluate_model(cells, plan, out, progress, result)
    if plan.report["run"] and finished:
        result.report = _report(plan, finished, report_dir, progress, result)
    result.seconds = time.perf_counter() - started
    logger.info(f"[run] {plan.name}: done in {result.seconds:.0f} s ({len(result.ran)} steps run, "
                f"{len(result.skipped)} already done)" + (f"; report: {result.report}" if result.report else ""))
    if result.failed:
        raise BackendError(f"{len(result.failed)} step(s) failed: "
                           + "; ".join(f"{k}: {v}" for k, v in result.failed.items())
                           + (f" (the report covers the other runs: {result.report})" if result.report else ""),
                           fix="fix the model or server, then run the same command again: finished steps are kept")
    return result


class _Progress:
    """The grid's one progress display: a numbered line per step with the time so far."""

    def __init__(self, plan: Plan, started: float):
        verify = sum(1 for g in plan.generates if g.verify["run"])
        self.total = len(plan.generates) + verify + len(plan.cells) + int(plan.report["run"])
        self.done = 0
        self.started = started

    def step(self, text: str, skipped: bool = False) -> None:
        self.done += 1
        took = time.perf_counter() - self.started
        logger.info(f"[run {self.done}/{self.total}] {text}" + (" (already done)" if skipped else "")
                    + f"  [{took:.0f} s]")


def _generate(step: GenerateStep, folder: Path, progress: _Progress, result: RunResult) -> None:
    from ..generation import Options, run_generation, write_generated
    from ..grammar import load_grammar

    what = f"{step.name}: generate {step.options['per_depth']} per depth at depths " \
           f"{','.join(map(str, step.options['depths']))}"
    if _done(folder, "generate", step.key, ITEMS_FILE):
        _record(result, f"generate:{step.key}", progress, what, skipped=True)
    else:
        grammar = load_grammar(step.grammar)
        options = Options(**options_from_manifest(step.options))
        write_generated(folder, grammar, run_generation(grammar, options), options, warn_stale=False)
        _mark(folder, "generate", step.key)
        _record(result, f"generate:{step.key}", progress, what)
    if not step.verify["run"]:
        return
    what = f"{step.name}: verify" + (f" (without {', '.join(step.verify['skip'])})" if step.verify["skip"] else "")
    if _done(folder, "verify", step.verify_key):
        _record(result, f"verify:{step.key}", progress, what, skipped=True)
        return
    from ..verify import verify_folder

    try:
        verify_folder(folder, skip=step.verify["skip"], progress=False)
    except StaleOutputError:  # made with other parser settings (e.g. a benepar model appeared since)
        verify_folder(folder, skip=step.verify["skip"], progress=False, force=True)
    _mark(folder, "verify", step.verify_key)
    _record(result, f"verify:{step.key}", progress, what)


def _evaluate_model(cells: list[Cell], plan: Plan, out: Path, progress: _Progress, result: RunResult) -> list[Path]:
    """Evaluate one model on every grammar of the grid (the model loads once); returns its finished runs."""
    from ..backends import get_backend
    from ..eval_config import EvalConfig
    from ..evaluation import evaluate

    finished: list[Path] = []
    todo = [c for c in cells if not _done(out / c.folder, "eval", c.key, JUDGMENTS_FILE)]
    for cell in cells:
        if cell not in todo:
            finished.append(out / cell.folder)
            _record(result, f"eval:{cell.key}", progress, _eval_text(cell), skipped=True)
    if not todo:
        return finished
    backend = None
    try:
        backend = get_backend(todo[0].spec, **todo[0].options)
        for cell in todo:
            settings = {k: v for k, v in cell.eval.items()}
            config = EvalConfig(tasks=cell.tasks, progress=False, **settings)
            items = out / plan.generate_step(cell.generate_key).folder
            evaluate(items, backend, config=config, out=out / cell.folder)
            _mark(out / cell.folder, "eval", cell.key)
            finished.append(out / cell.folder)
            _record(result, f"eval:{cell.key}", progress, _eval_text(cell))
    except BackendError as exc:
        for cell in todo:
            if out / cell.folder not in finished:
                result.failed[f"{cell.grammar} x {cell.model}"] = exc.message
        logger.warning(f"warning: model '{todo[0].model}' failed: {exc.message}; its other runs are left undone")
    finally:
        if backend is not None:
            backend.close()
    return finished


def _eval_text(cell: Cell) -> str:
    return f"{cell.grammar} x {cell.model}: eval {', '.join(cell.tasks)}"


def _report(plan: Plan, runs: list[Path], report_dir: Path, progress: _Progress, result: RunResult) -> Path:
    from ..report import build_report

    key = plan.report_key if len(runs) == len(plan.cells) else None
    what = f"report over {len(runs)} run(s)"
    html = report_dir / "report.html"
    if key and _done(report_dir, "report", key, "report.html"):
        _record(result, "report", progress, what, skipped=True)
        return html
    html = build_report(sorted(runs), report_dir, threshold=plan.report["threshold"], title=plan.report["title"],
                        reference=plan.report["reference"])
    if key:
        _mark(report_dir, "report", key)
    _record(result, "report", progress, what)
    return html


def _record(result: RunResult, name: str, progress: _Progress, text: str, skipped: bool = False) -> None:
    (result.skipped if skipped else result.ran).append(name)
    progress.step(text, skipped)


def _read_mark(folder: Path) -> StepMark:
    path = folder / MARK_FILE
    if not path.is_file():
        return StepMark()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return StepMark()  # a damaged mark only costs a re-check of the (resumable) step
    return StepMark.from_dict(data, path=path)


def _done(folder: Path, step: str, key: str, needs: str | None = None) -> bool:
    """Whether ``folder`` finished ``step`` for ``key`` (and still holds ``needs``)."""
    if needs is not None and not (folder / needs).is_file():
        return False
    return _read_mark(folder).steps.get(step) == key


def _mark(folder: Path, step: str, key: str) -> None:
    steps = dict(_read_mark(folder).steps)
    steps[step] = key
    write_text_atomic(folder / MARK_FILE, json.dumps(StepMark(steps=steps).to_dict(), indent=2, sort_keys=True) + "\n")


__all__ = ["MARK_FILE", "PLAN_FILE", "RunResult", "StepMark", "plan_experiment", "run_experiment", "step_status"]
