"""The report's figures (seaborn on matplotlib's Agg canvas), each written as PNG and SVG.

Every figure is drawn from the tables of an :class:`~depthkit.analysis.Analysis`; a figure the data
do not allow (no controls, no scores, no verification) is left out.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis import Analysis
from ..tasks.info import chance_level, task_order
from .display import CHECK_NAMES

FIGURE_DPI = 120


@dataclass(frozen=True)
class Figure:
    """One drawn figure: its file stem, title, caption and the PNG and SVG written."""

    name: str
    title: str
    caption: str
    png: Path
    svg: Path


def _wrap(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _grid(n: int, width: float = 4.8, height: float = 4.2, max_cols: int = 2, legend: float = 2.8):
    """A figure with ``n`` panels on its own Agg canvas.

    No pyplot: the caller's matplotlib backend (a notebook's, say) is never touched. The canvas
    matters: without one, every text measurement seaborn makes renders the whole figure again
    (a 1 GB peak for a 6-panel heatmap).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    cols = min(n, max_cols)
    rows = math.ceil(n / cols)
    fig = MplFigure(figsize=(width * cols + legend, height * rows))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _integer_depths(ax, depths: Iterable[int]) -> None:
    depths = sorted({int(d) for d in depths})
    if depths:
        ax.set_xticks(depths)
        ax.set_xlim(depths[0] - 0.3, depths[-1] + 0.3)


def _legend_outside(fig, axes) -> None:
    """One legend for the figure, right of the plots; duplicate per-axes legends removed."""
    handles, labels, seen = [], [], set()
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in seen:
                seen.add(label)
                handles.append(h)
                labels.append(label)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if handles:
        fig.legend(handles, [_wrap(label, 34) for label in labels], loc="upper left", bbox_to_anchor=(1.0, 0.95),
                   frameon=False)


def _save(fig, folder: Path, name: str, title: str, caption: str) -> Figure:
    fig.tight_layout()
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    fig.savefig(png, dpi=FIGURE_DPI, bbox_inches="tight")  # Agg renders the PNG, matplotlib's SVG backend the SVG
    fig.savefig(svg, bbox_inches="tight")
    return Figure(name, title, caption, png, svg)


def _palette(values: Iterable[str]) -> dict[str, Any]:
    import seaborn as sns

    values = sorted(set(values))
    colours = sns.color_palette("colorblind", max(len(values), 1))
    return {v: colours[i % len(colours)] for i, v in enumerate(values)}


def draw_figures(analysis: Analysis, folder: Path) -> list[Figure]:
    """All figures the data allow, as PNG and SVG in ``folder``.

    The seaborn theme holds only while drawing: the caller's matplotlib settings are restored after.
    """
    import matplotlib
    import seaborn as sns

    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), matplotlib.rc_context():
        # seaborn's own deprecation notices about matplotlib are not the user's business
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.set_theme(style="whitegrid", context="notebook", font_scale=1.1)
        figures = [_accuracy_figure(analysis, folder)]
        for draw in (_controls_figure, _heatmap_figure, _critical_figure, _parser_figure):
            figure = draw(analysis, folder)
            if figure is not None:
                figures.append(figure)
    return figures


def _chance(analysis: Analysis, task: str) -> float:
    return analysis.chance.get(task, chance_level(task))


SPLIT_CONSTRUCTIONS_ABOVE = 2  # more constructions than this: one panel per construction, or the lines pile up


