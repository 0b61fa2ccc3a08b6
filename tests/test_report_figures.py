"""Drawing the report's figures leaves the caller's matplotlib settings as they were."""

from __future__ import annotations

import _report_helpers as H

from depthkit.analysis import analyze, judgment_table
from depthkit.report import draw_figures, load_runs


def test_drawing_restores_matplotlib_settings(tmp_path):
    import matplotlib

    loaded = load_runs([H.RUN_WEAK])
    analysis = analyze(judgment_table(loaded.judgments, loaded.items, loaded.verification))
    before = dict(matplotlib.rcParams)
    figures = draw_figures(analysis, tmp_path / "figures")
    assert figures and all(f.png.is_file() and f.svg.is_file() for f in figures)
    assert dict(matplotlib.rcParams) == before  # seaborn's theme held only while drawing
