"""depthkit's exceptions: each names the file, the line and the fix, and code branches on the type.

* :class:`UsageError` — an option or argument is wrong (the command line, a library call).
* :class:`InputError` — a file's content is wrong (grammar, items, verification, judgments, manifest,
  prompt, experiment); ``field`` names the key when one is to blame.
* :class:`StaleOutputError` — an output folder holds results made from other inputs or settings;
  ``--force`` (``force=True``) starts over.
* :class:`BackendError` — a model or server cannot be loaded, reached or understood.

All are :class:`DepthkitError`, which the CLI prints as one paragraph with exit code 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]*):([^/\s@]+)@")


def redact_secrets(text: str) -> str:
    """``text`` with the password of every URL replaced: ``http://user:KEY@host`` -> ``http://user:***@host``."""
    return _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", text)


@dataclass
class DepthkitError(Exception):
    """A problem with the user's input or set-up, reported without a traceback.

    ``path`` and ``line`` (1-based) locate the problem when it sits in a file;
    ``fix`` says what to do about it.
    """

    message: str
    path: str | Path | None = None
    line: int | None = None
    fix: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return redact_secrets(text)


@dataclass
class UsageError(DepthkitError):
    """An option or argument is wrong."""


@dataclass
class InputError(DepthkitError):
    """A file's content is wrong; ``field`` is the key to blame (dotted for nested keys), if one is."""

    field: str | None = None


@dataclass
class StaleOutputError(DepthkitError):
    """An output folder holds results made from other inputs or settings; ``force`` starts over."""


@dataclass
class BackendError(DepthkitError):
    """A model or server cannot be loaded, reached or understood."""


__all__ = ["BackendError", "DepthkitError", "InputError", "StaleOutputError", "UsageError", "redact_secrets"]
