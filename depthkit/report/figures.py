"""The report's figures (seaborn on matplotlib's Agg canvas), each written as PNG and SVG.

Every figure is drawn from the tables of an :class:`~depthkit.analysis.Analysis`; a figure the data
do not allow (no controls, no scores, no verification) is left out.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..analysis import Analysis
from ..tasks.info import chance_level, task_info, task_order
from .canvas import Figure, chance_line, depth_panel, grid, legend_outside, palette_for, save, wrap
from .display import CHECK_NAMES


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
        figures = []
        for draw in (_accuracy_figure, _condition_figure, _controls_figure, _heatmap_figure, _critical_figure,
                     _parser_figure, _suites_figure):
            figure = draw(analysis, folder)
            if figure is not None:
                figures.append(figure)
    return figures


def _chance(analysis: Analysis, task: str) -> float:
    return analysis.chance.get(task, chance_level(task))


SPLIT_CONSTRUCTIONS_ABOVE = 2  # more constructions than this: one panel per construction, or the lines pile up


def _logprob_task(task: str) -> bool:
    info = task_info(task)
    return info is not None and info.kind == "score" and not info.prompted


REFERENCE_MARKERS = {"humans": "*"}  # other reference models: a diamond


def _reference_markers(ax, analysis: Analysis, task: str, constructions: Iterable[str] | None) -> None:
    """Published reference points at the depth their paradigm matches (log-probability panels only)."""
    refs = analysis.references
    if refs.empty or not _logprob_task(task):
        return
    refs = refs[refs["match_construction"].notna()]
    if constructions is not None:
        refs = refs[refs["match_construction"].isin(list(constructions))]
    for r in refs.itertuples():
        ax.scatter([int(r.match_depth)], [r.accuracy], marker=REFERENCE_MARKERS.get(r.model, "D"), s=90, color="black",
                   zorder=5, label=f"{r.model}, {r.suite} {r.name} ({r.accuracy:.3f}, published)")


def _accuracy_figure(analysis: Analysis, folder: Path) -> Figure | None:
    import seaborn as sns

    acc = analysis.accuracy[analysis.accuracy["n"] > 0].copy()
    if acc.empty:
        return None
    tasks = task_order(acc["task"])
    palette = palette_for(acc["model"])
    constructions = sorted(acc["construction"].unique())
    split = len(constructions) > SPLIT_CONSTRUCTIONS_ABOVE
    panels = [(t, c) for t in tasks for c in constructions] if split else [(t, None) for t in tasks]
    fig, axes = grid(len(panels))
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
        chance_line(ax, chance, f"chance ({chance:g})")
        ax.axhline(analysis.threshold, color="#b2182b", linestyle="--", linewidth=1, alpha=0.7,
                   label=f"threshold ({analysis.threshold:g})")
        _reference_markers(ax, analysis, task, [construction] if construction is not None else None)
        depth_panel(ax, data["depth"], "embedding depth", "accuracy (test items)",
                    f"task: {task}" if construction is None else wrap(f"{task} — {construction}", 44))
    fig.suptitle("Accuracy vs embedding depth (shaded: Wilson 95% interval)", y=1.02, fontsize=13)
    legend_outside(fig, axes)
    caption = ("Each line is one model (colour) on one construction (line style and marker), by its task's lead "
               "verdict; shading is the Wilson 95% interval per depth; the dotted line is chance, the dashed line the "
               "breaking threshold.")
    if not analysis.references.empty:
        caption += (" Black markers: published accuracies (other models or humans) on a suite paradigm, at the depth "
                    "that paradigm matches.")
    return save(fig, folder, "accuracy_vs_depth", "Accuracy vs depth", caption)


def _controls_figure(analysis: Analysis, folder: Path) -> Figure | None:
    import seaborn as sns

    controls = analysis.controls
    if controls.empty:
        return None
    long = pd.concat([
        controls[["model", "task", "construction", "depth", f"accuracy_{k}", f"ci_low_{k}", f"ci_high_{k}"]]
        .rename(columns={f"accuracy_{k}": "accuracy", f"ci_low_{k}": "ci_low", f"ci_high_{k}": "ci_high"})
        .assign(items="deep test items" if k == "test" else "their structure-matched depth-0 controls")
        for k in ("test", "control")], ignore_index=True)
    palette = palette_for(long["model"])
    panels = sorted({(t, c) for t, c in zip(long["task"], long["construction"])},
                    key=lambda p: (task_order(long["task"]).index(p[0]), p[1]))
    fig, axes = grid(len(panels))
    for ax, (task, construction) in zip(axes, panels):
        data = long[(long["task"] == task) & (long["construction"] == construction)]
        sns.lineplot(data=data, x="depth", y="accuracy", hue="model", style="items", markers=True, palette=palette,
                     hue_order=sorted(palette), style_order=["deep test items", "their structure-matched depth-0 controls"],
                     errorbar=None, ax=ax, linewidth=2, markersize=7)
        for (model, items), series in data.groupby(["model", "items"]):
            series = series.sort_values("depth")
            ax.fill_between(series["depth"], series["ci_low"], series["ci_high"], color=palette[model], alpha=0.1,
                            linewidth=0)
        chance_line(ax, _chance(analysis, task))
        depth_panel(ax, data["depth"], "depth of the test item (controls: of the item they match)", "accuracy",
                    wrap(f"{task} — {construction}", 48))
    fig.suptitle("Deep items vs their structure-matched controls", y=1.02, fontsize=13)
    legend_outside(fig, axes)
    return save(fig, folder, "controls_vs_depth", "Deep items vs structure-matched controls",
                 "Solid: test items at each depth; dashed: the same items' own depth-0 controls (same condition; "
                 "subject-verb distance, attractors and length as far as the grammar allows: see the match table). "
                 "Whether a gap is reliable is in the paired table, not in these intervals.")


def _heatmap_figure(analysis: Analysis, folder: Path) -> Figure | None:
    import seaborn as sns

    acc = analysis.accuracy[analysis.accuracy["n"] > 0]
    if acc.empty:
        return None
    panels = sorted({(m, t) for m, t in zip(acc["model"], acc["task"])})
    n_constructions = acc["construction"].nunique()
    fig, axes = grid(len(panels), width=max(4.5, 0.9 * acc["depth"].nunique() + 3),
                      height=max(2.2, 0.6 * n_constructions + 1.6), max_cols=2, legend=0.4)
    for ax, (model, task) in zip(axes, panels):
        data = acc[(acc["model"] == model) & (acc["task"] == task)]
        table = data.pivot_table(index="construction", columns="depth", values="accuracy")
        table.index = [wrap(c, 26) for c in table.index]
        sns.heatmap(table, vmin=0, vmax=1, center=_chance(analysis, task), cmap="RdBu", annot=True,
                    fmt=".2f", linewidths=0.5, cbar_kws={"label": "accuracy"}, ax=ax)
        ax.set_xlabel("embedding depth")
        ax.set_ylabel("construction")
        ax.set_title(wrap(f"{model} — {task}", 48))
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle("Accuracy by construction and depth (blue above chance, red below)", y=1.02, fontsize=13)
    return save(fig, folder, "construction_depth_heatmap", "Construction x depth",
                 "Accuracy per construction (rows) and depth (columns); white is chance.")


def _critical_figure(analysis: Analysis, folder: Path) -> Figure | None:
    import seaborn as sns

    table = analysis.table
    data = table[(table["kind"] == "test") & table["crit_diff"].notna()]
    if data.empty:
        return None
    palette = palette_for(data["model"])
    panels = sorted({(t, c) for t, c in zip(data["task"], data["construction"])})
    fig, axes = grid(len(panels))
    for ax, (task, construction) in zip(axes, panels):
        cell = data[(data["task"] == task) & (data["construction"] == construction)]
        order = sorted(cell["depth"].unique())
        sns.boxplot(data=cell, x="depth", y="crit_diff", hue="model", order=order, hue_order=sorted(palette),
                    palette=palette, ax=ax, fliersize=2, linewidth=1)
        ax.axhline(0, color="0.3", linestyle=":", linewidth=1.5, label="no preference")
        ax.set_xlabel("embedding depth")
        ax.set_ylabel("log P(good) − log P(bad)\nin the critical region (nats)")
        ax.set_title(wrap(f"{task} — {construction}", 48))
    fig.suptitle("Critical-region log-probability difference by depth (above 0 = prefers the grammatical)",
                 y=1.02, fontsize=13)
    legend_outside(fig, axes)
    return save(fig, folder, "critical_difference_by_depth", "Critical-region log-prob differences",
                 "good_critical − bad_critical per test item: how strongly the model prefers the grammatical "
                 "variant where the pair differs. Boxes: quartiles; whiskers: 1.5 IQR.")


def _parser_figure(analysis: Analysis, folder: Path) -> Figure | None:
    import seaborn as sns

    parsers = analysis.parsers[analysis.parsers["n"] > 0]
    if parsers.empty:
        return None
    parsers = parsers.assign(parser=parsers["check"].map(lambda c: CHECK_NAMES.get(c, c)))
    palette = palette_for(parsers["parser"])
    constructions = sorted(parsers["construction"].unique())
    split = len(constructions) > SPLIT_CONSTRUCTIONS_ABOVE
    panels = [[c] for c in constructions] if split else [constructions]
    fig, axes = (grid(len(panels)) if split else grid(1, width=6.5, height=4.4))
    for ax, shown in zip(axes, panels):
        data = parsers[parsers["construction"].isin(shown)]
        sns.lineplot(data=data, x="depth", y="agreement", hue="parser", style="construction", markers=True,
                     palette=palette, hue_order=sorted(palette), style_order=constructions, errorbar=None, ax=ax,
                     linewidth=2, markersize=7)
        for (parser, _), series in data.groupby(["parser", "construction"]):
            series = series.sort_values("depth")
            ax.fill_between(series["depth"], series["ci_low"], series["ci_high"], color=palette[parser], alpha=0.12,
                            linewidth=0)
        depth_panel(ax, data["depth"], "embedding depth", "agreement with the intended tree",
                    wrap(shown[0], 44) if split else "Parser agreement vs depth (test items; shaded: Wilson 95%)")
    if split:
        fig.suptitle("Parser agreement vs depth (test items; shaded: Wilson 95%)", y=1.02, fontsize=13)
    legend_outside(fig, axes)
    caption = ("How often each verification check agreed with the tree the grammar intended. Items the check did "
               "not decide (not_run, error) are left out of the share.")
    if analysis.benepar_available is False:
        caption += " benepar has no line: no constituency model was available during verification."
    return save(fig, folder, "parser_agreement_vs_depth", "Parser agreement vs depth", caption)



def _condition_figure(analysis: Analysis, folder: Path) -> Figure | None:
    """Accuracy by condition for each model's lead task (the first in task order): one panel per construction."""
    import seaborn as sns

    cond = analysis.conditions
    if cond.empty:
        return None
    cond = cond[cond["n"] > 0]
    lead = {m: task_order(g["task"])[0] for m, g in cond.groupby("model")}
    cond = cond[[lead[m] == t for m, t in zip(cond["model"], cond["task"])]]
    if cond.empty:
        return None
    cond = cond.assign(attractors=cond["attractor_condition"].fillna("none"),
                       controller=cond["controller"].fillna("—").astype(str))
    # conditions side by side at each depth, so lines that coincide stay visible
    keys = sorted({(a, c) for a, c in zip(cond["attractors"], cond["controller"])})
    shift = {k: (i - (len(keys) - 1) / 2) * 0.04 for i, k in enumerate(keys)}
    cond = cond.assign(x=[d + shift[(a, c)] for d, a, c in zip(cond["depth"], cond["attractors"], cond["controller"])])
    panels = sorted({(m, t, c) for m, t, c in zip(cond["model"], cond["task"], cond["construction"])})
    palette = palette_for(cond["attractors"])
    fig, axes = grid(len(panels))
    for ax, (model, task, construction) in zip(axes, panels):
        data = cond[(cond["model"] == model) & (cond["task"] == task) & (cond["construction"] == construction)]
        sns.lineplot(data=data, x="x", y="accuracy", hue="attractors", style="controller", markers=True,
                     palette=palette, hue_order=sorted(palette), style_order=sorted(cond["controller"].unique()),
                     errorbar=None, ax=ax, linewidth=2, markersize=7)
        chance_line(ax, _chance(analysis, task))
        depth_panel(ax, data["depth"], "embedding depth", "accuracy (test items)",
                    wrap(f"{model} · {task} — {construction}", 48))
    fig.suptitle("Accuracy by condition: attractors (colour) and controller value (line style)", y=1.02, fontsize=13)
    legend_outside(fig, axes)
    return save(fig, folder, "accuracy_by_condition", "Accuracy by condition",
                 "Each model's lead task; colour: whether the noun between controller and target matches the "
                 "controller ('none' where no noun stands between them); line style: the controller's value; "
                 "conditions are set slightly apart at each depth. Each point rests on few items (see the table for "
                 "intervals and the paired contrasts).")


