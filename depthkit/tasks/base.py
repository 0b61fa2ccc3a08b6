"""The task contract: what every task (built in or a plugin's) provides, and the record it writes.

A task turns one item into backend requests, and the backend's answers into one judgment:

* ``requests(item)`` — pure: a list of :class:`~depthkit.backends.base.ScoreRequest` when the task's
  ``kind`` is ``"score"``, of :class:`~depthkit.backends.base.Prompt` when it is ``"complete"``. The same
  item and settings always give the same requests in the same order; an empty list means no verdict is
  possible (the item then still gets a judgment, with ``correct`` None).
* ``verdict(item, responses)`` — pure: ``responses`` answer ``requests(item)``, same length and order
  (:class:`~depthkit.backends.base.TokenScores` or :class:`~depthkit.backends.base.Completion`). Returns
  ``(correct, verdict_by, scores)``: ``correct`` True/False, or None without a verdict; ``verdict_by``
  names what decided; ``scores`` is the task's numbers (JSON values; docs/schema.md lists each task's keys).
* ``judge(item, responses, model)`` — the :class:`~depthkit.schema.Judgment` (one judgments.jsonl line).
* ``manifest()`` — the settings recorded in the run's manifest; ``identity()`` — what must match for
  judgments already on disk to be resumed.

A task's *settings* are its dataclass fields. :func:`depthkit.tasks.make_task` fills the fields a task
declares from the run's settings (``presentation``, ``verdict_by``, ``seed``, ``prompt``), so a task
takes what it uses and nothing else. Class attributes are the task's *facts* (kind, pairing, chance...),
which analysis and the report read through :mod:`depthkit.tasks.info`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..present import Presentation
from ..schema import Item, Judgment

Verdict = tuple[bool | None, str | None, dict[str, Any]]  # (correct, verdict_by, scores)


@dataclass(frozen=True)
class TaskInfo:
    """Facts about one task.

    ``kind``: the backend call it makes (``score`` or ``complete``). ``paired``: it compares the good
    member with the bad one, so items without a bad member get no verdict. ``chance``: guessing accuracy
    on paired items; ``chance_one_member``: on items without a bad member. ``prompted``: it asks a
    question, so a constant answer (bias) can dominate. ``rank``: where it is listed (lower first).
    ``chance_by_verdict``: chance on paired items for judgments whose ``verdict_by`` decided
    differently from today's (e.g. runs written before a task's verdict changed).
    """

    name: str
    kind: str
    paired: bool
    chance: float
    chance_one_member: float | None
    prompted: bool
    rank: int
    description: str
    chance_by_verdict: tuple[tuple[str, float], ...] = ()

    def chance_for(self, paired_item: bool = True, verdict_by: str | None = None) -> float:
        if not paired_item and self.chance_one_member is not None:
            return self.chance_one_member
        return dict(self.chance_by_verdict).get(verdict_by or "", self.chance)


@dataclass(frozen=True)
class Task(ABC):
    """Base class of tasks: facts as class attributes, settings as fields, pure ``requests`` and ``verdict``."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "score"  # the backend call: "score" or "complete"
    paired: ClassVar[bool] = False
    chance: ClassVar[float] = 0.5
    chance_one_member: ClassVar[float | None] = None
    chance_by_verdict: ClassVar[dict[str, float]] = {}
    prompted: ClassVar[bool] = False
    rank: ClassVar[int] = 100
    description: ClassVar[str] = ""

    presentation: Presentation = Presentation()

    @classmethod
    def info(cls) -> TaskInfo:
        return TaskInfo(cls.name, cls.kind, cls.paired, cls.chance, cls.chance_one_member, cls.prompted, cls.rank,
                        cls.description, tuple(sorted(cls.chance_by_verdict.items())))

    @abstractmethod
    def requests(self, item: Item) -> list[Any]:
        """What to ask the backend about ``item`` (see the module docstring)."""

    @abstractmethod
    def verdict(self, item: Item, responses: Sequence[Any]) -> Verdict:
        """``(correct, verdict_by, scores)`` from the answers to ``requests(item)``."""

    def judge(self, item: Item, responses: Sequence[Any], model: str) -> Judgment:
        """The judgments.jsonl record of ``item`` answered by ``model``."""
        correct, verdict_by, scores = self.verdict(item, responses)
        return Judgment(item_id=item.id, model=model, task=self.name, depth=item.depth, construction=item.construction,
                        kind=item.kind, control_of=item.control_of, correct=correct, verdict_by=verdict_by,
                        scores=scores)

    def check_items(self, items: Sequence[Item]) -> None:
        """Refuse a run whose items this task's settings cannot be used with (raises a DepthkitError)."""

    def manifest(self) -> dict[str, Any]:
        """The task's settings as the run's manifest records them."""
        return {"kind": self.kind}

    def identity(self) -> dict[str, Any]:
        """What must not change for judgments already made to be resumed (beyond backend and presentation)."""
        return {"kind": self.kind}


def members(item: Item) -> list[str]:
    """The sentences of an item: good, then bad when it has one."""
    return [item.good] + ([item.bad] if item.bad else [])


__all__ = ["Task", "TaskInfo", "Verdict", "members"]
