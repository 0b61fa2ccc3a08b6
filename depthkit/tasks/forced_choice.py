"""``forced-choice``: both members in one prompt, which one is grammatical?

The A/B order is counterbalanced by item: a fixed coin from ``sha256(seed, item id)`` shows the good
member first for about half the items. Items without a bad member get no request and no verdict.
Scores: ``good_label`` (the choice naming the good member), ``answer``, ``text``, ``logprobs``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..backends.base import Completion, Prompt
from ..present import Presentation, render
from ..schema import Item
from .base import Verdict
from .prompted import PromptedTask, read_answer
from .prompts import PromptTemplate


@dataclass(frozen=True)
class ForcedChoiceTask(PromptedTask):
    name: ClassVar[str] = "forced-choice"
    paired: ClassVar[bool] = True
    chance: ClassVar[float] = 0.5
    rank: ClassVar[int] = 1
    description: ClassVar[str] = "both members in one prompt, A/B order counterbalanced"
    placeholders: ClassVar[tuple[str, ...]] = ("a", "b")

    seed: int = 0

    def requests(self, item: Item) -> list[Prompt]:
        return forced_choice_requests(item, self.prompt, self.presentation, self.seed)

    def verdict(self, item: Item, responses: Sequence[Completion]) -> Verdict:
        return judge_forced_choice(item, responses, self.prompt, self.seed)

    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "order": "A/B by sha256(seed, item id): good first for about half the items"}


def good_first(item_id: str, seed: int = 0) -> bool:
    """Whether the good member is shown first: a fixed coin per item (about half of them)."""
    return hashlib.sha256(f"{seed}\x1f{item_id}".encode("utf-8")).digest()[0] % 2 == 0


def forced_choice_requests(item: Item, prompt: PromptTemplate, presentation: Presentation = Presentation(),
                           seed: int = 0) -> list[Prompt]:
    if not item.bad:
        return []
    good, bad = render(item.good, presentation).text, render(item.bad, presentation).text
    a, b = (good, bad) if good_first(item.id, seed) else (bad, good)
    return [prompt.build(a=a, b=b)]


def judge_forced_choice(item: Item, responses: Sequence[Completion], prompt: PromptTemplate, seed: int = 0) -> Verdict:
    if not responses:
        return None, None, {}
    first = good_first(item.id, seed)
    good_label = prompt.choices[0] if first else prompt.choices[1]
    answer, how = read_answer(responses[0], prompt.choices)
    scores = {"good_label": good_label, "answer": answer, "text": responses[0].text,
              "logprobs": responses[0].choice_logprobs}
    return (None if answer is None else answer == good_label), how, scores


__all__ = ["ForcedChoiceTask", "forced_choice_requests", "good_first", "judge_forced_choice"]
