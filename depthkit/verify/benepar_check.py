"""benepar constituency checks: bracket F1 against the intended tree, subject/predicate split, depth.

Model lookup order: the ``model`` argument (``--benepar-model``), then ``$DEPTHKIT_BENEPAR_MODEL``,
then ``benepar_en3`` where ``benepar.download`` puts it (NLTK's data path). With none found,
benepar checks are recorded as ``not_run``. torch, transformers and benepar are imported only
when a model is loaded. Bracket scoring (a small evalb) lives in :mod:`depthkit.verify.brackets`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nltk import Tree

from ..errors import BackendError, UsageError
from ..grammar import Grammar
from ..present import RAW, Presentation, render
from ..schema import BeneparCheck
from .brackets import bracket_scores, brackets, label_depth, strip_wrapper
from .intended import PTB_PHRASE_LABELS, Intended

ENV_VAR = "DEPTHKIT_BENEPAR_MODEL"
DEFAULT_MODEL = "benepar_en3"
GET_MODEL_FIX = (f"on a machine with internet: `depthkit verify --download-benepar` (or python -c \"import benepar; "
                 f"benepar.download('{DEFAULT_MODEL}')\"), then copy the nltk_data/models/{DEFAULT_MODEL} folder here and "
                 f"set {ENV_VAR}=/path/to/{DEFAULT_MODEL} or pass --benepar-model")


@dataclass(frozen=True)
class BeneparChoice:
    """Which benepar model a run uses (``path`` None: benepar will not run, ``reason`` says why)."""

    path: str | None
    source: str  # "argument", "environment", "installed", "none"
    reason: str | None = None


def _installed(name: str) -> str | None:
    """Where benepar.download put model ``name`` (NLTK's data path), without importing benepar."""
    import nltk.data

    try:
        return str(nltk.data.find(f"models/{name}").path)
    except LookupError:
        return None


def resolve_benepar_model(model: str | Path | None = None) -> BeneparChoice:
    """Find the benepar model to use; a model the user named but that is missing is an error."""
    for value, source, what in ((model, "argument", "--benepar-model"),
                                (os.environ.get(ENV_VAR) or None, "environment", f"${ENV_VAR}")):
        if not value:
            continue
        text = str(value)
        if Path(text).exists():
            return BeneparChoice(str(Path(text).resolve()), source)
        if "/" not in text and "." not in text and (found := _installed(text)):
            return BeneparChoice(found, source)
        raise UsageError(f"benepar model '{text}' (from {what}) not found", fix=GET_MODEL_FIX)
    found = _installed(DEFAULT_MODEL)
    if found:
        return BeneparChoice(found, "installed")
    return BeneparChoice(None, "none", f"no benepar model: {DEFAULT_MODEL} is not installed and neither "
                                       f"--benepar-model nor ${ENV_VAR} is set")


@contextmanager
def _hub_offline() -> Iterator[None]:
    """``HF_HUB_OFFLINE=1`` for the block unless the caller set it; the environment is restored afterwards.

    A benepar model folder carries its own tokenizer files, so loading one never needs the hub.
    huggingface_hub and transformers read the variable once, when first imported: if the block
    imports them, they keep working offline for the rest of the process.
    """
    given = "HF_HUB_OFFLINE" in os.environ
    if not given:
        os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if not given:
            os.environ.pop("HF_HUB_OFFLINE", None)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with torch's process-wide thread count set to ``n``; the caller's count is restored after.

    ``None`` or 0 leaves torch alone (and does not import it). Measured here: with spaCy in the
    process, or simply a busy machine, 2 torch threads made benepar 30-66x slower than 1.
    """
    if not n:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def download_benepar(name: str = DEFAULT_MODEL) -> str:
    """Download a trained benepar model with ``benepar.download`` (needs internet: GitHub release assets)."""
    with _hub_offline():
        import benepar

    try:
        ok = benepar.download(name, raise_on_error=True)
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        raise BackendError(f"could not download benepar model '{name}' ({exc.__class__.__name__}: {exc}); "
                           "benepar.download needs internet access to kitaev.com and github.com",
                           fix=GET_MODEL_FIX) from None
    found = _installed(name)
    if not ok or not found:
        raise BackendError(f"benepar.download('{name}') did not install the model", fix=GET_MODEL_FIX)
    return found


def load_benepar(path: str):
    """Load a benepar model (folder or single-file checkpoint) as ``benepar.Parser``.

    ``HF_HUB_OFFLINE`` is set only while it loads (see :func:`_hub_offline`).
    """
    try:
        with _hub_offline():
            import benepar

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return benepar.Parser(path)
    except Exception as exc:  # noqa: BLE001
        raise BackendError(f"could not load benepar model ({exc.__class__.__name__}: {exc})", path=path,
                           fix=f"point --benepar-model / ${ENV_VAR} at a benepar model folder or checkpoint, "
                               "or skip benepar with --no-benepar") from None


def model_facts(parser: Any, path: str) -> dict[str, Any]:
    """What the manifest records about a loaded model: its version (folder name, or checkpoint name and size)
    and how many labels it predicts."""
    labels = parser._parser.config.get("label_vocab", {}) if hasattr(parser, "_parser") else {}
    return {"model_version": _model_version(path), "label_count": len(labels)}


def _model_version(path: str) -> str | None:
    """A release model folder's name (e.g. benepar_en3) or a checkpoint's file name and size."""
    p = Path(path)
    if p.is_dir():
        return p.name
    try:
        return f"{p.name} ({p.stat().st_size} bytes)"
    except OSError:
        return None


def depth_labels(grammar: Grammar) -> tuple[frozenset[str], str | None]:
    """PTB labels of the embedding categories, or why constituency depth cannot be compared."""
    labels = {e: grammar.ptb_label(e) for e in sorted(grammar.embedding)}
    unmapped = [e for e, lab in labels.items() if lab not in PTB_PHRASE_LABELS]
    if unmapped:
        return frozenset(), (f"embedding categories {', '.join(unmapped)} have no PTB phrase label; declare "
                             f"ptb_labels (e.g. {{{unmapped[0]}: SBAR}}) in the grammar to compare depths")
    return frozenset(labels.values()), None


def analyse(predicted: Tree, intended: Intended, labels: frozenset[str], labels_reason: str | None,
            n_words: int | None = None) -> BeneparCheck:
    """The ``benepar`` part of a verification record for one predicted tree."""
    n = len(intended.words) if n_words is None else n_words
    scores = bracket_scores(intended.ptb_tree, predicted, n)
    unlabeled = {(s, e) for _, s, e in brackets(predicted, n)}
    split_ok = None
    if intended.top_spans:
        split_ok = all(e - s == 1 or (s, e) in unlabeled for s, e in intended.top_spans)
    reasons = []
    measured = label_depth(predicted, labels) if labels else None
    depth_ok = None
    if labels_reason:
        reasons.append(f"depth check: {labels_reason}")
    elif label_depth(intended.ptb_tree, labels) != intended.depth:
        reasons.append(f"depth check: counting {'/'.join(sorted(labels))} nodes does not give the intended depth "
                       "even on the intended tree")
    else:
        depth_ok = measured == intended.depth
    decisive = [v for v in (split_ok, depth_ok) if v is not None]
    status = "ok" if decisive and all(decisive) else ("failed" if decisive else "not_run")
    if status == "not_run":
        reasons.insert(0, "no benepar check applies to this item")
    flat = " ".join(str(strip_wrapper(predicted)).split())
    return BeneparCheck(
        status=status,
        labeled_f1=scores["labeled_f1"],
        unlabeled_f1=scores["unlabeled_f1"],
        labeled_precision=scores["labeled_precision"],
        labeled_recall=scores["labeled_recall"],
        split_ok=split_ok,
        measured_depth=measured,
        depth_ok=depth_ok,
        parse=flat,
        reason="; ".join(reasons) or None,
    )


class BeneparChecker:
    """Parse batches of items with a loaded ``benepar.Parser``; one item's failure stays with that item."""

    def __init__(self, parser: Any, presentation: Presentation = RAW):
        self.parser = parser
        self.presentation = presentation

    def tokens(self, intended: Intended) -> list[str]:
        """The words benepar parses: as stored, or as ``depthkit eval`` presents them (the period a token)."""
        return list(render(intended.words, self.presentation).tokens)

    def _parse(self, batch: list[list[str]]) -> list[Any]:
        import benepar

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch_struct's arg_constraints notice, once per batch
            try:
                return list(self.parser.parse_sents([benepar.InputSentence(words=w) for w in batch]))
            except Exception:  # noqa: BLE001 - retry one by one so only the failing item is lost
                out: list[Any] = []
                for words in batch:
                    try:
                        out.append(self.parser.parse(benepar.InputSentence(words=words)))
                    except Exception as exc:  # noqa: BLE001
                        out.append(exc)
                return out

    def check_batch(self, intended: list[Intended], labels: list[tuple[frozenset[str], str | None]]) -> list[BeneparCheck]:
        parsed = self._parse([self.tokens(i) for i in intended])
        out = []
        for tree, item, (lab, why) in zip(parsed, intended, labels):
            if isinstance(tree, Exception):
                out.append(BeneparCheck.error(f"benepar raised {tree.__class__.__name__}: {tree}"))
                continue
            try:
                out.append(analyse(tree, item, lab, why, n_words=len(item.words)))
            except Exception as exc:  # noqa: BLE001
                out.append(BeneparCheck.error(f"analysis failed: {exc.__class__.__name__}: {exc}"))
        return out