def _accuracy_figure(analysis: Analysis, folder: Path) -> Figure:
    import seaborn as sns

    acc = analysis.accuracy[analysis.accuracy["n"] > 0].copy()
    tasks = task_order(acc["task"]) or ["(none)"]
    palette = _palette(acc["model"])
    constructions = sorted(acc["construction"].unique())
    split = len(constructions) > SPLIT_CONSTRUCTIONS_ABOVE
    panels = [(t, c) for t in tasks for c in constructions] if split else [(t, None) for t in tasks]
    fig, axes = _grid(len(panels))
    for ax, (task, construction) in zip(axes, panels):
        data = acc[acc["task"] == task]
        if construction is not None:
            data = data[data["construction"] == construction]
        if not data.empty:
            sns.lineplot(data=data, x="depth", y="accuracy", hue="model", style="construction", markers=True,
                         dashes=True, palette=palette, style_order=constructions, hue_order=sorted(palette),
                         errorbar=None, ax=ax, markersize=7, linewidth=2)
            for (model, _), series in data.groupby(["model", "construction"]):
                series = series.sort_values("depth")
                ax.fill_between(series["depth"], series["ci_low"], series["ci_high"], color=palette[model],
                                alpha=0.15, linewidth=0)
        chance = _chance(analysis, task)
        if construction is not None and not data.empty and data["chance"].nunique() == 1:
            chance = float(data["chance"].iloc[0])  # this construction's own (items with or without a bad twin)
        ax.axhline(chance, color="0.35", linestyle=":", linewidth=1.5, label=f"chance ({chance:g})")
        ax.axhline(analysis.threshold, color="#b2182b", linestyle="--", linewidth=1, alpha=0.7,
                   label=f"threshold ({analysis.threshold:g})")
        ax.set_ylim(-0.02, 1.02)
        _integer_depths(ax, data["depth"])
        ax.set_xlabel("embedding depth")
        ax.set_ylabel("accuracy (test items)")
        ax.set_title(f"task: {task}" if construction is None else _wrap(f"{task} — {construction}", 44))
    fig.suptitle("Accuracy vs embedding depth (shaded: Wilson 95% interval)", y=1.02, fontsize=13)
    _legend_outside(fig, axes)
    return _save(fig, folder, "accuracy_vs_depth", "Accuracy vs depth",
                 "Each line is one model (colour) on one construction (line style and marker); shading is the "
                 "Wilson 95% interval per depth; the dotted line is chance, the dashed line the breaking threshold.")


def _controls_figure(analysis: Analysis, folder: Path) -> Figure | None:
    import seaborn as sns

    controls = analysis.controls
    if controls.empty:
        return None
    long = pd.concat([
        controls[["model", "task", "construction", "depth", f"accuracy_{k}", f"ci_low_{k}", f"ci_high_{k}"]]
        .rename(columns={f"accuracy_{k}": "accuracy", f"ci_low_{k}": "ci_low", f"ci_high_{k}": "ci_high"})
        .assign(items="deep test items" if k == "test" else "length-matched depth-0 controls")
        for k in ("test", "control")], ignore_index=True)
    palette = _palette(long["model"])
    panels = sorted({(t, c) for t, c in zip(long["task"], long["construction"])},
                    key=lambda p: (task_order(long["task"]).index(p[0]), p[1]))
    fig, axes = _grid(len(panels))
    for ax, (task, construction) in zip(axes, panels):
        data = long[(long["task"] == task) & (long["construction"] == construction)]
        sns.lineplot(data=data, x="depth", y="accuracy", hue="model", style="items", markers=True, palette=palette,
                     hue_order=sorted(palette), style_order=["deep test items", "length-matched depth-0 controls"],
                     errorbar=None, ax=ax, linewidth=2, markersize=7)
        for (model, items), series in data.groupby(["model", "items"]):
            series = series.sort_values("depth")
            ax.fill_between(series["depth"], series["ci_low"], series["ci_high"], color=palette[model], alpha=0.1,
                            linewidth=0)
        ax.axhline(_chance(analysis, task), color="0.35", linestyle=":", linewidth=1.5, label="chance")
        ax.set_ylim(-0.02, 1.02)
        _integer_depths(ax, data["depth"])
        ax.set_xlabel("depth of the test item (controls: of the item they match)")
        ax.set_ylabel("accuracy")
        ax.set_title(_wrap(f"{task} — {construction}", 48))
    fig.suptitle("Deep items vs their length-matched controls", y=1.02, fontsize=13)
    _legend_outside(fig, axes)
    return _save(fig, folder, "controls_vs_depth", "Deep items vs length-matched controls",
                 "Solid: test items at each depth; dashed: the depth-0 controls matched to them in word count "
                 "(and, as far as the grammar allows, subject-verb distance). A gap means depth, not length, costs "
                 "accuracy.")


