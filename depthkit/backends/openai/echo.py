"""Scoring by echo: which echoed prompt tokens make up the continuation, and their log-probabilities.

``/v1/completions`` with ``echo=true, logprobs=0, max_tokens=1`` returns every prompt token with its
log-probability. Servers differ in how they render the start token (as its text, as nothing, or
with a BOS of their own first), in whether they report ``text_offset``, and in byte pieces that
complete no character; :func:`continuation_pieces` finds the continuation's tokens through all of
that, and refuses (with the fix) when the echoed tokens do not spell the prompt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ...errors import BackendError


@dataclass(frozen=True)
class EchoToken:
    """One token of an echoed prompt as the server reported it."""

    start: int  # character position in the server's rendering of the prompt
    text: str
    logprob: float | None
    top: dict[str, float] | None


@dataclass(frozen=True)
class Piece:
    """One continuation token before null log-probabilities are filled in."""

    text: str
    offset: int  # in the continuation
    logprob: float | None
    prefix: str  # the prompt text before this token (for recovering a null log-probability)
    server_text: str  # the token's text as the server wrote it (key of top_logprobs)


def echo_tokens(choice: Any, where: str) -> list[EchoToken]:
    """The token list of an echoed completion choice (positions from text_offset when present)."""
    lp = choice.get("logprobs") if isinstance(choice, dict) else None
    if not isinstance(lp, dict) or not isinstance(lp.get("tokens"), list) or not isinstance(
            lp.get("token_logprobs"), list):
        raise scoring_unsupported(where, "its completions come back without token log-probabilities")
    texts = [str(t) for t in lp["tokens"]]
    values = lp["token_logprobs"]
    tops = lp.get("top_logprobs") or [None] * len(texts)
    offsets = lp.get("text_offset")
    if not (isinstance(offsets, list) and len(offsets) == len(texts)
            and all(isinstance(o, int) for o in offsets) and offsets == sorted(offsets)):
        offsets, at = [], 0
        for t in texts:
            offsets.append(at)
            at += len(t)
    return [EchoToken(o, t, None if v is None else float(v), top if isinstance(top, dict) else None)
            for o, t, v, top in zip(offsets, texts, values, tops)]


def echo_ignored(toks: list[EchoToken], body: str) -> bool:
    """True when the tokens cannot hold the prompt: the server answered for generated tokens only."""
    if not toks:
        return True
    return toks[-1].start + len(toks[-1].text) - toks[0].start < len(body)


def rendered_start(toks: list[EchoToken], start_text: str, body: str) -> int:
    """Where ``body`` (context + continuation) begins in the server's rendering of the prompt.

    Servers render a special start token as its text (vLLM), as nothing (llama-cpp-python),
    or drop it; some put a BOS token of their own first.
    """
    joined = "".join(t.text for t in toks)
    origin = toks[0].start if toks else 0
    for k in range(len(start_text) + 1):  # the start text rendered whole, in part, or not at all
        rest = start_text[k:]
        if joined.startswith(rest + body):
            return origin + len(rest)
    starts = {t.start for t in toks}
    at = joined.find(body)
    while at >= 0:  # something of the server's own first (a BOS token): the body starts at a token
        if origin + at in starts:
            return origin + at
        at = joined.find(body, at + 1)
    # token texts that do not spell the text (byte pieces): trust text_offset after the start
    rest = next((start_text[k:] for k in range(len(start_text)) if joined.startswith(start_text[k:])), "")
    return origin + len(rest)


def continuation_pieces(toks: list[EchoToken], start_text: str, context: str, continuation: str,
                         where: str) -> list[Piece]:
    """The echoed tokens that fall in the continuation, with offsets relative to it."""
    body = context + continuation
    if echo_ignored(toks, body):
        raise scoring_unsupported(where, "it ignores echo=true (log-probabilities of generated tokens only)")
    base = rendered_start(toks, start_text, body)
    c0, c1 = base + len(context), base + len(body)
    pieces: list[Piece] = []
    pending: list[EchoToken] = []  # zero-width byte pieces, joined into the token that completes the character
    for k, t in enumerate(toks):
        if t.start >= c1:
            break
        end = max(toks[k + 1].start if k + 1 < len(toks) else t.start + len(t.text), t.start)
        s, e = max(t.start, c0), min(end, c1)
        if e <= c0 and not (t.start == end and t.start >= c0):
            continue  # a context token
        if s == e:
            if t.logprob is not None:  # a zero-width token without a value is a start token: skip it
                pending.append(t)
            continue
        text = body[s - base:e - base]
        whole = t.start >= c0 and end <= c1 and not pending
        if whole and t.text and t.text != text and "\ufffd" not in t.text and not t.text.startswith("bytes:"):
            raise misaligned(where, toks, start_text + body)
        values = [p.logprob for p in pending] + [t.logprob]
        if pending and any(v is None for v in values):
            raise misaligned(where, toks, start_text + body)
        value = None if t.logprob is None else float(sum(values))  # type: ignore[arg-type]
        pieces.append(Piece(text, s - c0, value, start_text + body[:s - base], t.text))
        pending = []
    if pending and pieces:  # trailing byte pieces: join them into the last token
        last = pieces[-1]
        extra = [p.logprob for p in pending]
        if last.logprob is None or any(v is None for v in extra):
            raise misaligned(where, toks, start_text + body)
        pieces[-1] = Piece(last.text, last.offset, last.logprob + sum(extra), last.prefix,  # type: ignore[arg-type]
                            last.server_text)
    if "".join(p.text for p in pieces) != continuation:
        raise misaligned(where, toks, start_text + body)
    return pieces


def scoring_unsupported(where: str, why: str) -> BackendError:
    return BackendError(
        f"{where} cannot score continuations: {why}",
        fix="scoring tasks need a /v1/completions endpoint that returns prompt log-probabilities with echo=true "
            "and logprobs (vLLM, llama-cpp-python); with a chat-only API (e.g. OpenAI's chat models) use "
            "--task judgment or --task forced-choice instead")


def misaligned(where: str, toks: list[EchoToken], prompt: str) -> BackendError:
    shown = json.dumps([t.text for t in toks[:12]], ensure_ascii=False)
    return BackendError(f"{where}: the echoed tokens {shown}… do not spell the prompt {prompt[:60]!r}",
                        fix="the server's tokenizer is not the one the prompt was written for (e.g. it prepends a "
                            "BOS token or decodes pieces differently): for the embedded SmolLM2, serve the folder "
                            "`depthkit models export DIR` writes (a clean fast tokenizer); otherwise check "
                            "start_token, and that the server echoes the prompt (echo=true) with token texts or "
                            "text_offset")


__all__ = ["EchoToken", "Piece", "continuation_pieces", "echo_ignored", "echo_tokens", "misaligned", "rendered_start",
           "scoring_unsupported"]
