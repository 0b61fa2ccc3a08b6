"""`depthkit report`: read eval runs, analyse them, and write figures, tables, report.html and report.md.

:func:`build_report` is the library entry point (the CLI and ``depthkit demo`` call it)::

    from depthkit.report import build_report
    html = build_report(["runs/smollm2"], "reports/object-rc", threshold=0.6)

The numbers come from :mod:`depthkit.analysis`; this package reads, draws, words and writes:
:mod:`~depthkit.report.load` (the run folders) · :mod:`~depthkit.report.facts` (manifest facts shown) ·
:mod:`~depthkit.report.narrative` (the findings in words) · :mod:`~depthkit.report.display` (tables as
text) · :mod:`~depthkit.report.figures` (PNG and SVG) · :mod:`~depthkit.report.sections` (what the
report says, in order) · :mod:`~depthkit.report.render` (HTML and Markdown) ·
:mod:`~depthkit.report.tables` (the CSVs) · :mod:`~depthkit.report.write` (the whole folder).
"""

from __future__ import annotations

from .figures import Figure, draw_figures
from .load import Loaded, Run, load_runs
from .tables import TABLE_FILES
from .write import Report, build_report, write_report

__all__ = ["TABLE_FILES", "Figure", "Loaded", "Report", "Run", "build_report", "draw_figures", "load_runs",
           "write_report"]
