"""The one exception type users see: it names the file, the line and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
        return text
