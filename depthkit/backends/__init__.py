"""Backend registry: model spec strings -> backend instances.

Built-in backends are listed as ``"module:Class"`` strings and imported only when used, so
``depthkit --help`` never imports torch. Third-party packages add backends through the
entry-point group ``depthkit.backends`` (``name = "package.module:BackendClass"``).

Model spec strings (the ``--model`` option):

* ``None`` / ``""`` / ``"embedded"`` / ``"smollm2"`` — the embedded SmolLM2-135M default
* ``"hf:PATH_OR_HUB_ID"`` — a transformers causal LM
* ``"openai:MODEL@http://host:port/v1"`` — an OpenAI-compatible server (``@URL`` sets ``base_url``)
* ``"fake"`` — deterministic scores for tests
* ``"NAME:MODEL"`` — any registered or plugin backend
"""

from __future__ import annotations

import difflib
import importlib
import os
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from ..errors import DepthkitError
from .base import Backend, Completion, Option, Prompt, ScoreRequest, TokenScores

ENTRY_POINT_GROUP = "depthkit.backends"
DEFAULT_BACKEND = "embedded"

BUILTIN: dict[str, str] = {
    "embedded": "depthkit.backends.embedded:EmbeddedBackend",
    "hf": "depthkit.backends.hf:HFBackend",
    "openai": "depthkit.backends.openai:OpenAIBackend",
    "fake": "depthkit.backends.fake:FakeBackend",
}
ALIASES: dict[str, str] = {"smollm2": "embedded", "default": "embedded"}


@dataclass(frozen=True)
class BackendInfo:
    """What `depthkit models list` shows about one backend."""

    name: str
    target: str  # "module:Class"
    source: str  # "built-in" or the plugin's distribution
    aliases: tuple[str, ...] = ()
    description: str = ""
    requires: str = ""
    options: dict[str, Option] = field(default_factory=dict)
    problem: str | None = None  # why it cannot run here (None: ready)
    default: bool = False
    note: str | None = None  # extra state worth showing (e.g. where converted weights live)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "default": self.default, "aliases": list(self.aliases), "source": self.source,
            "target": self.target, "description": self.description, "requires": self.requires,
            "available": self.problem is None, "problem": self.problem, "note": self.note,
            "options": {k: {"type": o.type.__name__, "default": o.default, "help": o.help, "secret": o.secret}
                        for k, o in self.options.items()},
        }


def registry() -> dict[str, tuple[str, str]]:
    """name -> ("module:Class", source), built-ins first, then entry-point plugins."""
    out = {name: (target, "built-in") for name, target in BUILTIN.items()}
    try:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a broken plugin distribution must not break depthkit
        eps = ()
    for ep in eps:
        if ep.name not in out:
            dist = getattr(getattr(ep, "dist", None), "name", None) or "plugin"
            out[ep.name] = (ep.value, dist)
    return out


def _import(name: str, target: str) -> type[Backend]:
    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except ModuleNotFoundError as exc:
        raise DepthkitError(f"backend '{name}' cannot be loaded: module {exc.name} is not installed",
                            fix=f"install what it needs (`depthkit models list` says what), target {target}") from None
    except (ImportError, AttributeError) as exc:
        raise DepthkitError(f"backend '{name}' cannot be loaded from {target}: {exc}",
                            fix="reinstall the package that provides it") from None
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise DepthkitError(f"backend '{name}' ({target}) is not a depthkit Backend subclass",
                            fix="a plugin's entry point must name a subclass of depthkit.backends.base.Backend")
    return cls


def backend_class(name: str) -> type[Backend]:
    """The class registered under ``name`` (or an alias); a clear error for unknown names."""
    name = ALIASES.get(name, name)
    known = registry()
    if name not in known:
        names = sorted(set(known) | set(ALIASES))
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise DepthkitError(f"unknown backend '{name}'{hint}",
                            fix=f"known backends: {', '.join(names)}; write e.g. --model hf:PATH or --model fake")
    return _import(name, known[name][0])


def parse_spec(spec: str | None) -> tuple[str, str | None]:
    """``"hf:gpt2"`` -> ("hf", "gpt2"); ``None`` -> the default backend."""
    if spec is None or not str(spec).strip():
        return DEFAULT_BACKEND, None
    spec = str(spec).strip()
    name, sep, rest = spec.partition(":")
    if not sep:
        if name not in ALIASES and name not in BUILTIN and os.path.isdir(name):
            return "hf", name  # a local model folder
        return ALIASES.get(name, name), None
    if not name:
        raise DepthkitError(f"model spec {spec!r} has no backend name", fix="write NAME:MODEL, e.g. hf:gpt2")
    return ALIASES.get(name, name), rest or None


def get_backend(spec: str | Backend | None = None, **options: Any) -> Backend:
    """A ready backend for a model spec (see the module docstring); options are validated.

    ``"openai:MODEL@URL"`` becomes model ``MODEL`` with option ``base_url=URL`` for any
    backend that has a ``base_url`` option.
    """
    if isinstance(spec, Backend):
        if options:
            raise DepthkitError("options were given with an already-made backend",
                                fix="pass options when making the backend, or pass a spec string")
        return spec
    name, model = parse_spec(spec)
    cls = backend_class(name)
    if model and "@" in model and "base_url" in cls.options:
        model, _, url = model.rpartition("@")
        if "base_url" in options and options["base_url"] != url:
            raise DepthkitError(f"two server addresses given: {url} (in --model) and {options['base_url']} (option)",
                                fix="give the address once")
        options["base_url"] = url
    return cls(model or None, **options)


def list_backends() -> list[BackendInfo]:
    """Every registered backend, with what it needs and whether it can run here."""
    out = []
    for name, (target, source) in registry().items():
        aliases = tuple(a for a, n in ALIASES.items() if n == name)
        try:
            cls = _import(name, target)
        except DepthkitError as exc:
            out.append(BackendInfo(name, target, source, aliases, problem=exc.message, default=name == DEFAULT_BACKEND))
            continue
        try:
            problem = cls.unavailable()
            note = cls.status_note() if hasattr(cls, "status_note") else None
        except Exception as exc:  # a plugin's check must not break the listing
            problem, note = f"availability check failed: {exc}", None
        out.append(BackendInfo(name, target, source, aliases, cls.description, cls.requires, dict(cls.options),
                               problem, name == DEFAULT_BACKEND, note))
    return out


__all__ = [
    "Backend", "BackendInfo", "Completion", "DEFAULT_BACKEND", "Option", "Prompt", "ScoreRequest", "TokenScores",
    "backend_class", "get_backend", "list_backends", "parse_spec", "registry",
]
