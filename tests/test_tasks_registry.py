"""Tasks by name: built-ins in judgments.jsonl order, plugins through entry points, facts from the task classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from _eval_helpers import items, plugin_entry_point
from depthkit.backends.base import ScoreRequest
from depthkit.errors import DepthkitError
from depthkit.evaluation import evaluate
from depthkit.tasks import (TASKS, Task, chance_level, make_task, make_tasks, task_class, task_info, task_names,
                            task_order)
from depthkit.tasks.prompts import PROMPT_DIR


@dataclass(frozen=True)
class FirstWordTask(Task):
    """A plugin task: is the good sentence's first token likely enough?"""

    name: ClassVar[str] = "first-word-test"
    kind: ClassVar[str] = "score"
    rank: ClassVar[int] = 7
    chance: ClassVar[float] = 0.3
    description: ClassVar[str] = "a plugin task for the tests"

    threshold: float = -5.0

    def requests(self, item) -> list[ScoreRequest]:
        return [ScoreRequest("", item.good)]

    def verdict(self, item, responses) -> tuple[bool | None, str | None, dict[str, Any]]:
        first = responses[0].logprobs[0]
        return first > self.threshold, "first", {"first": first}


def _plugin(monkeypatch, value: str, name: str) -> None:
    plugin_entry_point(monkeypatch, "depthkit.tasks", name, value)


def test_tasks_registry_keeps_the_judgments_order_and_the_rank_order():
    assert TASKS.names() == ("minimal-pair", "judgment", "forced-choice", "syntaxgym")
    assert task_names() == ("minimal-pair", "syntaxgym", "forced-choice", "judgment")
    assert task_order(["judgment", "zzz", "minimal-pair", "forced-choice"]) == [
        "minimal-pair", "forced-choice", "judgment", "zzz"]


def test_tasks_registry_facts_come_from_the_task_classes():
    assert chance_level("judgment") == 0.5 and chance_level("judgment", paired_item=False) == 0.5  # relative verdict
    assert chance_level("judgment", verdict_by="text") == 0.25  # older runs: both answers had to be right
    assert chance_level("judgment", paired_item=False, verdict_by="logprobs") == 0.5
    assert chance_level("minimal-pair") == 0.5 and chance_level("no-such-task") == 0.5
    info = task_info("forced-choice")
    assert info.paired and info.prompted and info.kind == "complete"
    assert task_info("no-such-task") is None
    assert task_class("minimal-pair").info() == task_info("minimal-pair")


def test_tasks_registry_unknown_name_suggests_a_known_one():
    with pytest.raises(DepthkitError) as err:
        make_task("judgement")
    assert "unknown task 'judgement'" in err.value.message and "did you mean 'judgment'" in err.value.message
    assert err.value.fix == "tasks: minimal-pair, judgment, forced-choice, syntaxgym"


def test_tasks_registry_settings_go_where_they_are_declared():
    assert make_task("forced-choice", seed=3).seed == 3
    assert not hasattr(make_task("judgment", seed=3), "seed")
    with pytest.raises(DepthkitError, match="uses no prompt"):
        make_task("minimal-pair", prompt=PROMPT_DIR / "judgment.yaml")
    with pytest.raises(DepthkitError, match="two prompt files"):
        make_tasks(["judgment"], prompts=[PROMPT_DIR / "judgment.yaml"] * 2)


def test_tasks_registry_plugin_task_runs_through_evaluate(monkeypatch):
    _plugin(monkeypatch, f"{__name__}:FirstWordTask", "first-word-test")
    assert task_class("first-word-test") is FirstWordTask
    judgments = evaluate(items(), "fake", ("first-word-test", "minimal-pair"), progress=False)
    assert [j.task for j in judgments] == ["minimal-pair"] * len(items()) + ["first-word-test"] * len(items())
    mine = [j for j in judgments if j.task == "first-word-test"]
    assert all(j.verdict_by == "first" and j.correct == (j.scores["first"] > -5.0) for j in mine)
    assert task_info("first-word-test").chance == 0.3


def test_tasks_registry_broken_plugin_is_an_error_only_when_asked_for(monkeypatch):
    _plugin(monkeypatch, "json:dumps", "not-a-task")
    assert "not-a-task" in TASKS.names() and "not-a-task" not in TASKS.classes()
    with pytest.raises(DepthkitError, match="is not a depthkit Task subclass"):
        make_task("not-a-task")
