"""``forced-choice``: both members in one prompt, which one is grammatical?

Every item is asked in both orders (good member as ``{a}``, then as ``{b}``). The verdict is
``both-orders``: the log-odds of the good member's label (P(answer): :mod:`depthkit.backends.answers`)
averaged over the two orders, right when above 0, so a preference for one position cancels.
``position_bias`` is the mean log-odds of the first position's label over the two orders.
The answer-following verdict of the counterbalanced order (a fixed coin from ``sha256(seed, item id)``
shows the good member first for about half the items) is ``absolute_correct``, and decides when the
backend gives no log-probabilities (``verdict_by`` ``logprobs``/``text``). Items without a bad member
get no request and no verdict. Scores: ``good_label``, ``answer``, ``text``, ``logprobs`` (the
counterbalanced order), ``answer_good_first``, ``answer_good_second``, ``logodds_good_first``,
``logodds_good_second``, ``position_bias``, ``absolute_correct``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..backends.answers import p_of
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
    description: ClassVar[str] = "both members in one prompt, asked in both A/B orders"
    placeholders: ClassVar[tuple[str, ...]] = ("a", "b")

    seed: int = 0

    def requests(self, item: Item) -> list[Prompt]:
        return forced_choice_requests(item, self.prompt, self.presentation)

    def verdict(self, item: Item, responses: Sequence[Completion]) -> Verdict:
        return judge_forced_choice(item, responses, self.prompt, self.seed)

    def shots(self) -> list[tuple[dict[str, str], str]]:
        return forced_choice_shots(self.prompt)

    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "orders": "both",
                "order": "absolute_correct from the order given by sha256(seed, item id): good first for about "
                         "half the items"}

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "orders": "both"}


def good_first(item_id: str, seed: int = 0) -> bool:
    """Whether the good member is shown first in the counterbalanced order: a fixed coin per item."""
    return hashlib.sha256(f"{seed}\x1f{item_id}".encode("utf-8")).digest()[0] % 2 == 0


def forced_choice_requests(item: Item, prompt: PromptTemplate, presentation: Presentation = Presentation(),
                           seed: int = 0) -> list[Prompt]:
    """Two prompts: the good member as ``{a}``, then as ``{b}`` (none without a bad member); ``seed`` only
    picks which of them ``absolute_correct`` reads (:func:`judge_forced_choice`)."""
    if not item.bad:
        return []
    good, bad = render(item.good, presentation).text, render(item.bad, presentation).text
    shots = forced_choice_shots(prompt)
    return [prompt.build(shots, a=good, b=bad), prompt.build(shots, a=bad, b=good)]


def forced_choice_shots(prompt: PromptTemplate) -> list[tuple[dict[str, str], str]]:
    """Each example asked once, its good member first in every other example, answered with its label."""
    first, second = prompt.choices
    return [({"a": e.good, "b": e.bad}, first) if k % 2 == 0 else ({"a": e.bad, "b": e.good}, second)
            for k, e in enumerate(prompt.examples)]


def judge_forced_choice(item: Item, responses: Sequence[Completion], prompt: PromptTemplate, seed: int = 0) -> Verdict:
    if not responses:
        return None, None, {}
    first_label, second_label = prompt.choices
    orders = {"good_first": (responses[0], first_label), "good_second": (responses[1], second_label)}
    scores: dict[str, Any] = {}
    logodds: dict[str, float | None] = {}
    for name, (completion, label) in orders.items():
        answer, _ = read_answer(completion, prompt.choices)
        scores[f"answer_{name}"] = answer
        p_good = p_of(completion.choice_logprobs, label, prompt.choices)
        other = second_label if label == first_label else first_label
        p_other = p_of(completion.choice_logprobs, other, prompt.choices)
        logodds[name] = None if p_good is None or p_other is None else p_good - p_other
    shown = "good_first" if good_first(item.id, seed) else "good_second"
    completion, good_label = orders[shown]
    answer, how = read_answer(completion, prompt.choices)
    absolute = None if answer is None else answer == good_label
    scores.update({"good_label": good_label, "answer": answer, "text": completion.text,
                   "logprobs": completion.choice_logprobs, "absolute_correct": absolute})
    if logodds["good_first"] is None or logodds["good_second"] is None:
        return absolute, how, scores
    scores["logodds_good_first"] = logodds["good_first"]
    scores["logodds_good_second"] = logodds["good_second"]
    scores["position_bias"] = (logodds["good_first"] - logodds["good_second"]) / 2
    return (logodds["good_first"] + logodds["good_second"]) / 2 > 0, "both-orders", scores


__all__ = ["ForcedChoiceTask", "forced_choice_requests", "forced_choice_shots", "good_first", "judge_forced_choice"]