def _suites_figure(analysis: Analysis, folder: Path) -> Figure | None:
    """Suite paradigms: this report's accuracy per model (with interval), the depthkit match, published points."""
    suites = analysis.suites
    if suites.empty:
        return None
    rows = suites.drop_duplicates(["model", "task", "suite", "construction"])
    labels = sorted({f"{s}: {c}" for s, c in zip(rows["suite"], rows["construction"])})
    y = {label: i for i, label in enumerate(labels)}
    palette = palette_for(rows["model"])
    fig, axes = grid(1, width=7.5, height=max(2.5, 0.7 * len(labels) + 1.5))
    ax = axes[0]
    offsets = {m: (i - (len(palette) - 1) / 2) * 0.15 for i, m in enumerate(sorted(palette))}
    for r in rows.itertuples():
        at = y[f"{r.suite}: {r.construction}"] + offsets[r.model]
        ax.errorbar([r.accuracy], [at], xerr=[[r.accuracy - r.ci_low], [r.ci_high - r.accuracy]], fmt="o",
                    color=palette[r.model], capsize=3, label=f"{r.model} ({r.task})")
    for r in suites[suites["match_n"].fillna(0) > 0].itertuples():
        at = y[f"{r.suite}: {r.construction}"] + offsets[r.model]
        ax.scatter([r.match_accuracy], [at], marker="o", facecolors="none", edgecolors=palette[r.model], s=80,
                   label=f"{r.model}: depthkit match ({r.match_task})")
    for r in analysis.references.itertuples():
        label = f"{r.suite}: {r.name}"
        if label in y:
            ax.scatter([r.accuracy], [y[label]], marker=REFERENCE_MARKERS.get(r.model, "D"), color="black", s=70,
                       zorder=5, label=f"published: {r.model}")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels([wrap(label, 40) for label in labels])
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("accuracy")
    ax.axvline(0.5, color="0.35", linestyle=":", linewidth=1.2)
    ax.invert_yaxis()
    fig.suptitle("External suites (bars: Wilson 95% interval)", y=1.02, fontsize=13)
    legend_outside(fig, axes)
    return save(fig, folder, "suites", "External suites",
                 "Filled: this report's accuracy on each imported paradigm; hollow: the same model on the matching "
                 "depthkit grammar and depth; black: published accuracies when asked for (--reference).")
