"""The run facts a report shows: model, backend, tasks, prompt, grammar, seed, parsers, versions.

One row per fact (:data:`FACT_HEADERS`), one column per run, taken from the eval, generate and
verify manifests; every manifest entry is also listed in full.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..schema import Section, VerifySection
from .load import Loaded, Run

FACT_HEADERS = [("run", "run folder"), ("models", "model"), ("backend", "backend"), ("tasks", "tasks"),
                ("prompt", "prompt"), ("presentation", "presentation"), ("verified_only", "verified items only"),
                ("judgments", "judgments"), ("grammar", "grammar"),
                ("grammar_sha256", "grammar sha256"), ("seed", "seed"), ("depths", "depths"),
                ("per_depth", "per depth"), ("controls", "controls"), ("generated", "items folder"),
                ("verified_by", "verification rule"), ("benepar", "constituency parser (benepar)"),
                ("versions", "versions")]


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        out: list[tuple[str, str]] = []
        for key in sorted(value, key=str):
            out.extend(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and all(not isinstance(v, (Mapping, list)) for v in value):
        return [(prefix, ", ".join(str(v) for v in value))]
    if isinstance(value, list):
        return [(prefix, json.dumps(value, ensure_ascii=False)[:500])]
    return [(prefix, "" if value is None else str(value))]


@dataclass(frozen=True)
class RunFacts:
    """One run as the report shows it: ``shown`` maps each :data:`FACT_HEADERS` key to its text;
    ``manifest`` lists every manifest entry as (dotted key, text)."""

    run: str
    shown: dict[str, str]
    manifest: tuple[tuple[str, str], ...]


def run_facts(loaded: Loaded) -> list[RunFacts]:
    """Per run: the headline facts (model, backend, tasks, grammar, seed...) and every manifest entry."""
    return [_run_facts(run) for run in loaded.runs]


def _run_facts(run: Run) -> RunFacts:
    ev, gen, ver = run.manifest.eval, run.generated_manifest.generate, run.generated_manifest.verify
    options = gen.options if gen is not None else {}
    versions: dict[str, str] = {}
    for section in (gen, ver, ev):
        if section is not None:
            versions.update(section.versions)
    shown = {
        "run": str(run.folder),
        "models": ", ".join(run.model_labels),
        "backend": _backend_fact(ev.backend) if ev is not None else "",
        "tasks": _tasks_fact(ev.tasks if ev is not None else {}, run.tasks),
        "prompt": _prompt_fact(ev.tasks) if ev is not None else "",
        "presentation": (json.dumps(ev.presentation, ensure_ascii=False, sort_keys=True)[:300]
                         if ev is not None and ev.presentation else ""),
        "verified_only": str(ev.verified_only) if ev is not None else "",
        "judgments": str(run.n_judgments),
        "generated": str(run.generated),
        "grammar": gen.grammar if gen is not None else "",
        "grammar_sha256": gen.grammar_sha256[:12] if gen is not None else "",
        "seed": "" if options.get("seed") is None else str(options["seed"]),
        "depths": ", ".join(str(d) for d in options["depths"]) if options.get("depths") else "",
        "per_depth": "" if options.get("per_depth") is None else str(options["per_depth"]),
        "controls": "" if options.get("controls") is None else str(options["controls"]),
        "verified_by": (ver.rule or "") if ver is not None else "",
        "benepar": _benepar_fact(ver),
        "versions": ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
    }
    written = {"eval": _as_written(ev), "generate": _as_written(gen), "verify": _as_written(ver)}
    return RunFacts(str(run.folder), shown, tuple(_flatten(written)))


def _as_written(section: Section | None) -> dict[str, Any]:
    """A manifest section with the keys its file holds (defaults the file left out are not listed)."""
    return section.model_dump(mode="python", exclude_unset=True) if section is not None else {}


def _backend_fact(backend: Mapping[str, Any]) -> str:
    """``fake (accuracy=0.97, seed=0)`` from the eval manifest's backend fingerprint."""
    name = " ".join(str(backend[k]) for k in ("backend", "model") if backend.get(k))
    options = backend.get("options") or {}
    shown = ", ".join(f"{k}={v}" for k, v in sorted(options.items()) if v not in (None, "", False))
    return f"{name} ({shown})" if shown else name


def _tasks_fact(manifest_tasks: Mapping[str, Any], judged: Sequence[str]) -> str:
    """The tasks found in judgments.jsonl, with the verdict rule the manifest gives for each."""
    parts = []
    for name in judged:
        task = manifest_tasks.get(name)
        rule = task.get("verdict_by") if isinstance(task, Mapping) else None
        parts.append(f"{name} (verdict by {rule})" if rule else name)
    return "; ".join(parts)


def _prompt_fact(tasks: Mapping[str, Any]) -> str:
    """Prompt file and hash per prompted task (the full text is in the manifest details)."""
    parts = []
    for name, facts in tasks.items():
        prompt = facts.get("prompt") if isinstance(facts, Mapping) else None
        if isinstance(prompt, Mapping):
            parts.append(f"{name}: {Path(str(prompt.get('path', ''))).name} "
                         f"(sha256 {str(prompt.get('sha256', ''))[:12]})")
    return "; ".join(parts)


def _benepar_fact(verify: VerifySection | None) -> str:
    """What the verify manifest says about the constituency parser."""
    if verify is None:
        return "no verification"
    info = verify.parsers.get("benepar") or {}
    if info.get("ran"):
        return f"ran: {info.get('model') or 'model'}"
    return "not available" + (f" ({info['reason']})" if info.get("reason") else "")
