"""The records a check writes when it did not decide an item (shared by the spaCy and benepar checks)."""

from __future__ import annotations

from typing import Any


def not_run(reason: str) -> dict[str, Any]:
    """The check was not run on this item (parser missing, skipped, or no check applies)."""
    return {"status": "not_run", "reason": reason}


def error(reason: str) -> dict[str, Any]:
    """The check raised on this item; the others in its batch still count."""
    return {"status": "error", "reason": reason}
