"""How a sentence is shown to a model or a parser: the one presentation rule.

Items store words joined by single spaces, lower-case, with no final punctuation. When a
:class:`Presentation` asks for it, the first letter is upper-cased and a final period added.
``depthkit eval`` presents sentences this way, and ``depthkit verify --present`` gives the parsers
exactly the same text (spaCy) or the same tokens (benepar), so a parse describes what the model saw.
Word indices never change: :func:`render` maps each word to its character span.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Presentation:
    """How a word string is shown to models and parsers; recorded in the eval and verify manifests."""

    capitalize: bool = True  # upper-case the first letter
    period: bool = True  # add "." unless the sentence already ends in punctuation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RAW = Presentation(capitalize=False, period=False)  # the words exactly as stored


@dataclass(frozen=True)
class Rendered:
    """A presented sentence and the character span of each word.

    ``word_spans[i] = (start, end)``: word ``i`` with its leading space (none for word 0),
    without final punctuation added by the presentation (that belongs to no word, but to
    every region that reaches the end of the sentence). ``tokens`` are the presented words,
    with the added period as a token of its own (for parsers that take words).
    """

    text: str
    word_spans: tuple[tuple[int, int], ...]
    tokens: tuple[str, ...]

    def region(self, start: int, end: int) -> tuple[int, int]:
        """Character span of words ``[start, end)``; a region ending at the last word takes the final period."""
        if not 0 <= start <= end <= len(self.word_spans):
            raise ValueError(f"region [{start}, {end}) outside {len(self.word_spans)} words")
        if start == end:
            at = self.word_spans[start][0] if start < len(self.word_spans) else len(self.text)
            return at, at
        stop = len(self.text) if end == len(self.word_spans) else self.word_spans[end - 1][1]
        return self.word_spans[start][0], stop


def _capitalized(word: str) -> str:
    """The word with its first letter upper-cased, unless that changes its length (``ß`` -> ``SS``)."""
    if not word:
        return word
    first = word[0].upper()
    return first + word[1:] if len(first) == 1 else word


def render(sentence: str | Sequence[str], presentation: Presentation = Presentation()) -> Rendered:
    """Present a sentence (words joined by single spaces, or the words) and map its words to characters."""
    words = sentence.split(" ") if isinstance(sentence, str) else list(sentence)
    if presentation.capitalize and words:
        words = [_capitalized(words[0]), *words[1:]]
    spans, pos = [], 0
    for i, word in enumerate(words):
        start = pos
        pos += len(word) + (1 if i else 0)
        spans.append((start, pos))
    text = " ".join(words)
    tokens = list(words)
    if presentation.period and text and text[-1] not in string.punctuation:
        text += "."
        tokens.append(".")
    return Rendered(text, tuple(spans), tuple(tokens))


__all__ = ["RAW", "Presentation", "Rendered", "render"]
