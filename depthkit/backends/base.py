"""The backend contract: what every model backend (hf, openai, fake, plugins) provides.

Two batched calls, both taking a list and returning a list of the same length and order
(shapes: ``score(list[ScoreRequest] of length N) -> list[TokenScores] of length N``,
``complete(list[Prompt] of length N) -> list[Completion] of length N``):

* :meth:`Backend.score` — log-probabilities of a *continuation* given a *context*
  (lm-evaluation-harness ``loglikelihood``, but per token).
* :meth:`Backend.complete` — text (and, where the backend can, answer log-probabilities)
  for prompts, used by prompted tasks (lm-evaluation-harness ``generate_until`` plus
  ``loglikelihood`` of the first answer token).

Whitespace rule (as in lm-evaluation-harness): whitespace belongs to the text after it.
To score the word "laughs" after "the author", use ``context="the author"`` and
``continuation=" laughs"``. The model reads ``START + context + continuation`` where START
is the model's start token (configurable per backend, e.g. ``<|endoftext|>`` for SmolLM2),
so the first word of a sentence gets a real probability even when the context is empty.
Only continuation tokens are returned. Put the context/continuation boundary before a space
(the whitespace rule) and no token straddles it; where one would, backends may tokenize the
two parts separately (``hf``) or count the straddling token in the continuation.

Backends must be deterministic for a given :meth:`Backend.fingerprint`: depthkit caches
every call under ``sha256(fingerprint, request)`` and never asks twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import UsageError


@dataclass(frozen=True)
class ScoreRequest:
    """Score ``continuation`` after ``context`` (context may be empty: start of text)."""

    context: str
    continuation: str

    def to_dict(self) -> dict[str, Any]:
        return {"context": self.context, "continuation": self.continuation}


@dataclass(frozen=True)
class TokenScores:
    """Per-token log-probabilities (natural log) of one continuation.

    Three tuples of equal length T (the number of continuation tokens): ``tokens[i]`` is the
    text of the i-th token, ``offsets[i]`` its start character in the continuation,
    ``logprobs[i]`` its log-probability given everything before it. Offsets increase and
    the token texts concatenate to the continuation, a token's leading whitespace included
    (byte-level pieces may be joined into the token that completes a character). ``total``
    is the sum; a word's score is the sum of the tokens that start inside it.
    """

    tokens: tuple[str, ...]
    offsets: tuple[int, ...]
    logprobs: tuple[float, ...]

    @property
    def total(self) -> float:
        return float(sum(self.logprobs))

    def span_logprob(self, start: int, end: int) -> float:
        """Sum over tokens starting inside characters ``[start, end)`` of the continuation."""
        return float(sum(lp for off, lp in zip(self.offsets, self.logprobs) if start <= off < end))

    def span_count(self, start: int, end: int) -> int:
        """How many tokens start inside characters ``[start, end)``."""
        return sum(1 for off in self.offsets if start <= off < end)

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": list(self.tokens), "offsets": list(self.offsets), "logprobs": list(self.logprobs)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TokenScores":
        return cls(tuple(d["tokens"]), tuple(d["offsets"]), tuple(float(x) for x in d["logprobs"]))


@dataclass(frozen=True)
class Prompt:
    """A prompted request: chat messages, and optionally the answers to rank.

    ``messages`` are ``{"role": ..., "content": ...}`` dicts (roles ``system``, ``user``,
    ``assistant``). Backends with a chat template apply it and open the assistant turn;
    others join the contents with blank lines. When ``choices`` is given (e.g.
    ``("Yes", "No")`` or ``("A", "B")``) the backend returns each choice's P(answer) where it
    can (``Completion.choice_logprobs``; the one definition is :mod:`depthkit.backends.answers`).
    ``max_tokens`` bounds the generated text (greedy decoding).
    """

    messages: tuple[dict[str, str], ...]
    choices: tuple[str, ...] = ()
    max_tokens: int = 8

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"messages": [dict(m) for m in self.messages], "choices": list(self.choices),
                               "max_tokens": self.max_tokens}
        if self.choices:  # answers cached under an older P(answer) rule are not reused
            from .answers import RULE

            out["p_answer"] = RULE
        return out


@dataclass(frozen=True)
class Completion:
    """What a prompt produced: the text, and choice log-probabilities when available.

    ``choice_logprobs`` maps every choice of the prompt to its natural-log P(answer): the choice as
    the continuation of the prompt, normalised over the prompt's choices (:mod:`depthkit.backends.answers`;
    None when the backend cannot tell).
    """

    text: str
    choice_logprobs: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "choice_logprobs": self.choice_logprobs}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Completion":
        return cls(d["text"], d.get("choice_logprobs"))


@dataclass(frozen=True)
class Option:
    """One backend option: its type, default and meaning (shown by `depthkit models list`).

    ``secret`` options (API keys) never reach manifests, logs or caches. Options with
    ``affects_output=False`` (threads, timeouts, test counters) are left out of the
    fingerprint, so changing them keeps cached results valid.
    """

    type: type
    default: Any
    help: str
    secret: bool = False
    affects_output: bool = True


class Backend(ABC):
    """Base class of model backends. Subclasses set ``name``, ``options`` and ``requires``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    requires: ClassVar[str] = ""  # what must be installed or running, for `depthkit models list`
    options: ClassVar[dict[str, Option]] = {}
    supports_score: ClassVar[bool] = True
    default_batch_size: ClassVar[int] = 32  # requests per call when the user gives no --batch-size

    def __init__(self, model: str | None = None, **options: Any):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            valid = ", ".join(f"{k} ({o.help})" for k, o in self.options.items()) or "none"
            raise UsageError(f"backend '{self.name}' has no option {', '.join(unknown)}",
                                fix=f"valid options: {valid}")
        self.model = model
        self.config: dict[str, Any] = {}
        for key, spec in self.options.items():
            value = options.get(key, spec.default)
            if value is not None and spec.type is not str and isinstance(value, str):
                try:
                    value = _coerce(value, spec.type)
                except ValueError:
                    raise UsageError(f"option {key}={value!r} is not a {spec.type.__name__}",
                                        fix=f"{key}: {spec.help}") from None
            self.config[key] = value

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this backend cannot run here (missing package, file…), or None when it can."""
        return None

    @classmethod
    def status_note(cls) -> str | None:
        """Extra state worth showing in `depthkit models list` (e.g. where converted weights live)."""
        return None

    @property
    def label(self) -> str:
        """The model as judgments.jsonl names it: ``name:model`` (or ``name``)."""
        return f"{self.name}:{self.model}" if self.model else self.name

    @property
    def public_config(self) -> dict[str, Any]:
        """Options safe to write to manifests and caches (secrets removed)."""
        return {k: v for k, v in self.config.items() if not self.options[k].secret}

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this backend's outputs: cache keys and manifests use it (no secrets)."""
        options = {k: v for k, v in self.public_config.items() if self.options[k].affects_output}
        return {"backend": self.name, "model": self.model, "options": options}

    @property
    def supports_complete(self) -> bool:
        return type(self).complete is not Backend.complete

    @abstractmethod
    def score(self, requests: Sequence[ScoreRequest]) -> list[TokenScores]:
        """Token log-probabilities of each continuation; same length and order as ``requests``."""

    def complete(self, prompts: Sequence[Prompt]) -> list[Completion]:
        """Answer each prompt; same length and order as ``prompts``."""
        raise NotImplementedError(f"backend '{self.name}' does not support prompted tasks")

    def load(self) -> None:
        """Get ready now (load the model, connect); backends also do this on first use, so callers only
        call it to do the slow part at a moment of their choosing (e.g. before a progress bar starts)."""

    def close(self) -> None:
        """Release models, servers or connections."""


def _coerce(value: str, kind: type) -> Any:
    if kind is bool:
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    return kind(value)


__all__ = ["Backend", "Completion", "Option", "Prompt", "ScoreRequest", "TokenScores"]
