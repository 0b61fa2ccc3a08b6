"""The end-to-end demo: experiments/demo.yaml run by the experiment runner (:mod:`depthkit.experiments`).

:func:`run_demo` is what `depthkit demo` (README command 1, ``bash .ci/demo``) calls: it reads the demo
experiment, applies the command line's overrides (grammars, depths, items per depth, seed, model, tasks) and
runs it like `depthkit run experiments/demo.yaml` would. Every step resumes and a finished step is skipped.
When the package is installed without its repository (no experiments/ folder), :data:`DEMO` holds the
same experiment (a test keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .experiments import Experiment, experiment_from_dict, load_experiment, run_experiment

DEMO_FILE = Path(__file__).resolve().parent.parent / "experiments" / "demo.yaml"
DEFAULT_GRAMMARS = ("object-rc", "subject-rc", "pp-attractors", "sentential-complements", "possessives",
                    "coordination")
DEMO: dict[str, Any] = {
    "name": "demo", "description": "the end-to-end demo on the shipped grammars with the embedded model",
    "grammars": list(DEFAULT_GRAMMARS), "depths": "0-4", "per_depth": 12, "seed": 1, "controls": True,
    "models": [{"spec": "embedded", "label": "smollm2"}], "tasks": ["minimal-pair", "judgment"], "verify": True,
    "report": {"title": "depthkit demo: accuracy versus depth", "threshold": 0.6},
}


def demo_experiment(grammars: Sequence[str] | None = None, *, depths: str | None = None, per_depth: int | None = None,
                    seed: int | None = None, model: str | None = None, tasks: Sequence[str] | None = None) -> Experiment:
    """The demo experiment (experiments/demo.yaml, else :data:`DEMO`) with the given fields replaced."""
    base = load_experiment(DEMO_FILE) if DEMO_FILE.is_file() else experiment_from_dict(dict(DEMO))
    data = base.to_dict()
    given = {"grammars": list(grammars) if grammars else None, "depths": depths, "per_depth": per_depth,
             "seed": seed, "tasks": list(tasks) if tasks else None,
             "models": [{"spec": model, "label": None}] if model else None}
    data.update({k: v for k, v in given.items() if v is not None})
    return experiment_from_dict(data, path="depthkit demo")


def run_demo(grammars: Sequence[str] | None = None, *, depths: str | None = None, per_depth: int | None = None,
             seed: int | None = None, model: str | None = None, tasks: Sequence[str] | None = None,
             generated: Path = Path("generated/demo"), report_dir: Path = Path("reports/demo")) -> Path:
    """Run the demo experiment into ``generated`` and return the path of the report's HTML file."""
    experiment = demo_experiment(grammars, depths=depths, per_depth=per_depth, seed=seed, model=model, tasks=tasks)
    result = run_experiment(experiment, generated, report_dir=report_dir)
    assert result.report is not None  # the demo's report step is on
    return result.report


__all__ = ["DEFAULT_GRAMMARS", "DEMO", "DEMO_FILE", "demo_experiment", "run_demo"]
