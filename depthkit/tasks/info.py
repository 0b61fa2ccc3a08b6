"""What the rest of depthkit may know about a task: kind, pairing, chance, order.

Analysis and the report read these facts through :func:`task_info` and :func:`task_order`, so a new
task is added in one place (its class, registered in :mod:`depthkit.tasks.registry` or by a plugin),
never by editing the report. Facts are read once per task name and process.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from ..errors import DepthkitError
from .base import TaskInfo
from .registry import TASKS

DEFAULT_CHANCE = 0.5


@lru_cache(maxsize=None)
def task_info(name: str) -> TaskInfo | None:
    """The facts of a registered task, or None for a name depthkit does not know (or cannot load)."""
    try:
        return TASKS.get(name).info()
    except DepthkitError:
        return None


def task_names() -> tuple[str, ...]:
    """The tasks that can run here, in their rank order."""
    return tuple(task_order(TASKS.classes()))


def chance_level(name: str, paired_item: bool = True, verdict_by: str | None = None) -> float:
    """Guessing accuracy of ``name`` (:data:`DEFAULT_CHANCE` for an unknown task); ``verdict_by`` picks the
    chance of judgments decided another way (older runs of a task whose verdict changed)."""
    info = task_info(name)
    return info.chance_for(paired_item, verdict_by) if info else DEFAULT_CHANCE


def task_order(names: Iterable[str]) -> list[str]:
    """Known tasks in their rank order (log-probabilities before prompts), then the rest alphabetically."""
    unknown_rank = 1 + max((task_info(n).rank for n in TASKS.builtin), default=0)
    return sorted(set(names), key=lambda n: (task_info(n).rank if task_info(n) else unknown_rank, n))


__all__ = ["DEFAULT_CHANCE", "TaskInfo", "chance_level", "task_info", "task_names", "task_order"]
