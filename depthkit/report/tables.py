"""The report's CSV tables: which analysis table goes to which file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..analysis import Analysis

TABLE_FILES = {
    "accuracy": "accuracy_by_depth.csv",
    "controls": "controls_by_depth.csv",
    "breaking": "breaking_depth.csv",
    "regression": "regression.csv",
    "verified": "verified_vs_all.csv",
    "parsers": "parser_agreement.csv",
    "critical": "critical_differences.csv",
    "tasks": "task_comparison.csv",
    "judgments": "judgments_joined.csv",
    "ladder": "ladder_pairs.csv",
    "conditions": "accuracy_by_condition.csv",
    "contrasts": "condition_contrasts.csv",
    "collinearity": "collinearity.csv",
    "match": "control_match.csv",
    "bias": "answer_bias.csv",
    "suites": "suites.csv",
    "references": "references.csv",
}


def report_tables(analysis: Analysis) -> dict[str, pd.DataFrame]:
    """The tables written as CSV, by :data:`TABLE_FILES` name (regression: the plain and the grouped fits)."""
    regression = pd.concat([analysis.slopes, analysis.mixed], ignore_index=True)
    joined = analysis.table.drop(columns=["source"]).copy()
    return {"accuracy": analysis.accuracy, "controls": analysis.controls, "breaking": analysis.breaking,
            "regression": regression, "verified": analysis.verified, "parsers": analysis.parsers,
            "critical": analysis.critical, "tasks": analysis.tasks, "judgments": joined, "ladder": analysis.ladder,
            "conditions": analysis.conditions, "contrasts": analysis.contrasts, "collinearity": analysis.collinearity,
            "match": analysis.match, "bias": analysis.bias, "suites": analysis.suites,
            "references": analysis.references}


def write_tables(tables: dict[str, pd.DataFrame], out: Path) -> dict[str, Path]:
    """Write each table to ``out`` as CSV; returns the paths by name."""
    paths = {}
    for name, frame in tables.items():
        paths[name] = out / TABLE_FILES[name]
        frame.to_csv(paths[name], index=False)
    return paths
