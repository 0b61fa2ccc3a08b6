"""``judgment``: a prompted yes/no question per member.

The verdict is *relative* (``verdict_by: relative``): right when the model gives the good member a
higher P(Yes) than the bad one (P(answer): :mod:`depthkit.backends.answers`), so a constant answer
bias cancels. The answer-following verdict (good judged ``choices[0]`` and bad ``choices[1]``) is
kept as ``absolute_correct``, and decides when the backend gives no log-probabilities
(``verdict_by`` ``logprobs``/``text``) and for an item without a bad member (its grammar has no
``pair:``: right when the good member is judged ``choices[0]``).
Scores per member ``good_``/``bad_``: ``answer``, ``correct``, ``text``, ``logprobs``, ``p_yes``
(natural-log P(Yes), normalised over the two choices); and ``absolute_correct``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..backends.answers import p_of
from ..backends.base import Completion, Prompt
from ..present import Presentation, render
from ..schema import Item
from .base import Verdict, members
from .prompted import PromptedTask, read_answer
from .prompts import PromptTemplate


@dataclass(frozen=True)
class JudgmentTask(PromptedTask):
    name: ClassVar[str] = "judgment"
    paired: ClassVar[bool] = False
    # the relative verdict compares two numbers: a coin is right half the time (so is one member's
    # yes/no on items without a bad member). Runs written before it (answer-following verdicts,
    # right only when both answers are) have chance 0.25: see ``chance_by_verdict``.
    chance: ClassVar[float] = 0.5
    chance_one_member: ClassVar[float | None] = 0.5
    chance_by_verdict: ClassVar[dict[str, float]] = {"logprobs": 0.25, "text": 0.25}
    rank: ClassVar[int] = 2
    description: ClassVar[str] = "a yes/no question per member"
    placeholders: ClassVar[tuple[str, ...]] = ("sentence",)

    def requests(self, item: Item) -> list[Prompt]:
        return judgment_requests(item, self.prompt, self.presentation)

    def shots(self) -> list[tuple[dict[str, str], str]]:
        return judgment_shots(self.prompt)

    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "verdict_by": "relative"}

    def identity(self) -> dict[str, Any]:  # a run folder of answer-following verdicts is not resumed into
        return {**super().identity(), "verdict": "relative"}

    def verdict(self, item: Item, responses: Sequence[Completion]) -> Verdict:
        return judge_judgment(item, responses, self.prompt)


def judgment_requests(item: Item, prompt: PromptTemplate, presentation: Presentation = Presentation()) -> list[Prompt]:
    """One yes/no prompt per member (good, then bad), after the prompt file's few-shot examples."""
    shots = judgment_shots(prompt)
    return [prompt.build(shots, sentence=render(s, presentation).text) for s in members(item)]


def judgment_shots(prompt: PromptTemplate) -> list[tuple[dict[str, str], str]]:
    """Each example's good sentence answered ``choices[0]`` and bad one ``choices[1]`` (bad first every other example)."""
    yes, no = prompt.choices
    shots: list[tuple[dict[str, str], str]] = []
    for k, example in enumerate(prompt.examples):
        pair = [({"sentence": example.good}, yes), ({"sentence": example.bad}, no)]
        shots += pair if k % 2 == 0 else pair[::-1]
    return shots


def judge_judgment(item: Item, responses: Sequence[Completion], prompt: PromptTemplate) -> Verdict:
    """The relative verdict where both members have P(Yes): right when P(Yes | good) > P(Yes | bad).

    ``verdict_by`` is then ``relative`` (Hu & Levy 2023's comparison: a model that answers "No" to
    everything is still right when it gives the good member the higher P(Yes)). Without
    log-probabilities, or for an item without a bad member, the verdict follows the answers
    (``logprobs``/``text``): the good member judged ``choices[0]`` and the bad one ``choices[1]``.
    ``absolute_correct`` is always that answer-following verdict.
    """
    yes, no = prompt.choices
    scores: dict[str, Any] = {}
    verdicts, hows, p_yes = [], [], []
    for member, completion, want in zip(("good", "bad"), responses, (yes, no)):
        answer, how = read_answer(completion, prompt.choices)
        ok = None if answer is None else answer == want
        scores[f"{member}_answer"] = answer
        scores[f"{member}_correct"] = ok
        scores[f"{member}_text"] = completion.text
        scores[f"{member}_logprobs"] = completion.choice_logprobs
        p = p_of(completion.choice_logprobs, yes, prompt.choices)
        if p is not None:
            scores[f"{member}_p_yes"] = p
        verdicts.append(ok)
        hows.append(how)
        p_yes.append(p)
    absolute = None if any(v is None for v in verdicts) else all(verdicts)
    scores["absolute_correct"] = absolute
    if len(p_yes) == 2 and None not in p_yes:
        return p_yes[0] > p_yes[1], "relative", scores
    return absolute, ("logprobs" if all(h == "logprobs" for h in hows) else "text"), scores


__all__ = ["JudgmentTask", "judge_judgment", "judgment_requests", "judgment_shots"]
