"""The backend registry: model spec strings -> ready backends, and what `depthkit models list` shows.

Built-in backends are imported only when used; plugins join through the entry-point group
``depthkit.backends`` (``name = "package.module:BackendClass"``), see :mod:`depthkit.registry`.

Model spec strings (the ``--model`` option):

* ``None`` / ``""`` / ``"embedded"`` / ``"smollm2"`` — the embedded SmolLM2-135M default
* ``"hf:PATH_OR_HUB_ID"`` — a transformers causal LM (a bare local folder means the same)
* ``"openai:MODEL@http://host:port/v1"`` — an OpenAI-compatible server (``@URL`` sets ``base_url``)
* ``"fake"`` — deterministic scores for tests
* ``"NAME:MODEL"`` — any registered or plugin backend
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import BackendError, DepthkitError, UsageError
from ..registry import Registry
from .base import Backend, Option

ENTRY_POINT_GROUP = "depthkit.backends"
DEFAULT_BACKEND = "embedded"

BUILTIN: dict[str, str] = {
    "embedded": "depthkit.backends.embedded:EmbeddedBackend",
    "hf": "depthkit.backends.hf:HFBackend",
    "openai": "depthkit.backends.openai:OpenAIBackend",
    "fake": "depthkit.backends.fake:FakeBackend",
}
ALIASES: dict[str, str] = {"smollm2": "embedded", "default": "embedded"}

BACKENDS: Registry[Backend] = Registry(
    "backend", Backend, ENTRY_POINT_GROUP, BUILTIN, aliases=ALIASES,
    unknown_fix=lambda names: f"known backends: {', '.join(sorted(names))}; write e.g. --model hf:PATH or --model fake",
    install_fix="install what it needs (`depthkit models list` says what)", load_error=BackendError)


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


def backend_entries() -> dict[str, tuple[str, str]]:
    """name -> ("module:Class", source), built-ins first, then entry-point plugins."""
    return {name: (e.target, e.source) for name, e in BACKENDS.entries().items()}


def backend_class(name: str) -> type[Backend]:
    """The class registered under ``name`` (or an alias); a clear error for unknown names."""
    return BACKENDS.get(name)


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
        raise UsageError(f"model spec {spec!r} has no backend name", fix="write NAME:MODEL, e.g. hf:gpt2")
    return ALIASES.get(name, name), rest or None


def get_backend(spec: str | Backend | None = None, **options: Any) -> Backend:
    """A ready backend for a model spec (see the module docstring); options are validated.

    ``"openai:MODEL@URL"`` becomes model ``MODEL`` with option ``base_url=URL`` for any
    backend that has a ``base_url`` option.
    """
    if isinstance(spec, Backend):
        if options:
            raise UsageError("options were given with an already-made backend",
                             fix="pass options when making the backend, or pass a spec string")
        return spec
    name, model = parse_spec(spec)
    cls = backend_class(name)
    if model and "@" in model and "base_url" in cls.options:
        # the address starts at the first '@' before http(s):// (it may hold user:password@ itself)
        at = model.find("@http") if "@http" in model else model.rfind("@")
        model, url = model[:at], model[at + 1:]
        if "base_url" in options and options["base_url"] != url:
            raise UsageError(f"two server addresses given: {url} (in --model) and {options['base_url']} (option)",
                             fix="give the address once")
        options["base_url"] = url
    return cls(model or None, **options)


def list_backends() -> list[BackendInfo]:
    """Every registered backend, with what it needs and whether it can run here."""
    out = []
    for name, entry in BACKENDS.entries().items():
        aliases = BACKENDS.aliases_of(name)
        default = name == DEFAULT_BACKEND
        try:
            cls = BACKENDS.load(entry)
        except DepthkitError as exc:
            out.append(BackendInfo(name, entry.target, entry.source, aliases, problem=exc.message, default=default))
            continue
        try:
            problem = cls.unavailable()
            note = cls.status_note()
        except Exception as exc:  # a plugin's check must not break the listing
            problem, note = f"availability check failed: {exc}", None
        out.append(BackendInfo(name, entry.target, entry.source, aliases, cls.description, cls.requires,
                               dict(cls.options), problem, default, note))
    return out


__all__ = ["ALIASES", "BACKENDS", "BUILTIN", "BackendInfo", "DEFAULT_BACKEND", "ENTRY_POINT_GROUP", "backend_class",
           "backend_entries", "get_backend", "list_backends", "parse_spec"]
