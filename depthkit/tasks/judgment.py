"""``judgment``: a prompted yes/no question per member.

Right when both members are judged right (good ``choices[0]``, bad ``choices[1]``); an item without
a bad member (its grammar has no ``pair:``) is right when the good member is judged ``choices[0]``.
Scores per member ``good_``/``bad_``: ``answer``, ``correct``, ``text``, ``logprobs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

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
    # right only when both yes/no answers are: a coin scores 0.25 (a constant answer 0);
    # on items without a bad member it asks about one sentence (0.5).
    chance: ClassVar[float] = 0.25
    chance_one_member: ClassVar[float | None] = 0.5
    rank: ClassVar[int] = 2
    description: ClassVar[str] = "a yes/no question per member"
    placeholders: ClassVar[tuple[str, ...]] = ("sentence",)

    def requests(self, item: Item) -> list[Prompt]:
        return judgment_requests(item, self.prompt, self.presentation)

    def verdict(self, item: Item, responses: Sequence[Completion]) -> Verdict:
        return judge_judgment(item, responses, self.prompt)


def judgment_requests(item: Item, prompt: PromptTemplate, presentation: Presentation = Presentation()) -> list[Prompt]:
    """One yes/no prompt per member (good, then bad)."""
    return [prompt.build(sentence=render(s, presentation).text) for s in members(item)]


def judge_judgment(item: Item, responses: Sequence[Completion], prompt: PromptTemplate) -> Verdict:
    """Right when the good member is judged ``choices[0]`` and the bad one ``choices[1]``.

    An item without a bad member (its grammar has no ``pair:``) is right when the good member is
    judged ``choices[0]``: a yes-bias then scores 1.0 and guessing 0.5 (0.25 with pairs).
    """
    yes, no = prompt.choices
    scores: dict[str, Any] = {}
    verdicts, hows = [], []
    for member, completion, want in zip(("good", "bad"), responses, (yes, no)):
        answer, how = read_answer(completion, prompt.choices)
        ok = None if answer is None else answer == want
        scores[f"{member}_answer"] = answer
        scores[f"{member}_correct"] = ok
        scores[f"{member}_text"] = completion.text
        scores[f"{member}_logprobs"] = completion.choice_logprobs
        verdicts.append(ok)
        hows.append(how)
    correct = None if any(v is None for v in verdicts) else all(verdicts)
    return correct, ("logprobs" if all(h == "logprobs" for h in hows) else "text"), scores


__all__ = ["JudgmentTask", "judge_judgment", "judgment_requests"]
