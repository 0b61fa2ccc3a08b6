"""P(answer): the one definition of a prompted answer's probability, for every backend.

A prompt's answer *choices* (``("Yes", "No")``, ``("A", "B")``) are the strings the prompt file
writes, used exactly: no case folding, no extra leading space, no variants ("yes", "Y", " Yes"
are other answers). For each choice:

1. ``raw[c]`` = log P(c as the continuation of the prompt), the sum of the log-probabilities
   of the choice's token(s) right after the rendered prompt (for chat models: after the chat
   template's opened assistant turn).
2. ``P(c)`` = log-softmax of ``raw`` over exactly the prompt's choices: the answer distribution
   restricted to the answers the task accepts, so ``sum(exp(P(c))) == 1``.

Local backends (``hf``, the embedded model, ``fake``) compute ``raw`` exactly. OpenAI-compatible
servers give the top log-probabilities of the first generated token only: a choice that the
server writes as one token is read exactly (its token text equal to the choice); for a longer
choice the first token is all a server reports, so depthkit reads the longest listed token the
choice begins with (docs/models.md says so); a choice missing from the top list gets an upper
bound (the smaller of the lowest listed value and the log of the unlisted mass).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

RULE = "p-answer-v2"  # in every prompt's cache key: answers computed by an older rule are never reused


def normalise(raw: Mapping[str, float], choices: Sequence[str] | None = None) -> dict[str, float]:
    """Log-softmax of ``raw`` over ``choices`` (all of ``raw`` by default); idempotent."""
    keys = list(choices) if choices is not None else list(raw)
    values = [float(raw[c]) for c in keys]
    top = max(values)
    if math.isinf(top):  # every choice impossible: nothing to prefer
        return {c: -math.log(len(keys)) for c in keys}
    total = top + math.log(sum(math.exp(v - top) for v in values))
    return {c: v - total for c, v in zip(keys, values)}


def from_top_logprobs(choices: Sequence[str], top: Mapping[str, float] | None) -> dict[str, float] | None:
    """P(answer) of each choice from a server's top log-probabilities at the first answer position.

    ``top`` maps token texts to log-probabilities (the first generated token's list). None when the
    list names none of the choices (nothing to compare).
    """
    if not top:
        return None
    raw: dict[str, float] = {}
    for choice in choices:
        if choice in top:
            raw[choice] = float(top[choice])
            continue
        prefixes = [t for t in top if t and choice.startswith(t)]
        if prefixes:
            raw[choice] = float(top[max(prefixes, key=len)])
    if not raw:
        return None
    listed = [float(v) for v in top.values()]
    left = 1.0 - sum(math.exp(v) for v in listed)
    bound = min(min(listed), math.log(left) if left > 1e-12 else min(listed))
    return normalise({c: raw.get(c, bound) for c in choices}, choices)


def p_of(logprobs: Mapping[str, float] | None, choice: str, choices: Sequence[str]) -> float | None:
    """Natural-log P(``choice``) normalised over ``choices`` (None without every choice's value)."""
    if not logprobs or any(logprobs.get(c) is None for c in choices):
        return None
    return normalise(logprobs, choices)[choice]


__all__ = ["RULE", "from_top_logprobs", "normalise", "p_of"]
