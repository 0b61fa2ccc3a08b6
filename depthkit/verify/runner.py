"""`depthkit verify` orchestration: read items, run the three checks in batches, append records,
resume after an interruption, and summarise per parser x construction x depth.

Files (in the folder `depthkit generate` wrote): ``verification.jsonl`` (append-only, one
:class:`~depthkit.schema.VerificationRecord` per item), ``verification_summary.csv`` / ``.json``, and
the ``verify`` section of ``manifest.json`` (:class:`~depthkit.schema.VerifySection`). ``items.jsonl``
is only read.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Iterator

from ..errors import DepthkitError, InputError, StaleOutputError, UsageError
from ..grammar import Grammar, load_grammar
from ..present import RAW, Presentation
from ..schema import BeneparCheck, GenerateSection, GrammarCheck, Item, SpacyCheck, VerifySection
from ..logs import logger
from ..store import (VERIFICATION_FILE, JsonlAppender, load_manifest, package_versions, read_items,
                     resolve_items_folder, save_section, sha256_file)
from . import benepar_check, spacy_check
from .chart_parse import GrammarChecker
from .intended import NO_TREE, Intended, intended_structure
from .records import read_verification
from .summary import SUMMARY_CSV, SUMMARY_JSON, summary_rows, write_summary
from .verdict import PARSERS, RULE, make_record
from .workers import GrammarPool, resolve_workers

SECTION = "verify"
MODEL_FACT_KEYS = ("model_version", "model_name", "components", "label_count")  # measured when a model loads


def verify_folder(folder: str | Path, *, grammar: str | Path | None = None, spacy_model: str | None = None,
                  benepar_model: str | Path | None = None, skip: Collection[str] = (), max_parses: int = 10,
                  batch_size: int = 64, present: bool = False, force: bool = False, torch_threads: int | None = 1,
                  progress: bool = True, workers: int = 1) -> dict[str, Any]:
    """Verify every item of a generated folder; returns the summary (also saved next to the items).

    Resumes: items already in ``verification.jsonl`` are skipped unless ``force``. ``skip`` may
    name "grammar", "spacy", "benepar"; skipped or unavailable parsers are recorded as not_run.
    ``present``: parse the sentences as ``depthkit eval`` presents them (:mod:`depthkit.present`).
    ``workers``: processes for the grammar's chart parse (1: in this process; 0: every core); the
    records are the same whatever the count (:mod:`depthkit.verify.workers`).

    Process-wide state: while benepar checks items, torch's global thread count is ``torch_threads``
    (None or 0: torch's setting is left alone); the caller's count is restored when the run ends,
    also on an error or Ctrl-C. ``HF_HUB_OFFLINE`` is set only while the benepar model loads.
    """
    unknown = set(skip) - set(PARSERS)
    if unknown:
        raise UsageError(f"unknown parser(s) to skip: {', '.join(sorted(unknown))}",
                         fix=f"choose from {', '.join(PARSERS)}")
    if batch_size < 1 or max_parses < 1:
        raise UsageError("--batch-size and --max-parses must be at least 1", fix="e.g. --batch-size 64")
    workers = resolve_workers(workers)
    folder, items_path = resolve_items_folder(folder)
    items = read_items(items_path)
    manifest = load_manifest(folder)
    grammars, notes = resolve_grammars(items, manifest.generate, grammar, items_path)
    for note in notes:
        logger.warning(f"warning: {note}")
    plan = _plan(skip, grammars, manifest.generate, spacy_model=spacy_model, benepar_model=benepar_model,
                 max_parses=max_parses, batch_size=batch_size, present=present, torch_threads=torch_threads)
    settings = _settings(plan, sha256_file(items_path))

    out_path = folder / VERIFICATION_FILE
    previous = manifest.verify
    if force:
        for name in (VERIFICATION_FILE, SUMMARY_CSV, SUMMARY_JSON):
            (folder / name).unlink(missing_ok=True)
        previous = None
    ids = {item.id for item in items}
    done = {k: v for k, v in read_verification(out_path).items() if k in ids}
    if done and previous is not None and previous.settings and previous.settings != settings:
        changed = sorted(k for k in settings if previous.settings.get(k) != settings[k])
        raise StaleOutputError(f"{VERIFICATION_FILE} was made with different settings ({', '.join(changed)} changed)",
                               path=out_path,
                               fix="run again with --force to verify from scratch, or use the earlier settings")
    if done and (previous is None or not previous.settings):
        logger.warning(f"warning: {out_path} has no recorded settings; resuming it as is (use --force to start over)")
    todo = [item for item in items if item.id not in done]
    logger.info(f"verify: {len(todo)} of {len(items)} items to check"
                + (f" ({len(done)} already in {VERIFICATION_FILE})" if done else ""))
    notes += _not_run_notes(plan, skip)

    parsers_info = _parsers_info(plan, grammars)
    if not todo and previous is not None:  # nothing to load this time: keep the model facts the earlier run measured
        for name, info in previous.parsers.items():
            if name in parsers_info:
                parsers_info[name].update({k: info[k] for k in MODEL_FACT_KEYS if k in info})
    facts = dict(rule=RULE, settings=settings, parsers=parsers_info, notes=notes)
    save_section(folder, SECTION, VerifySection(complete=False, **facts))

    timing: dict[str, Any] = {"grammar_seconds": 0.0, "spacy_seconds": 0.0, "benepar_seconds": 0.0}
    started = time.perf_counter()
    if todo:
        timing.update(_run(todo, plan, out_path, parsers_info, progress, workers))
    elapsed = time.perf_counter() - started

    records_by_id = read_verification(out_path)
    records = [records_by_id[item.id] for item in items if item.id in records_by_id]
    complete = len(records) == len(items)
    n_verified = sum(1 for r in records if r.verified)
    summary = {"folder": str(folder), "items": len(items), "records": len(records), "verified": n_verified,
               "complete": complete, "rule": RULE, "parsers": parsers_info, "notes": notes,
               "rows": summary_rows(records)}
    write_summary(folder, summary)
    # items/s over the checking loop (parsers loaded); seconds includes loading them
    check = timing.get("check_seconds") or 0.0
    timing.update(items=len(todo), seconds=round(elapsed, 3),
                  items_per_second=round(len(todo) / check, 2) if todo and check > 0 else None)
    save_section(folder, SECTION, VerifySection(
        complete=complete, n_items=len(items), n_records=len(records), n_verified=n_verified,
        timing={k: (round(v, 3) if isinstance(v, float) else v) for k, v in timing.items()},
        files=[VERIFICATION_FILE, SUMMARY_CSV, SUMMARY_JSON],
        versions=package_versions(("depthkit", "nltk", "spacy", "benepar", "torch", "transformers")), **facts))
    return summary


# --------------------------------------------------------------------------------------------
# Grammars


def resolve_grammars(items: list[Item], generated: GenerateSection | None, override: str | Path | None,
                     items_path: Path) -> tuple[dict[str, Grammar], list[str]]:
    """The grammar behind each grammar name in the items, and notes (e.g. the file changed since generation).

    ``generated`` is the manifest's ``generate`` section: the grammar file recorded there is preferred
    to the shipped grammar of the same name.
    """
    # items without a tree (imported suites) need no grammar: no grammar check applies to them
    names = list(dict.fromkeys(_grammar_name(item, generated) for item in items if item.tree is not None))
    chosen = load_grammar(override) if override else None
    if chosen is not None and len(names) > 1 and chosen.name not in names:
        raise UsageError(f"these items come from several grammars ({', '.join(map(str, names))}); "
                         f"--grammar gave '{chosen.name}', which is none of them", path=items_path,
                         fix="drop --grammar, or give the file of one of those grammars")
    out: dict[str, Grammar] = {}
    notes: list[str] = []
    for name in names:
        if chosen is not None and (len(names) == 1 or chosen.name == name):
            out[name] = chosen
            if name and chosen.name != name:
                notes.append(f"items name grammar '{name}' but --grammar gave '{chosen.name}'")
            continue
        if not name:
            raise InputError("items name no grammar and the manifest has no generate.grammar", path=items_path,
                             field="grammar", fix="pass the grammar that made them with --grammar")
        recorded = generated is not None and generated.grammar == name
        path = generated.grammar_path if recorded else None
        try:
            out[name] = load_grammar(path if path and Path(path).exists() else name)
        except DepthkitError as exc:
            if path and Path(path).exists():
                raise
            where = f"; the manifest records {path}, which does not exist" if path else ""
            raise InputError(f"cannot find grammar '{name}' that made these items ({exc.message}{where})",
                             path=items_path, field="grammar", fix="pass the grammar file with --grammar") from None
        sha = generated.grammar_sha256 if recorded else None
        if sha and out[name].sha256 != sha:
            notes.append(f"grammar '{name}' ({out[name].path}) changed since the items were generated; "
                         "grammar checks use the current file")
    return out, notes


def _grammar_name(item: Item, generated: GenerateSection | None) -> str | None:
    """The grammar an item names, else the one the manifest records."""
    return item.grammar or (generated.grammar if generated is not None else None)


# --------------------------------------------------------------------------------------------
# The plan: which parsers run (and why not), with which options


@dataclass(frozen=True)
class _Plan:
    """What a run checks with: grammars, parsers (None + reason when one does not run), options."""

    grammars: dict[str, Grammar]
    generated: GenerateSection | None
    grammar_reason: str | None  # None: the chart parse runs
    spacy_name: str | None
    spacy_reason: str | None
    benepar: benepar_check.BeneparChoice
    max_parses: int
    batch_size: int
    present: bool
    torch_threads: int | None

    @property
    def presentation(self) -> Presentation:
        """``--present``: what ``depthkit eval`` shows a model; else the words exactly as stored."""
        return Presentation() if self.present else RAW

    def grammar_name(self, item: Item) -> str:
        """The key of ``item``'s grammar in :attr:`grammars` (the name the items give it)."""
        return _grammar_name(item, self.generated)


def _plan(skip: Collection[str], grammars: dict[str, Grammar], generated: GenerateSection | None, *,
          spacy_model: str | None, benepar_model: str | Path | None, max_parses: int, batch_size: int,
          present: bool, torch_threads: int | None) -> _Plan:
    if "spacy" in skip:
        spacy_name, spacy_reason = None, "skipped (--no-spacy)"
    else:
        spacy_name, spacy_reason = spacy_check.resolve_spacy_model(spacy_model)
    if "benepar" in skip:
        choice = benepar_check.BeneparChoice(None, "skipped", "skipped (--no-benepar)")
    else:
        choice = benepar_check.resolve_benepar_model(benepar_model)
    return _Plan(grammars=grammars, generated=generated,
                 grammar_reason="skipped (--no-grammar)" if "grammar" in skip else None,
                 spacy_name=spacy_name, spacy_reason=spacy_reason, benepar=choice, max_parses=max_parses,
                 batch_size=batch_size, present=present, torch_threads=torch_threads)


def _settings(plan: _Plan, items_sha256: str) -> dict[str, Any]:
    """What the records depend on: a resumed run must have the same (else ``force`` starts over)."""
    return {
        "items_sha256": items_sha256,
        "grammars": {n: g.sha256 for n, g in plan.grammars.items()},
        "run_grammar": plan.grammar_reason is None,
        "spacy_model": plan.spacy_name,
        "benepar_model": plan.benepar.path,
        "max_parses": plan.max_parses,
        "present": plan.present,
    }


def _not_run_notes(plan: _Plan, skip: Collection[str]) -> list[str]:
    """Notes for the summary about parsers that do not run (and messages when they were not skipped on purpose)."""
    notes = []
    if plan.benepar.path is None:
        notes.append(f"benepar not run: {plan.benepar.reason}; its checks are recorded as not_run and never count "
                     "as passed")
        if "benepar" not in skip:
            logger.warning(f"benepar: NOT RUN - {plan.benepar.reason}.\n  to enable it: {benepar_check.GET_MODEL_FIX}")
    if plan.spacy_name is None:
        notes.append(f"spaCy not run: {plan.spacy_reason}; no item can be verified without it")
        logger.warning(f"spaCy: NOT RUN - {plan.spacy_reason}")
    return notes


def _parsers_info(plan: _Plan, grammars: dict[str, Grammar]) -> dict[str, dict[str, Any]]:
    """The manifest's and the summary's facts about each parser (model facts are added when one loads)."""
    choice = plan.benepar
    return {
        "grammar": {"ran": plan.grammar_reason is None, "parser": "nltk.parse.FeatureChartParser",
                    "max_parses": plan.max_parses, "reason": plan.grammar_reason,
                    "grammars": {n: {"path": g.path, "sha256": g.sha256} for n, g in grammars.items()}},
        "spacy": {"ran": plan.spacy_name is not None, "model": plan.spacy_name, "reason": plan.spacy_reason,
                  "present": plan.present, "clause_deps": sorted(spacy_check.CLAUSE_DEPS),
                  "excluded": list(spacy_check.EXCLUDE)},
        "benepar": {"ran": choice.path is not None, "model": choice.path, "source": choice.source,
                    "reason": choice.reason, "present": plan.present},
    }


# --------------------------------------------------------------------------------------------
# The checking loop


def _batches(items: list[Item], size: int) -> Iterator[list[Item]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _run(todo: list[Item], plan: _Plan, out_path: Path, parsers_info: dict[str, Any],
         progress: bool, workers: int = 1) -> dict[str, Any]:
    """Check ``todo`` in batches, appending one record per item as soon as its batch is done.

    Model facts measured on load (versions, components) are added to ``parsers_info``. With
    ``workers`` > 1 the chart parse runs in worker processes (:mod:`.workers`), started before
    the models load and kept one batch ahead of spaCy and benepar, which run here
    (``grammar_seconds`` then sums the workers' parsing time).
    """
    from contextlib import ExitStack

    with ExitStack() as stack:
        pooled = workers > 1 and plan.grammar_reason is None
        pool = stack.enter_context(GrammarPool(plan.grammars, plan.max_parses, workers)) if pooled else None
        batches = list(_batches(todo, plan.batch_size))
        started: dict[int, Any] = {}  # batch index -> the pool's futures of its chart parses

        def start(k: int) -> None:
            if pool is not None and k < len(batches) and k not in started:
                started[k] = pool.submit([(plan.grammar_name(i), i) for i in batches[k]])

        start(0)  # the workers start (and parse) while the models load
        timing: dict[str, Any] = {"grammar_seconds": 0.0, "spacy_seconds": 0.0, "benepar_seconds": 0.0,
                                  "workers": workers}
        spacy_checker = benepar_checker = None
        if plan.spacy_name is not None:
            t = time.perf_counter()
            nlp = spacy_check.load_spacy(plan.spacy_name)
            timing["spacy_load_seconds"] = time.perf_counter() - t
            parsers_info["spacy"].update(spacy_check.model_facts(nlp))
            spacy_checker = spacy_check.SpacyChecker(nlp, plan.presentation, batch_size=plan.batch_size)
        threads = None  # torch's thread count while the loop runs (benepar only)
        if plan.benepar.path is not None:
            t = time.perf_counter()
            parser = benepar_check.load_benepar(plan.benepar.path)
            timing["benepar_load_seconds"] = time.perf_counter() - t
            parsers_info["benepar"].update(benepar_check.model_facts(parser, plan.benepar.path))
            benepar_checker = benepar_check.BeneparChecker(parser, plan.presentation)
            if plan.torch_threads:
                threads = plan.torch_threads
                parsers_info["benepar"]["torch_threads"] = threads
        grammar_checkers = ({n: GrammarChecker(g, plan.max_parses) for n, g in plan.grammars.items()}
                            if plan.grammar_reason is None and not pooled else {})
        depth_labels = {n: benepar_check.depth_labels(g) for n, g in plan.grammars.items()}
        bar = stack.enter_context(tqdm_bar(len(todo), progress))
        loop_started = time.perf_counter()
        with benepar_check.torch_threads(threads), JsonlAppender(out_path) as appender:
            for k, chunk in enumerate(batches):
                start(k)
                start(k + 1)  # the next batch parses while this one goes through spaCy and benepar
                needed = pool is None or spacy_checker is not None or benepar_checker is not None
                intended = ([intended_structure(item, plan.grammars.get(plan.grammar_name(item))) for item in chunk]
                            if needed else [None] * len(chunk))  # the workers work out their own
                if pool is None:
                    t = time.perf_counter()
                    g_recs = [_grammar_check(grammar_checkers, plan, item, i) for item, i in zip(chunk, intended)]
                    timing["grammar_seconds"] += time.perf_counter() - t
                t = time.perf_counter()
                s_recs = (spacy_checker.check_batch(intended) if spacy_checker is not None
                          else [SpacyCheck.not_run(plan.spacy_reason or "not run")] * len(chunk))
                timing["spacy_seconds"] += time.perf_counter() - t
                t = time.perf_counter()
                b_recs = (_benepar_batch(benepar_checker, intended, [depth_labels.get(plan.grammar_name(item))
                                                                     for item in chunk])
                          if benepar_checker is not None
                          else [BeneparCheck.not_run(plan.benepar.reason or "not run")] * len(chunk))
                timing["benepar_seconds"] += time.perf_counter() - t
                if pool is not None:
                    g_recs, seconds = pool.collect(started.pop(k))
                    timing["grammar_seconds"] += seconds
                for item, g, s, b in zip(chunk, g_recs, s_recs, b_recs):
                    appender.write(make_record(item, g, s, b).to_dict())
                bar.update(len(chunk))
        timing["check_seconds"] = time.perf_counter() - loop_started
    return timing


def _benepar_batch(checker: benepar_check.BeneparChecker, intended: list[Intended],
                   labels: list[Any]) -> list[BeneparCheck]:
    """benepar's checks of a batch; items without an intended tree get not_run (nothing to compare with)."""
    with_tree = [k for k, i in enumerate(intended) if i.tree is not None]
    out = [BeneparCheck.not_run(NO_TREE)] * len(intended)
    if with_tree:
        done = checker.check_batch([intended[k] for k in with_tree], [labels[k] for k in with_tree])
        for k, rec in zip(with_tree, done):
            out[k] = rec
    return out


def tqdm_bar(total: int, progress: bool):
    """The progress bar of the checking loop (a context manager that closes it)."""
    from tqdm import tqdm

    return tqdm(total=total, desc="verify", unit="item", file=sys.stderr, disable=not progress, dynamic_ncols=True)


def _grammar_check(checkers: dict[str, GrammarChecker], plan: _Plan, item: Item, intended: Intended) -> GrammarCheck:
    """The grammar check of one item; its failure stays with that item."""
    if plan.grammar_reason is not None:
        return GrammarCheck.not_run(plan.grammar_reason)
    if intended.tree is None:
        return GrammarCheck.not_run(NO_TREE)
    try:
        return checkers[plan.grammar_name(item)].check(item, intended)
    except Exception as exc:  # noqa: BLE001 - one item's failure stays with that item
        return GrammarCheck.error(f"{exc.__class__.__name__}: {exc}")
