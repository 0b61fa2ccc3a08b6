"""depthkit: syntactic-depth stress tests for language models.

The pipeline, as plain functions (each command of the CLI calls one of them)::

    import depthkit
    grammar = depthkit.load_grammar("object-rc")
    items = depthkit.generate(grammar, depths="0-4", per_depth=12, seed=1, controls=True)
    judgments = depthkit.evaluate(items, "fake")              # items in memory, or a generated folder
    depthkit.verify("generated/object-rc")                     # a folder `depthkit generate` wrote
    depthkit.report(["generated/object-rc/runs/smollm2"], "reports/object-rc")

Records (:class:`Item`, :class:`Judgment`, :class:`VerificationRecord`, :class:`Manifest`) are the typed
lines of the files; errors are :class:`DepthkitError` and its kinds. See docs/architecture.md.
"""

from __future__ import annotations

from . import report, verify
from ._version import __version__
from .backends import get_backend
from .errors import BackendError, DepthkitError, InputError, StaleOutputError, UsageError
from .evaluation import EvalConfig, evaluate
from .generation import generate
from .grammar import load_grammar
from .schema import Item, Judgment, Manifest, VerificationRecord

__all__ = [
    "BackendError", "DepthkitError", "EvalConfig", "InputError", "Item", "Judgment", "Manifest", "StaleOutputError",
    "UsageError", "VerificationRecord", "__version__", "evaluate", "generate", "get_backend", "load_grammar", "report",
    "verify",
]
