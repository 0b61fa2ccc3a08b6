"""What prompted tasks share: a prompt file (``prompt`` setting, few-shot examples included) and reading the
model's answer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..backends.base import Completion
from ..errors import UsageError
from ..schema import Item
from .base import Task, members
from .prompts import PromptTemplate, check_examples


@dataclass(frozen=True)
class PromptedTask(Task):
    """A task that asks questions through a prompt file; ``placeholders`` are what its prompt fills."""

    kind: ClassVar[str] = "complete"
    prompted: ClassVar[bool] = True
    placeholders: ClassVar[tuple[str, ...]] = ()

    prompt: PromptTemplate = field(kw_only=True)

    def __post_init__(self) -> None:
        if self.prompt.task != self.name:
            raise UsageError(f"prompt {self.prompt.path} is for task '{self.prompt.task}', not '{self.name}'",
                             path=self.prompt.path, fix=f"give a prompt file whose `task:` is {self.name}")

    def shots(self) -> list[tuple[dict[str, str], str]]:
        """The prompt file's few-shot examples as ``(placeholder values, answer)``, asked before the question."""
        return []

    def check_items(self, items: Iterable[Item]) -> None:
        """Refuse a few-shot example that is one of the evaluated sentences (file, line and fix)."""
        check_examples(self.prompt, ((item.id, s) for item in items for s in members(item)))

    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "prompt": self.prompt.manifest()}

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "prompt_sha256": self.prompt.sha256}


def read_answer(completion: Completion, choices: Sequence[str]) -> tuple[str | None, str]:
    """(chosen choice or None, how): from choice log-probabilities, else from the text."""
    lp = completion.choice_logprobs
    if lp and all(c in lp and lp[c] is not None for c in choices):
        return max(choices, key=lambda c: lp[c]), "logprobs"
    text = completion.text.strip().lower()
    words = re.findall(r"[a-z0-9]+", text)
    for word in words[:3]:
        for c in choices:
            if word == c.strip().lower():
                return c, "text"
    return None, "text"


__all__ = ["PromptedTask", "read_answer"]
