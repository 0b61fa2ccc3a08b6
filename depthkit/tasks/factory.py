"""Making tasks with a run's settings: each task gets the settings it declares as fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..present import Presentation
from .base import Task
from .minimal_pair import check_verdict_rule
from .prompts import PromptTemplate, load_prompt, prompted_tasks
from .registry import TASKS, task_class


def make_task(name: str, presentation: Presentation = Presentation(), verdict_by: str = "critical",
              prompt: PromptTemplate | str | Path | None = None, seed: int = 0) -> Task:
    """Task ``name`` with these settings; a prompted task gets ``prompt`` (the shipped one unless given).

    Settings a task does not declare are not used by it (``verdict_by`` is checked all the same).
    """
    cls = task_class(name)
    check_verdict_rule(verdict_by)
    declared = {f.name for f in fields(cls)}
    if "prompt" in declared:
        if not isinstance(prompt, PromptTemplate):
            prompt = load_prompt(prompt, cls.name)
    elif prompt is not None:
        raise UsageError(f"task '{name}' uses no prompt", fix=f"prompted tasks: {', '.join(prompted_tasks())}")
    settings: dict[str, Any] = {"presentation": presentation, "verdict_by": verdict_by, "seed": seed, "prompt": prompt}
    return cls(**{k: v for k, v in settings.items() if k in declared})


def make_tasks(names: str | Sequence[str], presentation: Presentation = Presentation(), verdict_by: str = "critical",
               prompts: Iterable[str | Path | PromptTemplate] | None = None, seed: int = 0) -> list[Task]:
    """The tasks of a run, each once; ``prompts`` are prompt files, each for the task its ``task:`` names."""
    unique = [names] if isinstance(names, str) else list(dict.fromkeys(names))
    if not unique:
        raise UsageError("no task given", fix=f"tasks: {', '.join(TASKS.names())}")
    for name in unique:
        task_class(name)
    templates = _prompt_files(prompts, unique)
    return [make_task(n, presentation, verdict_by, templates.get(n), seed) for n in unique]


def _prompt_files(prompts: Iterable[str | Path | PromptTemplate] | None, names: list[str]) -> dict[str, PromptTemplate]:
    out: dict[str, PromptTemplate] = {}
    for path in prompts or ():
        template = path if isinstance(path, PromptTemplate) else load_prompt(path)
        if template.task not in names:
            raise UsageError(f"this prompt is for task '{template.task}', which this run does not do",
                             path=template.path, fix=f"add --task {template.task}, or drop this --prompt")
        if template.task in out:
            raise UsageError(f"two prompt files for task '{template.task}'", path=template.path,
                             fix="give one --prompt per task")
        out[template.task] = template
    return out


__all__ = ["make_task", "make_tasks"]
