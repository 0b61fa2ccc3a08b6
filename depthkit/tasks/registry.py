"""The task registry: task names -> :class:`~depthkit.tasks.base.Task` classes.

Built-in tasks are listed here in the order judgments.jsonl keeps them; plugins join through the
entry-point group ``depthkit.tasks`` (``name = "package.module:TaskClass"``), see :mod:`depthkit.registry`.
"""

from __future__ import annotations

from ..registry import Registry
from .base import Task

ENTRY_POINT_GROUP = "depthkit.tasks"

BUILTIN: dict[str, str] = {
    "minimal-pair": "depthkit.tasks.minimal_pair:MinimalPairTask",
    "judgment": "depthkit.tasks.judgment:JudgmentTask",
    "forced-choice": "depthkit.tasks.forced_choice:ForcedChoiceTask",
    "syntaxgym": "depthkit.tasks.syntaxgym:SyntaxGymTask",  # imported SyntaxGym suites (depthkit import)
}

TASKS: Registry[Task] = Registry("task", Task, ENTRY_POINT_GROUP, BUILTIN,
                                 unknown_fix=lambda names: f"tasks: {', '.join(names)}")


def task_class(name: str) -> type[Task]:
    """The class of task ``name``; a clear error for an unknown name."""
    return TASKS.get(name)


__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "TASKS", "task_class"]
