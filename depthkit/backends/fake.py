"""A deterministic stand-in for a language model, for fast tests.

Scores come from a hash of the text before each token, so the same prefix always gets the
same scores (as with a real model) and nothing depends on the machine. Given the items it
is tested on (option ``items``), it can be told how often to prefer the grammatical member
of a pair (``accuracy``, lowered by ``decay`` per depth level): a known answer for tests of
the analysis. ``delay`` and ``count_file`` make it slow and let tests count the requests it
really executed.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..store import read_items
from .answers import normalise
from .base import Backend, Completion, Option, Prompt, ScoreRequest, TokenScores

_PIECE = re.compile(r"\s*[^\s.,;:!?\"']+|\s*[.,;:!?\"']")
_STRIP = re.compile(r"[.,;:!?\"']")
LOSER_PENALTY = 1000.0  # nats taken from the losing member's first differing token


def _unit(*parts: Any) -> float:
    """A number in [0, 1) from a hash of ``parts``."""
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def fake_tokens(text: str) -> list[tuple[int, str]]:
    """Split text into (offset, piece) 'subwords': words, punctuation, long words in 4-letter chunks."""
    out: list[tuple[int, str]] = []
    for m in _PIECE.finditer(text):
        piece, start = m.group(), m.start()
        core = len(piece) - len(piece.lstrip())
        if len(piece) - core <= 6:
            out.append((start, piece))
            continue
        cut = core + 4
        out.append((start, piece[:cut]))
        for i in range(cut, len(piece), 4):
            out.append((start + i, piece[i:i + 4]))
    rest = text[sum(len(p) for _, p in out):]  # trailing whitespace, if any
    if rest:
        out[-1:] = [(out[-1][0], out[-1][1] + rest)] if out else [(0, rest)]
    return out


def normalize(sentence: str) -> str:
    return " ".join(_STRIP.sub("", sentence).lower().split())


class FakeBackend(Backend):
    name = "fake"
    description = "deterministic hash-based scores and answers, for tests (no model)"
    requires = "nothing"
    default_batch_size = 16
    options = {
        "seed": Option(int, 0, "changes every score"),
        "items": Option(str, None, "items.jsonl (or its folder) whose grammatical members the fake may prefer"),
        "accuracy": Option(float, None, "with items: share of pairs where the grammatical member wins (0..1)"),
        "decay": Option(float, 0.0, "with items and accuracy: accuracy lost per depth level"),
        "no_bias": Option(float, 0.0, "prompted answers: log-odds added to the second choice of a yes/no question "
                                     "(a model that says No to everything)"),
        "first_bias": Option(float, 0.0, "prompted answers: log-odds added to the first choice of a two-sentence "
                                        "question (a model that says A to everything)"),
        "delay": Option(float, 0.0, "seconds to sleep per call (a slow backend for tests)", affects_output=False),
        "count_file": Option(str, None, "append one line per executed request to this file (tests)",
                             affects_output=False),
    }

    def __init__(self, model: str | None = None, **options: Any):
        super().__init__(model, **options)
        self._known: dict[str, tuple[str, str, int]] = {}  # normalized sentence -> (item id, member, depth)
        self._pairs: dict[str, tuple[str, str]] = {}  # item id -> (good, bad) normalized
        self._lengths: set[int] = set()
        acc = self.config["accuracy"]
        if acc is not None and not 0.0 <= acc <= 1.0:
            raise UsageError(f"option accuracy={acc} is outside 0..1", fix="e.g. accuracy=0.9")
        if acc is not None and not self.config["items"]:
            raise UsageError("option accuracy needs option items", fix="add items=generated/NAME")
        if self.config["items"]:
            for item in read_items(self.config["items"]):
                good = normalize(item.good)
                self._known[good] = (item.id, "good", item.depth)
                if item.bad:
                    bad = normalize(item.bad)
                    self._known[bad] = (item.id, "bad", item.depth)
                    self._pairs[item.id] = (good, bad)
            self._lengths = {len(s.split()) for s in self._known}

    def fingerprint(self) -> dict[str, Any]:
        fp = super().fingerprint()
        if self.config["items"]:  # the file's content, not its path, decides the scores
            fp["options"]["items"] = hashlib.sha256("\n".join(sorted(self._known)).encode()).hexdigest()[:16]
        return fp

    # -- what the fake "believes" ---------------------------------------------------------
    def _good_wins(self, item_id: str, depth: int) -> bool | None:
        acc = self.config["accuracy"]
        if acc is None or item_id not in self._pairs:
            return None
        p = min(1.0, max(0.0, acc - self.config["decay"] * depth))
        return _unit(self.config["seed"], "wins", item_id) < p

    def _find(self, text: str) -> list[tuple[int, str]]:
        """Known sentences in ``text``: (word position, normalized sentence), longest matches first."""
        words = normalize(text).split()
        found: list[tuple[int, str]] = []
        taken: set[int] = set()
        for n in sorted(self._lengths, reverse=True):
            for i in range(len(words) - n + 1):
                cand = " ".join(words[i:i + n])
                if cand in self._known and not taken & set(range(i, i + n)):
                    found.append((i, cand))
                    taken |= set(range(i, i + n))
        return sorted(found)

    # -- the contract -----------------------------------------------------------------------
    def score(self, requests: Sequence[ScoreRequest]) -> list[TokenScores]:
        self._pause()
        out = [self._score_one(r) for r in requests]
        self._count(len(requests))
        return out

    def _score_one(self, request: ScoreRequest) -> TokenScores:
        seed, ctx, cont = self.config["seed"], request.context, request.continuation
        pieces = fake_tokens(cont)
        logprobs = [-(0.5 + 9.5 * _unit(seed, ctx + cont[:off], piece)) for off, piece in pieces]
        penalty_at = self._penalty_token(ctx, cont, pieces)
        if penalty_at is not None:
            logprobs[penalty_at] -= LOSER_PENALTY
        return TokenScores(tuple(p for _, p in pieces), tuple(o for o, _ in pieces), tuple(logprobs))

    def _penalty_token(self, ctx: str, cont: str, pieces: list[tuple[int, str]]) -> int | None:
        key = normalize(ctx + cont)
        if key not in self._known:
            return None
        item_id, member, depth = self._known[key]
        wins = self._good_wins(item_id, depth)
        if wins is None or (member == "good") == wins:
            return None
        good, bad = self._pairs[item_id]
        mine, other = (good, bad) if member == "good" else (bad, good)
        a, b = mine.split(), other.split()
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        # character where word `first` starts in the presented text (leading space included)
        full = ctx + cont
        starts = [m.start() for m in re.finditer(r"\S+", full)]
        char = starts[first] if first < len(starts) else len(full)
        char -= len(ctx)
        for index, (off, piece) in enumerate(pieces):
            if off + len(piece) > char:
                return index
        return len(pieces) - 1 if pieces else None

    def complete(self, prompts: Sequence[Prompt]) -> list[Completion]:
        self._pause()
        out = [self._complete_one(p) for p in prompts]
        self._count(len(prompts))
        return out

    def _complete_one(self, prompt: Prompt) -> Completion:
        text = "\n".join(m.get("content", "") for m in prompt.messages)
        choices = list(prompt.choices) or ["Yes", "No"]
        pick = int(_unit(self.config["seed"], "choice", text) * len(choices))
        found = self._find(text)
        n_members = 0
        if found and len(choices) >= 2:
            infos = [self._known[s] for _, s in found]
            item_id, _, depth = infos[0]
            wins = self._good_wins(item_id, depth)
            if wins is not None and all(i[0] == item_id for i in infos):
                members = [m for _, m, _ in infos]
                n_members = len(members)
                if len(members) == 1:  # yes/no about one sentence: choices[0] means "grammatical"
                    pick = 0 if (members[0] == "good") == wins else 1
                elif len(members) == 2:  # which of two: choices follow the order of the sentences
                    good_pos = members.index("good")
                    pick = good_pos if wins else 1 - good_pos
        raw = {c: (math.log(0.9) if i == pick else math.log(0.1 / max(1, len(choices) - 1)))
               for i, c in enumerate(choices)}
        if n_members == 1 and len(choices) == 2:
            raw[choices[1]] += self.config["no_bias"]
        if n_members == 2 and len(choices) == 2:
            raw[choices[0]] += self.config["first_bias"]
        logprobs = normalise(raw, choices)
        return Completion(max(choices, key=lambda c: logprobs[c]), logprobs if prompt.choices else None)

    def _pause(self) -> None:
        if self.config["delay"]:
            time.sleep(self.config["delay"])

    def _count(self, n: int) -> None:
        path = self.config["count_file"]
        if not path or not n:
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n" * n)
            f.flush()
            os.fsync(f.fileno())