def _heatmap_figure(analysis: Analysis, folder: Path) -> Figure | None:
    import seaborn as sns

    acc = analysis.accuracy[analysis.accuracy["n"] > 0]
    if acc.empty:
        return None
    panels = sorted({(m, t) for m, t in zip(acc["model"], acc["task"])})
    n_constructions = acc["construction"].nunique()
    fig, axes = _grid(len(panels), width=max(4.5, 0.9 * acc["depth"].nunique() + 3),
                      height=max(2.2, 0.6 * n_constructions + 1.6), max_cols=2, legend=0.4)
    for ax, (model, task) in zip(axes, panels):
        data = acc[(acc["model"] == model) & (acc["task"] == task)]
        grid = data.pivot_table(index="construction", columns="depth", values="accuracy")
        grid.index = [_wrap(c, 26) for c in grid.index]
        sns.heatmap(grid, vmin=0, vmax=1, center=_chance(analysis, task), cmap="RdBu", annot=True,
                    fmt=".2f", linewidths=0.5, cbar_kws={"label": "accuracy"}, ax=ax)
        ax.set_xlabel("embedding depth")
        ax.set_ylabel("construction")
        ax.set_title(_wrap(f"{model} — {task}", 48))
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle("Accuracy by construction and depth (blue above chance, red below)", y=1.02, fontsize=13)
    return _save(fig, folder, "construction_depth_heatmap", "Construction x depth",
                 "Accuracy per construction (rows) and depth (columns); white is chance.")


def _critical_figure(analysis: Analysis, folder: Path) -> Figure | None:
    import seaborn as sns

    table = analysis.table
    data = table[(table["kind"] == "test") & table["crit_diff"].notna()]
    if data.empty:
        return None
    palette = _palette(data["model"])
    panels = sorted({(t, c) for t, c in zip(data["task"], data["construction"])})
    fig, axes = _grid(len(panels))
    for ax, (task, construction) in zip(axes, panels):
        cell = data[(data["task"] == task) & (data["construction"] == construction)]
        order = sorted(cell["depth"].unique())
        sns.boxplot(data=cell, x="depth", y="crit_diff", hue="model", order=order, hue_order=sorted(palette),
                    palette=palette, ax=ax, fliersize=2, linewidth=1)
        ax.axhline(0, color="0.3", linestyle=":", linewidth=1.5, label="no preference")
        ax.set_xlabel("embedding depth")
        ax.set_ylabel("log P(good) − log P(bad)\nin the critical region (nats)")
        ax.set_title(_wrap(f"{task} — {construction}", 48))
    fig.suptitle("Critical-region log-probability difference by depth (above 0 = prefers the grammatical)",
                 y=1.02, fontsize=13)
    _legend_outside(fig, axes)
    return _save(fig, folder, "critical_difference_by_depth", "Critical-region log-prob differences",
                 "good_critical − bad_critical per test item: how strongly the model prefers the grammatical "
                 "variant where the pair differs. Boxes: quartiles; whiskers: 1.5 IQR.")


def _parser_figure(analysis: Analysis, folder: Path) -> Figure | None:
    import seaborn as sns

    parsers = analysis.parsers[analysis.parsers["n"] > 0]
    if parsers.empty:
        return None
    parsers = parsers.assign(parser=parsers["check"].map(lambda c: CHECK_NAMES.get(c, c)))
    palette = _palette(parsers["parser"])
    constructions = sorted(parsers["construction"].unique())
    split = len(constructions) > SPLIT_CONSTRUCTIONS_ABOVE
    panels = [[c] for c in constructions] if split else [constructions]
    fig, axes = (_grid(len(panels)) if split else _grid(1, width=6.5, height=4.4))
    for ax, shown in zip(axes, panels):
        data = parsers[parsers["construction"].isin(shown)]
        sns.lineplot(data=data, x="depth", y="agreement", hue="parser", style="construction", markers=True,
                     palette=palette, hue_order=sorted(palette), style_order=constructions, errorbar=None, ax=ax,
                     linewidth=2, markersize=7)
        for (parser, _), series in data.groupby(["parser", "construction"]):
            series = series.sort_values("depth")
            ax.fill_between(series["depth"], series["ci_low"], series["ci_high"], color=palette[parser], alpha=0.12,
                            linewidth=0)
        ax.set_ylim(-0.02, 1.02)
        _integer_depths(ax, data["depth"])
        ax.set_xlabel("embedding depth")
        ax.set_ylabel("agreement with the intended tree")
        ax.set_title(_wrap(shown[0], 44) if split else "Parser agreement vs depth (test items; shaded: Wilson 95%)")
    if split:
        fig.suptitle("Parser agreement vs depth (test items; shaded: Wilson 95%)", y=1.02, fontsize=13)
    _legend_outside(fig, axes)
    caption = ("How often each verification check agreed with the tree the grammar intended. Items the check did "
               "not decide (not_run, error) are left out of the share.")
    if analysis.benepar_available is False:
        caption += " benepar has no line: no constituency model was available during verification."
    return _save(fig, folder, "parser_agreement_vs_depth", "Parser agreement vs depth", caption)

