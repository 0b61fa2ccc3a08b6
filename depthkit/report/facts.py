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

from .load import Loaded

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
    facts = []
    for run in loaded.runs:
        ev = run.manifest.get("eval") or {}
        gen = run.generated_manifest.get("generate") or {}
        ver = run.generated_manifest.get("verify") or {}
        options = gen.get("options") or {}
        tasks = ev.get("tasks") or ev.get("task")
        versions: dict[str, str] = {}
        for section in (gen, ver, ev):
            if isinstance(section.get("versions"), Mapping):
                versions.update({str(k): str(v) for k, v in section["versions"].items()})
        shown = {
            "run": str(run.folder),
            "models": ", ".join(run.model_labels),
            "backend": _backend_fact(ev),
            "tasks": _tasks_fact(tasks, run.tasks),
            "prompt": _prompt_fact(ev, tasks),
            "presentation": _first(ev, "presentation"),
            "verified_only": "" if ev.get("verified_only") is None else str(ev.get("verified_only")),
            "judgments": str(run.n_judgments),
            "generated": str(run.generated),
            "grammar": str(gen.get("grammar", "")),
            "grammar_sha256": str(gen.get("grammar_sha256", ""))[:12],
            "seed": "" if options.get("seed") is None else str(options.get("seed")),
            "depths": ", ".join(str(d) for d in options.get("depths", [])) if options.get("depths") else "",
            "per_depth": "" if options.get("per_depth") is None else str(options.get("per_depth")),
            "controls": "" if options.get("controls") is None else str(options.get("controls")),
            "verified_by": _first(ver, "rule", "verified_by", "policy"),
            "benepar": _benepar_fact(ver),
            "versions": ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
        }
        facts.append(RunFacts(str(run.folder), shown, tuple(_flatten({"eval": ev, "generate": gen, "verify": ver}))))
    return facts


def _backend_fact(ev: Mapping[str, Any]) -> str:
    """``fake (accuracy=0.97, seed=0)`` from the eval manifest's backend fingerprint (dict or text)."""
    backend = ev.get("backend") or ev.get("fingerprint")
    if isinstance(backend, Mapping):
        name = " ".join(str(backend[k]) for k in ("backend", "model") if backend.get(k))
        options = backend.get("options") or {}
        shown = ", ".join(f"{k}={v}" for k, v in sorted(options.items()) if v not in (None, "", False))
        return f"{name} ({shown})" if shown else name
    return "" if backend is None else str(backend)


def _tasks_fact(manifest_tasks: Any, judged: Sequence[str]) -> str:
    """The tasks found in judgments.jsonl, with the verdict rule the manifest gives for each."""
    facts = manifest_tasks if isinstance(manifest_tasks, Mapping) else {}
    parts = []
    for name in judged:
        task = facts.get(name)
        rule = task.get("verdict_by") if isinstance(task, Mapping) else None
        parts.append(f"{name} (verdict by {rule})" if rule else name)
    return "; ".join(parts)


def _prompt_fact(ev: Mapping[str, Any], tasks: Any) -> str:
    """Prompt file and hash per prompted task (the full text is in the manifest details)."""
    parts = []
    if isinstance(tasks, Mapping):
        for name, facts in tasks.items():
            prompt = facts.get("prompt") if isinstance(facts, Mapping) else None
            if isinstance(prompt, Mapping):
                parts.append(f"{name}: {Path(str(prompt.get('path', ''))).name} "
                             f"(sha256 {str(prompt.get('sha256', ''))[:12]})")
    return "; ".join(parts) or _first(ev, "prompt", "prompt_template", "prompts")


def _benepar_fact(verify: Mapping[str, Any]) -> str:
    """What the verify manifest says about the constituency parser."""
    if not verify:
        return "no verification"
    info = (verify.get("parsers") or {}).get("benepar") or {}
    if info.get("ran"):
        return f"ran: {info.get('model') or 'model'}"
    return "not available" + (f" ({info['reason']})" if info.get("reason") else "")


def _first(section: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = section.get(key)
        if value not in (None, "", [], {}):
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)[:300]
    return ""
