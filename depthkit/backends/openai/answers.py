"""Reading prompted answers: each choice's log-probability as the first answer token, from top-logprob lists."""

from __future__ import annotations

import math
from collections.abc import Sequence


def choice_logprobs(choices: Sequence[str], positions: list[tuple[str, dict[str, float]]]) -> dict[str, float] | None:
    """Log-probability of each choice as the first answer token (case and spaces ignored).

    The answer position is the first generated token that is not blank. Variants of a choice
    ("Yes", " yes") are summed. A choice absent from the server's top list gets an upper
    bound: the smaller of the lowest listed value and the log of the mass left unlisted.
    """
    answer = next((top for token, top in positions if token.strip()), None)
    if answer is None:
        answer = positions[0][1] if positions else None
    if not answer:
        return None
    out: dict[str, float] = {}
    for choice in choices:
        want = choice.strip().lower()
        hits = [lp for tok, lp in answer.items() if tok.strip() and want.startswith(tok.strip().lower())]
        if hits:
            top = max(hits)
            out[choice] = top + math.log(sum(math.exp(h - top) for h in hits))
    if not out:
        return None
    listed = list(answer.values())
    left = 1.0 - sum(math.exp(v) for v in listed)
    bound = min(min(listed), math.log(left) if left > 1e-12 else min(listed))
    return {c: out.get(c, bound) for c in choices}


__all__ = ["choice_logprobs"]
