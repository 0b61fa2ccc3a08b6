"""Accuracy-versus-depth analysis: pure functions over pandas tables (numbers only).

The input is one row per judgment (:func:`judgment_table` joins judgments with their items and
verification); every other function takes that table (or another function's output) and returns
a new table. Nothing here reads files, draws, prints or writes prose (the report's sentences are
:mod:`depthkit.report.narrative`).

Conventions, stated once:

* A judgment whose ``correct`` is null (no verdict possible) is left out of ``n`` and counted
  in ``n_no_verdict``.
* Intervals on proportions are Wilson 95% score intervals; on paired differences Newcombe's
  method-10 interval.
* The depth slope is fitted on test items only; controls (depth-0 items matched to one test item
  in structure: condition, subject-verb distance, attractors, length as far as the grammar
  allows) are their own paired contrast, shown at the depth of the item they match.
* Sets (depth ladders) and target lemmas are the grouping factors; within a set, depths and
  conditions are compared pair by pair (exact McNemar tests).
* Every table of tests is one family for Holm's correction (``p_holm``); "reliable" means
  Holm-adjusted p < 0.05 and, for slopes, grouped fits pointing the same way.
* Imported suites (BLiMP, SyntaxGym) are kept out of the depth analysis and reported on their own.

Modules: :mod:`~depthkit.analysis.tables` (the joined table, accuracy, chance) ·
:mod:`~depthkit.analysis.intervals` (Wilson) · :mod:`~depthkit.analysis.paired` (controls, ladders,
conditions: paired counts, Newcombe, McNemar, Holm) · :mod:`~depthkit.analysis.breaking` (breaking
depth and power) · :mod:`~depthkit.analysis.design` (accuracy by condition, collinearity, control
match) · :mod:`~depthkit.analysis.regression` (logit, Firth) · :mod:`~depthkit.analysis.grouped`
(mixed VB, GEE) · :mod:`~depthkit.analysis.comparisons` (verified-only, parsers, critical regions,
tasks) · :mod:`~depthkit.analysis.prompted` (answer bias, one-answer tasks) ·
:mod:`~depthkit.analysis.suites` (external suites, reference points) ·
:mod:`~depthkit.analysis.overview` (every table at once, one row per curve).
"""

from __future__ import annotations

from .breaking import breaking_depths, detectable_accuracy, items_needed, wilson_upper
from .comparisons import (CHECKS, check_available, critical_differences, parser_agreement, task_comparison,
                          verification_table, verified_comparison)
from .design import collinearity, condition_accuracy, control_match
from .grouped import mixed_slopes
from .intervals import Z95, proportions, wilson_interval
from .overview import ALPHA, Analysis, analyze, glance, slope_trend
from .paired import (condition_contrasts, control_comparison, depth_pairs, holm, mcnemar_exact, pair_summary,
                     paired_difference_interval)
from .prompted import BIAS_FREE_VERDICTS, answer_bias, one_answer_cells
from .regression import (COLLINEAR_R, FIRTH_METHOD, GEE_METHOD, LOGIT_METHOD, MIXED_METHOD, SLOPE_COLUMNS, design,
                         depth_slopes, firth_logit)
from .suites import reference_table, suite_accuracy
from .tables import (CELL, CELL_DEPTH, COVARIATES, SUITE_KINDS, accuracy_table, cell_chance, cell_rows, depth_rows,
                     judgment_table, target_lemma)

__all__ = [
    "ALPHA", "BIAS_FREE_VERDICTS", "CELL", "CELL_DEPTH", "CHECKS", "COLLINEAR_R", "COVARIATES", "FIRTH_METHOD",
    "GEE_METHOD", "LOGIT_METHOD", "MIXED_METHOD", "SLOPE_COLUMNS", "SUITE_KINDS", "Z95", "Analysis",
    "accuracy_table", "analyze", "answer_bias", "breaking_depths", "cell_chance", "cell_rows", "check_available",
    "collinearity", "condition_accuracy", "condition_contrasts", "control_comparison", "control_match",
    "critical_differences", "depth_pairs", "depth_rows", "depth_slopes", "design", "detectable_accuracy",
    "firth_logit", "glance", "holm", "items_needed", "judgment_table", "mcnemar_exact", "mixed_slopes",
    "one_answer_cells", "pair_summary", "paired_difference_interval", "parser_agreement", "proportions",
    "reference_table", "slope_trend", "suite_accuracy", "target_lemma", "task_comparison", "verification_table",
    "verified_comparison", "wilson_interval", "wilson_upper",
]
