"""The backend contract: what every model backend (hf, openai, fake, plugins) provides.

Two batched calls, both taking a list and returning a list of the same length and order:

* :meth:`Backend.score` — log-probabilities of a *continuation* given a *context*.
* :meth:`Backend.complete` — text (and, where the backend can, answer log-probabilities)
  for prompts, used by prompted tasks.

Whitespace rule (as in lm-evaluation-harness): whitespace belongs to the text after it.
To score the word "laughs" after "the author", use ``context="the author"`` and
``continuation=" laughs"``. An empty context means "start of text": the backend puts the
model's start token (configurable per backend) before the continuation so the first word
gets a real probability.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class ScoreRequest:
    """Score ``continuation`` after ``context`` (context may be empty: start of text)."""

    context: str
    continuation: str


@dataclass(frozen=True)
class TokenScores:
    """Per-token log-probabilities (natural log) of one continuation.

    ``tokens[i]`` is the text of the i-th continuation token, ``offsets[i]`` its start
    character in the continuation, ``logprobs[i]`` its log-probability. The token texts
    concatenate to the continuation (byte-level pieces may be joined into the token that
    completes a character). ``total`` is the sum.
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

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": list(self.tokens), "offsets": list(self.offsets), "logprobs": list(self.logprobs)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TokenScores":
        return cls(tuple(d["tokens"]), tuple(d["offsets"]), tuple(float(x) for x in d["logprobs"]))


@dataclass(frozen=True)
class Prompt:
    """A prompted request: chat messages, and optionally the answers to rank.

    ``messages`` are ``{"role": ..., "content": ...}`` dicts. When ``choices`` is given
    (e.g. ``("Yes", "No")`` or ``("A", "B")``) the backend returns the log-probability of
    each choice as the first answer token(s) where it can.
    """

    messages: tuple[dict[str, str], ...]
    choices: tuple[str, ...] = ()
    max_tokens: int = 8


@dataclass(frozen=True)
class Completion:
    """What a prompt produced: the text, and choice log-probabilities when available."""

    text: str
    choice_logprobs: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "choice_logprobs": self.choice_logprobs}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Completion":
        return cls(d["text"], d.get("choice_logprobs"))


@dataclass(frozen=True)
class Option:
    """One backend option: its type, default and meaning (shown by `depthkit models list`)."""

    type: type
    default: Any
    help: str
    secret: bool = False


class Backend(ABC):
    """Base class of model backends. Subclasses set ``name``, ``options`` and ``requires``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    requires: ClassVar[str] = ""  # what must be installed or running, for `depthkit models list`
    options: ClassVar[dict[str, Option]] = {}
    supports_score: ClassVar[bool] = True

    def __init__(self, model: str | None = None, **options: Any):
        from ..errors import DepthkitError

        unknown = sorted(set(options) - set(self.options))
        if unknown:
            valid = ", ".join(f"{k} ({o.help})" for k, o in self.options.items()) or "none"
            raise DepthkitError(f"backend '{self.name}' has no option {', '.join(unknown)}",
                                fix=f"valid options: {valid}")
        self.model = model
        self.config: dict[str, Any] = {}
        for key, spec in self.options.items():
            value = options.get(key, spec.default)
            if value is not None and spec.type is not str and isinstance(value, str):
                try:
                    value = _coerce(value, spec.type)
                except ValueError:
                    raise DepthkitError(f"option {key}={value!r} is not a {spec.type.__name__}",
                                        fix=f"{key}: {spec.help}") from None
            self.config[key] = value

    @property
    def public_config(self) -> dict[str, Any]:
        """Options safe to write to manifests and caches (secrets removed)."""
        return {k: v for k, v in self.config.items() if not self.options[k].secret}

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this backend's outputs: cache keys and manifests use it (no secrets)."""
        return {"backend": self.name, "model": self.model, "options": self.public_config}

    @abstractmethod
    def score(self, requests: Sequence[ScoreRequest]) -> list[TokenScores]:
        """Token log-probabilities of each continuation; same length and order as ``requests``."""

    def complete(self, prompts: Sequence[Prompt]) -> list[Completion]:
        """Answer each prompt; same length and order as ``prompts``."""
        raise NotImplementedError(f"backend '{self.name}' does not support prompted tasks")

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
