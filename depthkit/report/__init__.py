"""`depthkit report`: read eval runs, analyse them, and write figures, tables, report.html and report.md.

:func:`build_report` is the library entry point (the CLI and ``depthkit demo`` call it)::

    import depthkit
    html = depthkit.report(["runs/smollm2"], "reports/object-rc", threshold=0.6)   # = build_report

The numbers come from :mod:`depthkit.analysis`; this package reads, draws, words and writes:
:mod:`~depthkit.report.load` (the run folders) · :mod:`~depthkit.report.references` (the references file:
published points and suite matches) · :mod:`~depthkit.report.facts` (manifest facts shown) ·
:mod:`~depthkit.report.narrative` (the findings in words, curve by curve) · :mod:`~depthkit.report.beside`
(the words about the evidence beside the curves) · :mod:`~depthkit.report.display` (tables as text) ·
:mod:`~depthkit.report.figures` (PNG and SVG, drawn with :mod:`~depthkit.report.canvas`) ·
:mod:`~depthkit.report.sections` (what the report says, in order) · :mod:`~depthkit.report.render`
(HTML and Markdown) · :mod:`~depthkit.report.tables` (the CSVs) · :mod:`~depthkit.report.write` (the
whole folder).
"""

from __future__ import annotations

import importlib
from typing import Any

from ..callable_module import make_callable

_HOME = {"Figure": "figures", "draw_figures": "figures", "Loaded": "load", "Run": "load", "load_runs": "load",
         "References": "references", "load_references": "references", "TABLE_FILES": "tables", "Report": "write",
         "build_report": "write", "write_report": "write"}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:  # lazy: pandas and matplotlib load when a report is made, not on import
    if name in _HOME:
        return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


make_callable(__name__, "build_report", ".write")  # depthkit.report(runs, out, ...) is build_report
