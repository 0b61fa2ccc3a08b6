"""Reading prompted answers from a server's top log-probabilities (P(answer): :mod:`depthkit.backends.answers`)."""

from __future__ import annotations

from ..answers import from_top_logprobs


def choice_logprobs(choices: tuple[str, ...] | list[str],
                    positions: list[tuple[str, dict[str, float]]]) -> dict[str, float] | None:
    """P(answer) of each choice from the first generated position's top list (the shared definition).

    The first position is the answer's: the choice is the continuation of the prompt, as local
    backends score it, so a blank token the server generated first does not move it.
    """
    if not positions:
        return None
    return from_top_logprobs(choices, positions[0][1])


__all__ = ["choice_logprobs"]
