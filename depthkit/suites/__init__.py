"""External suites in: BLiMP paradigms and SyntaxGym test suites as generated folders.

``depthkit import blimp FILE.jsonl... --out DIR`` (:func:`import_blimp`) and ``depthkit import
syntaxgym SUITE.json... --out DIR`` (:func:`import_syntaxgym`) write ``items.jsonl`` and a manifest
that ``eval``, ``verify`` and ``report`` take like any generated folder; ``depthkit eval DIR`` with no
``--task`` runs the suite's own measure (:func:`default_tasks`). See docs/suites.md.
"""

from __future__ import annotations

from .blimp import import_blimp, read_blimp
from .common import DEFAULT_TASKS, LICENCES, default_tasks
from .syntaxgym import import_syntaxgym, read_syntaxgym

IMPORTERS = {"blimp": import_blimp, "syntaxgym": import_syntaxgym}

__all__ = ["DEFAULT_TASKS", "IMPORTERS", "LICENCES", "default_tasks", "import_blimp", "import_syntaxgym", "read_blimp",
           "read_syntaxgym"]
