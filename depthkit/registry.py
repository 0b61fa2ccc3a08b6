"""Names -> classes, built in or from plugins: the one registry pattern (backends and tasks use it).

A :class:`Registry` maps names to ``"module:Class"`` targets. Built-in targets are imported only
when asked for, so ``depthkit --help`` never imports torch. Third-party packages add entries
through an entry-point group (``name = "package.module:Class"`` in their packaging metadata); a
built-in name always wins over a plugin of the same name. A broken plugin never breaks depthkit:
listing it is fine, and asking for it raises an error that says what is wrong.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Generic, TypeVar

from .errors import DepthkitError, UsageError

T = TypeVar("T")

BUILT_IN = "built-in"


@dataclass(frozen=True)
class Entry:
    """One registered name: where its class lives (``"module:Class"``) and who provides it."""

    name: str
    target: str
    source: str  # BUILT_IN or the plugin's distribution name


class Registry(Generic[T]):
    """Names of one kind of thing (``kind``: "backend", "task") mapped to subclasses of ``base``.

    ``builtin`` lists the built-in targets in their order (the order :meth:`names` keeps);
    ``aliases`` are other names for registered ones. ``unknown_fix`` turns the known names into
    the fix of the error for an unknown name; ``load_error`` is the error class for a target
    that cannot be imported.
    """

    def __init__(self, kind: str, base: type[T], group: str, builtin: Mapping[str, str], *,
                 aliases: Mapping[str, str] | None = None,
                 unknown_fix: Callable[[Sequence[str]], str] | None = None,
                 install_fix: str = "install what it needs",
                 load_error: type[DepthkitError] = DepthkitError):
        self.kind = kind
        self.base = base
        self.group = group
        self.builtin = dict(builtin)
        self.aliases = dict(aliases or {})
        self._unknown_fix = unknown_fix or (lambda names: f"known {kind}s: {', '.join(names)}")
        self._install_fix = install_fix
        self._load_error = load_error

    def entries(self) -> dict[str, Entry]:
        """Every registered name: built-ins first (in their order), then entry-point plugins."""
        out = {name: Entry(name, target, BUILT_IN) for name, target in self.builtin.items()}
        try:
            found = metadata.entry_points(group=self.group)
        except Exception:  # a broken plugin distribution must not break depthkit
            found = ()
        for ep in found:
            if ep.name not in out:
                dist = getattr(getattr(ep, "dist", None), "name", None) or "plugin"
                out[ep.name] = Entry(ep.name, ep.value, dist)
        return out

    def names(self) -> tuple[str, ...]:
        return tuple(self.entries())

    def canonical(self, name: str) -> str:
        """The registered name ``name`` stands for (itself unless it is an alias)."""
        return self.aliases.get(name, name)

    def aliases_of(self, name: str) -> tuple[str, ...]:
        return tuple(a for a, n in self.aliases.items() if n == name)

    def get(self, name: str) -> type[T]:
        """The class registered under ``name`` (or an alias); a :class:`UsageError` for an unknown name."""
        name = self.canonical(name)
        known = self.entries()
        if name not in known:
            names = list(known) + [a for a in self.aliases if a not in known]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UsageError(f"unknown {self.kind} '{name}'{hint}", fix=self._unknown_fix(names))
        return self.load(known[name])

    def load(self, entry: Entry) -> type[T]:
        """Import an entry's class and check that it is a subclass of ``base``."""
        module_name, _, attr = entry.target.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except ModuleNotFoundError as exc:
            raise self._load_error(f"{self.kind} '{entry.name}' cannot be loaded: module {exc.name} is not installed",
                                   fix=f"{self._install_fix}, target {entry.target}") from None
        except (ImportError, AttributeError) as exc:
            raise self._load_error(f"{self.kind} '{entry.name}' cannot be loaded from {entry.target}: {exc}",
                                   fix="reinstall the package that provides it") from None
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            where = f"{self.base.__module__}.{self.base.__qualname__}"
            raise self._load_error(f"{self.kind} '{entry.name}' ({entry.target}) is not a depthkit "
                                   f"{self.base.__qualname__} subclass",
                                   fix=f"a plugin's entry point must name a subclass of {where}")
        return cls

    def classes(self) -> dict[str, type[T]]:
        """The classes that load, by name (plugins that fail to load are left out)."""
        out = {}
        for name, entry in self.entries().items():
            try:
                out[name] = self.load(entry)
            except DepthkitError:
                continue
        return out


__all__ = ["BUILT_IN", "Entry", "Registry"]
