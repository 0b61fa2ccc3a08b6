"""Accuracy-versus-depth analysis: pure functions over pandas tables (numbers only).

The input is one row per judgment (:func:`judgment_table` joins judgments with their items and
verification); every other function takes that table (or another function's output) and returns
a new table. Nothing here reads files, draws, prints or writes prose (the report's sentences are
:mod:`depthkit.report.narrative`).

Conventions, stated once:

* A judgment whose ``correct`` is null (no verdict possible) is left out of ``n`` and counted
  in ``n_no_verdict``.
* Intervals on proportions are Wilson 95% score intervals.
* Controls (depth-0 items matched to a test item in word count and, as far as the grammar
  allows, subject-verb distance) are compared at the depth of the test item they match
  (``matched_depth``).
* Regressions are fitted per model x task x construction on test items *and* controls (controls
  enter at their real depth, 0): the controls are what separates depth from length.

Modules: :mod:`~depthkit.analysis.tables` (the joined table, accuracy, chance, breaking depth) ·
:mod:`~depthkit.analysis.intervals` (Wilson) · :mod:`~depthkit.analysis.comparisons` (controls,
verified-only, parsers, critical regions, tasks, answer bias) · :mod:`~depthkit.analysis.regression`
(logit, Firth, mixed VB, GEE) · :mod:`~depthkit.analysis.overview` (every table at once, one row per curve).
"""

from __future__ import annotations

from .comparisons import (CHECKS, answer_bias, check_available, control_comparison, critical_differences,
                          parser_agreement, task_comparison, verification_table, verified_comparison)
from .intervals import Z95, proportions, wilson_interval
from .overview import Analysis, analyze, glance
from .regression import (FIRTH_METHOD, GEE_METHOD, LOGIT_METHOD, MIXED_METHOD, SLOPE_COLUMNS, depth_slopes, firth_logit,
                         mixed_slopes)
from .tables import (CELL, CELL_DEPTH, COVARIATES, accuracy_table, breaking_depths, cell_chance, cell_rows,
                     judgment_table)

__all__ = [
    "CELL", "CELL_DEPTH", "CHECKS", "COVARIATES", "FIRTH_METHOD", "GEE_METHOD", "LOGIT_METHOD", "MIXED_METHOD",
    "SLOPE_COLUMNS", "Z95", "Analysis",
    "accuracy_table", "analyze", "answer_bias", "breaking_depths", "cell_chance", "cell_rows",
    "check_available", "control_comparison", "critical_differences", "depth_slopes", "firth_logit", "glance",
    "judgment_table", "mixed_slopes", "parser_agreement", "proportions", "task_comparison", "verification_table",
    "verified_comparison", "wilson_interval",
]
