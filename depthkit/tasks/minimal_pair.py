"""``minimal-pair``: log p(good) vs log p(bad), whole sentence and critical region.

Both members are scored the same way: the whole presented sentence after the backend's start
token, no other context. Every score is recorded; ``verdict_by`` picks the one that decides.

Scores (per member ``good_``/``bad_``): ``sum``, ``mean`` (per token), ``critical`` and ``target``
(the regions' words, conditioned on everything before them), ``n_tokens``, ``critical_n_tokens``,
``words`` (per-word sums of subword scores); and ``diff``, good − bad on the score that decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..backends.base import ScoreRequest, TokenScores
from ..errors import UsageError
from ..present import Presentation, Rendered, render
from ..schema import Item
from .base import Task, Verdict, members

VERDICT_BY = ("critical", "sum", "mean")


@dataclass(frozen=True)
class MinimalPairTask(Task):
    name: ClassVar[str] = "minimal-pair"
    kind: ClassVar[str] = "score"
    paired: ClassVar[bool] = True
    chance: ClassVar[float] = 0.5
    rank: ClassVar[int] = 0
    description: ClassVar[str] = "log p(good) vs log p(bad), whole sentence and critical region"

    verdict_by: str = "critical"

    def __post_init__(self) -> None:
        check_verdict_rule(self.verdict_by)

    def requests(self, item: Item) -> list[ScoreRequest]:
        return minimal_pair_requests(item, self.presentation)

    def verdict(self, item: Item, responses: Sequence[TokenScores]) -> Verdict:
        return judge_minimal_pair(item, responses, self.presentation, self.verdict_by)

    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "verdict_by": self.verdict_by}

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "verdict_by": self.verdict_by}


def check_verdict_rule(verdict_by: str) -> None:
    if verdict_by not in VERDICT_BY:
        raise UsageError(f"unknown verdict rule '{verdict_by}'", fix=f"choose one of {', '.join(VERDICT_BY)}")


def minimal_pair_requests(item: Item, presentation: Presentation = Presentation()) -> list[ScoreRequest]:
    """Good then bad, each a whole presented sentence after the start token (no other context)."""
    return [ScoreRequest("", render(s, presentation).text) for s in members(item)]


def word_scores(scores: TokenScores, rendered: Rendered) -> list[float]:
    """Per-word log-probabilities: the sum of the tokens that start inside each word."""
    return [scores.span_logprob(s, e) for s, e in rendered.word_spans]


def _region(item: Item, name: str, member: str) -> tuple[int, int] | None:
    spans = getattr(item.regions, name)
    span = getattr(spans, member) if spans is not None else None
    if not span:
        return None
    return int(span[0]), int(span[1])


def member_scores(item: Item, member: str, scores: TokenScores,
                  presentation: Presentation = Presentation()) -> dict[str, Any]:
    """Sum, mean, critical and target scores and per-word scores of one member (``good`` or ``bad``)."""
    rendered = render(getattr(item, member), presentation)
    n = len(scores.logprobs)
    out: dict[str, Any] = {"sum": scores.total, "mean": scores.total / n if n else None, "n_tokens": n}
    for region in ("critical", "target"):
        span = _region(item, region, member)
        if span is None:
            out[region] = None
            continue
        s, e = rendered.region(*span)
        out[region] = scores.span_logprob(s, e)
        if region == "critical":
            out["critical_n_tokens"] = scores.span_count(s, e)
    out["words"] = word_scores(scores, rendered)
    return out


def judge_minimal_pair(item: Item, responses: Sequence[TokenScores], presentation: Presentation = Presentation(),
                       verdict_by: str = "critical") -> Verdict:
    """Verdict: the good member scores strictly higher on ``verdict_by`` (critical, sum or mean).

    ``critical`` falls back to ``sum`` for items without a critical region; the record says
    which score decided. Items without a bad member get no verdict.
    """
    names = ["good", "bad"][:len(responses)]
    per = {m: member_scores(item, m, r, presentation) for m, r in zip(names, responses)}
    scores: dict[str, Any] = {}
    for key in ("sum", "mean", "critical", "target", "n_tokens", "critical_n_tokens", "words"):
        for m in names:
            if key in per[m]:
                scores[f"{m}_{key}"] = per[m][key]
    if "bad" not in per:
        return None, None, scores
    by = verdict_by
    if per["good"].get(by) is None or per["bad"].get(by) is None:
        by = "sum"
    scores["diff"] = per["good"][by] - per["bad"][by]
    return bool(per["good"][by] > per["bad"][by]), by, scores


__all__ = ["MinimalPairTask", "VERDICT_BY", "check_verdict_rule", "judge_minimal_pair", "member_scores",
           "minimal_pair_requests", "word_scores"]
