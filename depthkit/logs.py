"""depthkit's messages: one logger, ``logging.getLogger("depthkit")``; library code never prints.

Progress, notes and warnings go through :data:`logger`; data goes to stdout or files. The CLI calls
:func:`configure` once (plain lines on stderr); a notebook may call it too, or attach its own handler.
"""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("depthkit")


class _RedactSecrets(logging.Filter):
    """Passwords in URLs (``http://user:KEY@host``) never reach a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .errors import redact_secrets

        text = record.getMessage()
        clean = redact_secrets(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


logger.addFilter(_RedactSecrets())


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (pytest and notebooks replace it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # logging.StreamHandler.__init__ assigns it
        pass


def configure(level: int = logging.INFO) -> None:
    """Send depthkit's messages to stderr as plain lines (idempotent)."""
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


__all__ = ["configure", "logger"]
