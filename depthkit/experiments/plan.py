"""The grid of an experiment as pure data: what to generate, verify and evaluate, and where it goes.

Every output folder is named by a content hash of the inputs that decide its contents, so the same
inputs always map to the same folder (and a finished folder can be skipped) while changed inputs get a
new one (nothing is overwritten):

* ``<grammar>-<key>`` — items of one grammar; the key hashes the grammar file's content
  (:attr:`Grammar.sha256`) and the generation options. Verification is written into the same folder;
  its settings get a key of their own (:attr:`GenerateStep.verify_key`).
* ``runs/<grammar>-<model>-<key>`` — one model's judgments on one grammar's items for every task; the
  key hashes the generation key, the verification settings when only verified items are asked, the
  model (backend, model, the options that change outputs; not the server URLs, which are replicas) and
  the eval settings.
* ``report/`` (or the given report folder) — the one combined report; its key hashes every run key.

:func:`make_plan` reads the grammar files (for their hashes) and nothing else; it does not touch the
output folder. Which steps are already done is :mod:`depthkit.experiments.runner`'s business.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from .spec import Experiment, ModelEntry, slug

KEY_LENGTH = 12


def content_key(data: Any) -> str:
    """A short hex SHA-256 of ``data`` as canonical JSON (sorted keys)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_LENGTH]


@dataclass(frozen=True)
class GenerateStep:
    """One grammar's items (and their verification) in ``folder``."""

    grammar: str  # a shipped name or an absolute file path
    name: str  # the grammar's own name
    options: dict[str, Any]  # generation Options fields
    key: str
    verify: dict[str, Any]  # {"run": bool, "skip": [...]}
    verify_key: str
    folder: str  # relative to the experiment's output folder


@dataclass(frozen=True)
class Cell:
    """One model on one grammar's items, every task of the experiment, into ``folder``."""

    grammar: str  # the grammar's own name
    generate_key: str
    model: str  # the model's name in the plan (label or spec slug)
    spec: str
    options: dict[str, Any]  # backend options, the server URLs included
    tasks: tuple[str, ...]
    eval: dict[str, Any]  # EvalConfig settings
    key: str
    folder: str


@dataclass(frozen=True)
class Plan:
    """The whole grid: generation steps, cells (grammar x model) and the combined report."""

    name: str
    generates: tuple[GenerateStep, ...]
    cells: tuple[Cell, ...]
    report: dict[str, Any]
    report_key: str
    skipped_models: dict[str, str]  # model name -> why it cannot run here

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "generates": [asdict(g) for g in self.generates],
                "cells": [{**asdict(c), "tasks": list(c.tasks)} for c in self.cells], "report": self.report,
                "report_key": self.report_key, "skipped_models": self.skipped_models}

    def generate_step(self, key: str) -> GenerateStep:
        return next(g for g in self.generates if g.key == key)


def make_plan(experiment: Experiment, *, available: dict[str, str | None] | None = None) -> Plan:
    """The grid of ``experiment``; ``available`` maps model names to why they cannot run (None: they can;
    missing: assumed to run). Models that cannot run are left out of the cells and listed as skipped."""
    from ..grammar import load_grammar

    available = available or {}
    verify = {"run": experiment.verify.run, "skip": sorted(experiment.verify.skip)}
    generates: list[GenerateStep] = []
    for entry in experiment.grammars:
        grammar = load_grammar(entry.grammar)
        options = generation_options(experiment, entry.options)
        key = content_key({"grammar": grammar.name, "sha256": grammar.sha256, "options": options})
        generates.append(GenerateStep(entry.grammar, grammar.name, options, key, verify,
                                      content_key({"items": key, "verify": verify}),
                                      f"{slug(grammar.name)}-{key}"))
    eval_settings = experiment.eval.to_dict()
    eval_settings.pop("batch_size")  # how many requests per call changes no output
    skipped = {m.name: available[m.name] for m in experiment.models if available.get(m.name)}
    cells: list[Cell] = []
    for model in experiment.models:
        if model.name in skipped:
            continue
        for step in generates:
            inputs = {"items": step.key, "model": model_identity(model), "tasks": list(experiment.tasks),
                      "eval": eval_settings}
            if experiment.eval.verified_only:
                inputs["verify"] = step.verify_key
            key = content_key(inputs)
            cells.append(Cell(step.name, step.key, model.name, model.spec, backend_options(model),
                              tuple(experiment.tasks), experiment.eval.to_dict(), key,
                              f"runs/{slug(step.name)}-{slug(model.name)}-{key}"))
    report = experiment.report.to_dict()
    report["title"] = report["title"] or f"depthkit experiment {experiment.name}: accuracy versus depth"
    report_key = content_key({"cells": sorted(c.key for c in cells), "report": report})
    return Plan(experiment.name, tuple(generates), tuple(cells), report, report_key, skipped)


def generation_options(experiment: Experiment, extra: dict[str, Any]) -> dict[str, Any]:
    """The fields of :class:`depthkit.generation.Options` for one grammar, as its manifest records them."""
    from ..generation import Options

    options = Options(depths=experiment.depth_list, per_depth=experiment.per_depth, seed=experiment.seed,
                      controls=experiment.controls, design=experiment.design, **extra)
    return options.to_manifest()


def backend_options(model: ModelEntry) -> dict[str, Any]:
    """The options the backend is made with: the entry's, and its servers as ``base_url`` (comma-separated)."""
    options = dict(model.options)
    if model.servers:
        options["base_url"] = ",".join(model.servers)
    return options


def model_identity(model: ModelEntry) -> dict[str, Any]:
    """What decides a model's outputs: backend and model from the spec, and the options that change outputs
    (server URLs, threads, timeouts and other options marked ``affects_output=False`` are left out)."""
    from ..backends.registry import backend_class, parse_spec

    name, target = parse_spec(model.spec)
    if target and "@" in target:
        target = target.rpartition("@")[0]
    declared = backend_class(name).options
    options = {k: v for k, v in model.options.items()
               if k != "base_url" and (k not in declared or declared[k].affects_output)}
    return {"backend": name, "model": target, "options": options}


def options_from_manifest(options: dict[str, Any]) -> dict[str, Any]:
    """:class:`depthkit.generation.Options` keyword arguments from a manifest's ``generate.options``."""
    out = dict(options)
    out["depths"] = tuple(out["depths"])
    return out


__all__ = ["Cell", "GenerateStep", "Plan", "backend_options", "content_key", "generation_options", "make_plan",
           "model_identity", "options_from_manifest"]
