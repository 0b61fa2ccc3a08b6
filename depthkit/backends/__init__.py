"""Model backends: the contract (:mod:`.base`), the registry of spec strings (:mod:`.registry`), a call
cache any backend can sit behind (:mod:`.cache`), and the built-ins: ``fake``, ``hf``, ``embedded``,
``openai``. Importing this package imports no model library.
"""

from __future__ import annotations

from .base import Backend, Completion, Option, Prompt, ScoreRequest, TokenScores
from .registry import (ALIASES, BACKENDS, BUILTIN, DEFAULT_BACKEND, BackendInfo, backend_class, backend_entries,
                       get_backend, list_backends, parse_spec)

__all__ = [
    "ALIASES", "BACKENDS", "BUILTIN", "Backend", "BackendInfo", "Completion", "DEFAULT_BACKEND", "Option", "Prompt",
    "ScoreRequest", "TokenScores", "backend_class", "backend_entries", "get_backend", "list_backends", "parse_spec",
]
