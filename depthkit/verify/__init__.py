"""`depthkit verify`: check that each generated item really has its intended structure.

Three independent checks per item: the generating grammar (chart parse, ambiguity), spaCy's
dependency parse and benepar's constituency parse. Notebook API::

    import depthkit
    summary = depthkit.verify("generated/object-rc")          # = depthkit.verify.verify_folder
    from depthkit.verify import load_verified_ids
    ids = load_verified_ids("generated/object-rc")

Modules: ``intended`` (what the generator meant) · ``chart_parse`` · ``spacy_check`` · ``brackets``
(a small evalb) · ``benepar_check`` · ``verdict`` (the rule) · ``summary`` · ``records`` (reading
verification.jsonl) · ``runner`` (:func:`verify_folder`). The public names load on first use, so
``from depthkit.verify import load_verified_ids`` does not import nltk, spaCy, torch or benepar.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..callable_module import make_callable

_HOME = {"verify_folder": "runner", "load_verified_ids": "records", "load_verification": "records",
         "format_summary": "summary", "RULE": "verdict", "download_benepar": "benepar_check"}

__all__ = list(_HOME)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:  # tab completion shows the lazy names too
    return sorted(set(globals()) | set(__all__))


make_callable(__name__, "verify_folder", ".runner")  # depthkit.verify(folder, ...) is verify_folder
