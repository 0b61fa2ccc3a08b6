"""Drawing helpers shared by the report's figures: the Agg canvas, panel grids, legends, palettes, saving."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIGURE_DPI = 120


@dataclass(frozen=True)
class Figure:
    """One drawn figure: its file stem, title, caption and the PNG and SVG written."""

    name: str
    title: str
    caption: str
    png: Path
    svg: Path


def wrap(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def grid(n: int, width: float = 4.8, height: float = 4.2, max_cols: int = 2, legend: float = 2.8):
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


def integer_depths(ax, depths: Iterable[int]) -> None:
    depths = sorted({int(d) for d in depths})
    if depths:
        ax.set_xticks(depths)
        ax.set_xlim(depths[0] - 0.3, depths[-1] + 0.3)


def depth_panel(ax, depths: Iterable[int], xlabel: str, ylabel: str, title: str) -> None:
    """Finish a panel whose x axis is depth and whose y axis is a share (0 to 1)."""
    ax.set_ylim(-0.02, 1.02)
    integer_depths(ax, depths)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def chance_line(ax, level: float, label: str = "chance") -> None:
    ax.axhline(level, color="0.35", linestyle=":", linewidth=1.5, label=label)


def legend_outside(fig, axes) -> None:
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
        fig.legend(handles, [wrap(label, 34) for label in labels], loc="upper left", bbox_to_anchor=(1.0, 0.95),
                   frameon=False)


def save(fig, folder: Path, name: str, title: str, caption: str) -> Figure:
    fig.tight_layout()
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    fig.savefig(png, dpi=FIGURE_DPI, bbox_inches="tight")  # Agg renders the PNG, matplotlib's SVG backend the SVG
    fig.savefig(svg, bbox_inches="tight")
    return Figure(name, title, caption, png, svg)


def palette_for(values: Iterable[str]) -> dict[str, Any]:
    import seaborn as sns

    values = sorted(set(values))
    colours = sns.color_palette("colorblind", max(len(values), 1))
    return {v: colours[i % len(colours)] for i, v in enumerate(values)}


__all__ = ["FIGURE_DPI", "Figure", "chance_line", "depth_panel", "grid", "integer_depths", "legend_outside", "palette_for", "save", "wrap"]
