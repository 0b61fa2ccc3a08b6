"""What the rest of depthkit may know about a task without importing it: kind, pairing, chance, order.

Analysis and the report read these facts through :func:`task_info` and :func:`task_order`, so a new
task is added in one place (its module registers a :class:`TaskInfo`), never by editing the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskInfo:
    """Facts about one task.

    ``kind``: the backend call it makes (``score`` or ``complete``). ``paired``: it compares the good
    member with the bad one, so items without a bad member get no verdict. ``chance``: guessing accuracy
    on paired items; ``chance_one_member``: on items without a bad member. ``prompted``: it asks a
    question, so a constant answer (bias) can dominate. ``rank``: where it is listed (lower first).
    """

    name: str
    kind: str
    paired: bool
    chance: float
    chance_one_member: float | None
    prompted: bool
    rank: int
    description: str

    def chance_for(self, paired_item: bool = True) -> float:
        if not paired_item and self.chance_one_member is not None:
            return self.chance_one_member
        return self.chance


DEFAULT_CHANCE = 0.5
_REGISTRY: dict[str, TaskInfo] = {}


def register_info(info: TaskInfo) -> TaskInfo:
    _REGISTRY[info.name] = info
    return info


register_info(TaskInfo("minimal-pair", "score", paired=True, chance=0.5, chance_one_member=None, prompted=False,
                       rank=0, description="log p(good) vs log p(bad), whole sentence and critical region"))
register_info(TaskInfo("forced-choice", "complete", paired=True, chance=0.5, chance_one_member=None, prompted=True,
                       rank=1, description="both members in one prompt, A/B order counterbalanced"))
# judgment is right only when both yes/no answers are: a coin scores 0.25 (a constant answer 0);
# on items without a bad member it asks about one sentence (0.5).
register_info(TaskInfo("judgment", "complete", paired=False, chance=0.25, chance_one_member=0.5, prompted=True,
                       rank=2, description="a yes/no question per member"))


def task_info(name: str) -> TaskInfo | None:
    """The facts of a registered task, or None for a name depthkit does not know (e.g. a plugin's)."""
    return _REGISTRY.get(name)


def task_names() -> tuple[str, ...]:
    return tuple(task_order(_REGISTRY))


def chance_level(name: str, paired_item: bool = True) -> float:
    """Guessing accuracy of ``name`` (:data:`DEFAULT_CHANCE` for an unknown task)."""
    info = task_info(name)
    return info.chance_for(paired_item) if info else DEFAULT_CHANCE


def task_order(names: Iterable[str]) -> list[str]:
    """Known tasks in their rank order (log-probabilities before prompts), then the rest alphabetically."""
    return sorted(set(names), key=lambda n: (task_info(n).rank if task_info(n) else len(_REGISTRY), n))


__all__ = ["DEFAULT_CHANCE", "TaskInfo", "chance_level", "register_info", "task_info", "task_names", "task_order"]
