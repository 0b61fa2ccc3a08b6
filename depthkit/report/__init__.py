"""`depthkit report`: read eval runs, analyse them, and write figures, tables, report.html and report.md.

:func:`build_report` is the library entry point (the CLI and ``depthkit demo`` call it)::

    from depthkit.report import build_report
    html = build_report(["runs/smollm2"], "reports/object-rc", threshold=0.6)

Reading files is :func:`load_runs`; the numbers come from :mod:`depthkit.analysis`; this module
only draws and writes. Every piece of text that comes from a grammar, an item, a model or a
manifest is HTML-escaped before it reaches report.html.
"""

from __future__ import annotations

import base64
import html
import json
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import DepthkitError
from ..store import (ITEMS_FILE, JUDGMENTS_FILE, MANIFEST_FILE, VERIFICATION_FILE, load_items, log,
                    package_versions, read_jsonl, read_manifest, sha256_file, update_manifest, write_text_atomic)

FIGURE_DPI = 120
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
}


# --------------------------------------------------------------------------- reading runs

@dataclass(frozen=True)
class Run:
    """One eval run folder and what it points at."""

    folder: Path
    generated: Path
    manifest: dict[str, Any]
    generated_manifest: dict[str, Any]
    n_judgments: int
    model_labels: tuple[str, ...]
    tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Loaded:
    """Everything read from disk for one report."""

    runs: tuple[Run, ...]
    judgments: list[dict[str, Any]]
    items: dict[tuple[str, str], dict[str, Any]]
    verification: dict[tuple[str, str], dict[str, Any]]
    notes: tuple[str, ...] = field(default=())


def _find_generated(run_dir: Path, manifest: Mapping[str, Any]) -> Path:
    """The generated folder a run read.

    Candidates, in order: the eval manifest's ``items`` path (as given, then relative to the run
    folder and its parent), then the run folder and its parents (``GENERATED/runs/MODEL``). When
    the manifest records the items' sha256, the first candidate whose items.jsonl matches wins.
    """
    section = manifest.get("eval") or {}
    named = section.get("items") or section.get("generated") or section.get("items_path")
    candidates: list[Path] = []
    if named:
        path = Path(str(named)).expanduser()
        for candidate in [path] if path.is_absolute() else [Path.cwd() / path, run_dir / path, run_dir.parent / path]:
            candidates.append(candidate.parent if candidate.name.endswith(".jsonl") else candidate)
    candidates += [run_dir, run_dir.parent, run_dir.parent.parent]
    found = [c.resolve() for c in candidates if (c / ITEMS_FILE).is_file()]
    if not found:
        where = ", ".join(str(c) for c in candidates)
        raise DepthkitError(f"cannot find the items this run judged (looked in: {where})", path=run_dir / MANIFEST_FILE,
                            fix="keep the generated folder where `depthkit eval` read it, or put its items.jsonl "
                                "next to judgments.jsonl")
    recorded = section.get("items_sha256")
    if recorded:
        for folder in found:
            if sha256_file(folder / ITEMS_FILE) == recorded:
                return folder
    return found[0]


def load_runs(run_dirs: Sequence[str | Path]) -> Loaded:
    """Read each run's judgments, the items and verification they refer to, and the manifests.

    A run folder is the ``--out`` of ``depthkit eval`` (judgments.jsonl + manifest.json); a folder
    holding items.jsonl and judgments.jsonl together also works. When the same model name
    appears in two runs over the same items, the run folder's name is added to tell them apart.
    """
    if not run_dirs:
        raise DepthkitError("no run folder given", fix="depthkit report runs/MODEL --out reports/NAME")
    runs: list[Run] = []
    judgments: list[dict[str, Any]] = []
    items: dict[tuple[str, str], dict[str, Any]] = {}
    verification: dict[tuple[str, str], dict[str, Any]] = {}
    notes: list[str] = []
    seen_sources: set[str] = set()
    per_run: list[tuple[Path, list[dict[str, Any]], str]] = []
    seen_runs: set[Path] = set()
    for given in run_dirs:
        run_dir = Path(given)
        if run_dir.is_file() and run_dir.name == JUDGMENTS_FILE:
            run_dir = run_dir.parent
        if run_dir.resolve() in seen_runs:
            notes.append(f"{run_dir} was given more than once; it counts once")
            continue
        seen_runs.add(run_dir.resolve())
        if not run_dir.is_dir():
            raise DepthkitError("run folder not found", path=run_dir,
                                fix="give the --out folder of `depthkit eval` (it holds judgments.jsonl)")
        path = run_dir / JUDGMENTS_FILE
        if not path.is_file():
            raise DepthkitError("no judgments.jsonl in this folder", path=run_dir,
                                fix="run `depthkit eval ... --out FOLDER` first and pass that FOLDER")
        manifest = read_manifest(run_dir)
        status = (manifest.get("eval") or {}).get("status")
        if status not in (None, "complete"):
            notes.append(f"the eval run in {run_dir} is not complete (status: {status}): its curves use the judgments "
                         "written so far; run the same `depthkit eval` command again to finish it")
        generated = _find_generated(run_dir, manifest)
        source = str(generated)
        records = _read_judgments(path)
        short = _missing_judgments_note(manifest, len(records), path)
        if short:
            log(f"warning: {short}")
            notes.append(short)
        per_run.append((run_dir, records, source))
        if source not in seen_sources:
            seen_sources.add(source)
            for item in load_items(generated):
                items[(source, item["id"])] = item
            vpath = generated / VERIFICATION_FILE
            stale = vpath.is_file() and _verification_is_stale(generated)
            if stale:
                note = (f"{vpath} is from an earlier items.jsonl, so the report ignores it; run "
                        f"`depthkit verify {generated} --force`")
                log(f"warning: {note}")
                notes.append(note)
            if vpath.is_file() and not stale:
                for number, record in enumerate(read_jsonl(vpath), start=1):
                    if "item_id" not in record:
                        raise DepthkitError(f"verification record on line {number} has no 'item_id'", path=vpath,
                                            line=number, fix="re-run `depthkit verify` on the generated folder")
                    verification[(source, record["item_id"])] = {**record, "source": source}
        _check_items_unchanged(manifest, generated, run_dir)
        missing = sorted({r["item_id"] for r in records} - {i for s, i in items if s == source})
        if missing:
            raise DepthkitError(f"{len(missing)} judged items are not in {generated / ITEMS_FILE} "
                                f"(first: {missing[0]!r})", path=path,
                                fix="the generated folder changed after the run; re-run `depthkit eval` on it")
    labels = _model_labels(per_run)
    for run_dir, records, source in per_run:
        names = set()
        for record in records:
            label = labels[(str(run_dir), str(record.get("model", "")))]
            names.add(label)
            judgments.append({**record, "model": label, "run": str(run_dir), "source": source})
        for (folder, model), label in labels.items():
            if folder == str(run_dir) and label != model:
                notes.append(f"model '{model}' appears in several runs over the same items; "
                             f"this run's judgments are labelled '{label}'")
        runs.append(Run(folder=run_dir, generated=Path(source), manifest=read_manifest(run_dir),
                        generated_manifest=read_manifest(source), n_judgments=len(records),
                        model_labels=tuple(sorted(names)), tasks=tuple(sorted({str(r["task"]) for r in records}))))
    if not judgments:
        raise DepthkitError("the run folders hold no judgments", path=per_run[0][0] / JUDGMENTS_FILE,
                            fix="let `depthkit eval` finish (it resumes where it stopped)")
    return Loaded(tuple(runs), judgments, items, verification, tuple(notes))


def _verification_is_stale(generated: Path) -> bool:
    """Whether verification.jsonl was made for other items (the verify manifest records their sha256)."""
    settings = (read_manifest(generated).get("verify") or {}).get("settings") or {}
    recorded = settings.get("items_sha256") if isinstance(settings, Mapping) else None
    return bool(recorded) and recorded != sha256_file(generated / ITEMS_FILE)


def _missing_judgments_note(manifest: Mapping[str, Any], n_read: int, path: Path) -> str | None:
    """A note when a complete eval run recorded more (or fewer) judgments than judgments.jsonl holds."""
    section = manifest.get("eval") or {}
    counts = section.get("counts") if isinstance(section.get("counts"), Mapping) else {}
    recorded = counts.get("judgments")
    if section.get("status") != "complete" or not isinstance(recorded, int) or recorded == n_read:
        return None
    return (f"{path} holds {n_read} judgments but its complete eval run recorded {recorded}: the file was cut short "
            "or edited after the run, so these curves rest on the judgments found; run the same `depthkit eval` "
            "command again to fill in the missing ones")


def _check_items_unchanged(manifest: Mapping[str, Any], generated: Path, run_dir: Path) -> None:
    """The items file must be the one the run judged (eval records its sha256)."""
    recorded = (manifest.get("eval") or {}).get("items_sha256")
    if not recorded:
        return
    actual = sha256_file(generated / ITEMS_FILE)
    if actual != recorded:
        raise DepthkitError(f"{generated / ITEMS_FILE} changed after this run judged it (sha256 {actual[:12]}, "
                            f"the run recorded {str(recorded)[:12]})", path=run_dir / MANIFEST_FILE,
                            fix="re-run `depthkit eval` on the current items, or restore the items the run used")


def _read_judgments(path: Path) -> list[dict[str, Any]]:
    """Judgments keyed by (item, model, task); a record written twice (a resumed run) counts once, the last."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for number, record in enumerate(read_jsonl(path, allow_truncated_tail=True), start=1):
        for key in ("item_id", "model", "task", "correct"):
            if key not in record:
                raise DepthkitError(f"judgment on line {number} has no '{key}' field", path=path, line=number,
                                    fix="judgments.jsonl must be written by `depthkit eval` (see docs/schema.md)")
        if record["correct"] is not None and not isinstance(record["correct"], bool):
            raise DepthkitError(f"judgment on line {number}: 'correct' must be true, false or null", path=path,
                                line=number, fix="judgments.jsonl must be written by `depthkit eval`")
        latest[(str(record["item_id"]), str(record["model"]), str(record["task"]))] = record
    return list(latest.values())


def _model_labels(per_run: list[tuple[Path, list[dict[str, Any]], str]]) -> dict[tuple[str, str], str]:
    """Model label per (run, model): the model name, plus the run folder's name when it clashes."""
    owners: dict[tuple[str, str, str], list[str]] = {}
    for run_dir, records, source in per_run:
        for model, task in {(str(r.get("model", "")), str(r["task"])) for r in records}:
            owners.setdefault((source, model, task), []).append(str(run_dir))
    clashing = {(folder, model) for (source, model, task), folders in owners.items() if len(set(folders)) > 1
                for folder in folders}
    labels = {}
    for run_dir, records, source in per_run:
        for model in {str(r.get("model", "")) for r in records}:
            key = (str(run_dir), model)
            labels[key] = f"{model} ({run_dir.name})" if key in clashing else model
    return labels


# --------------------------------------------------------------------------- building

@dataclass(frozen=True)
class Report:
    """What :func:`write_report` wrote, and the analysis behind it."""

    html: Path
    markdown: Path
    tables: dict[str, Path]
    figures: tuple[Figure, ...]
    analysis: Any
    summary: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready facts (paths, breaking depths, plain-language summary) for ``--json``."""
        breaking = self.analysis.breaking
        return {
            "report": str(self.html), "markdown": str(self.markdown),
            "tables": {name: str(path) for name, path in self.tables.items()},
            "figures": [{"name": f.name, "png": str(f.png), "svg": str(f.svg)} for f in self.figures],
            "threshold": self.analysis.threshold,
            "breaking_depth": [
                {"model": r.model, "task": r.task, "construction": r.construction,
                 "breaking_depth": None if _missing(r.breaking_depth) else int(r.breaking_depth),
                 "max_depth": int(r.max_depth), "n_verdicts": int(r.n_verdicts)} for r in breaking.itertuples()],
            "summary": [{"heading": h, "text": t} for h, t in self.summary],
        }


def build_report(run_dirs: Sequence[str | Path], out: str | Path, threshold: float = 0.6,
                 title: str | None = None) -> Path:
    """Analyse ``run_dirs`` and write the report folder ``out``; returns the path of report.html.

    ``out`` receives report.html (self-contained), report.md, the CSV tables, figures/ (PNG and
    SVG) and manifest.json. Several runs (models, tasks, grammars) combine into one report.
    """
    return write_report(run_dirs, out, threshold, title).html


def write_report(run_dirs: Sequence[str | Path], out: str | Path, threshold: float = 0.6,
                 title: str | None = None) -> Report:
    """:func:`build_report`, returning everything written (for the CLI's ``--json``)."""
    from ..analysis import analyze, judgment_table
    from .narrative import summary

    if not 0 < threshold < 1:
        raise DepthkitError(f"--threshold {threshold} is not between 0 and 1", fix="e.g. --threshold 0.6")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DepthkitError("--out exists and is not a folder", path=out, fix="give a folder, e.g. reports/my-report")
    loaded = load_runs(run_dirs)
    log(f"report: {len(loaded.judgments)} judgments from {len(loaded.runs)} run(s); fitting and drawing")
    table = judgment_table(loaded.judgments, loaded.items, loaded.verification)
    analysis = analyze(table, loaded.verification.values(), threshold, _chance_from_manifests(loaded.runs),
                       progress=lambda message: log(f"report: {message}"))
    (out / "figures").mkdir(parents=True, exist_ok=True)
    tables = _write_tables(analysis, out)
    log("report: drawing figures")
    figures = draw_figures(analysis, out / "figures")
    title = title or _default_title(analysis)
    facts = _run_facts(loaded)
    html_path, md_path = out / "report.html", out / "report.md"
    write_text_atomic(html_path, render_html(analysis, figures, facts, loaded.notes, title, tables))
    write_text_atomic(md_path, render_markdown(analysis, figures, facts, loaded.notes, title, tables))
    update_manifest(out, "report", {
        "runs": [str(r.folder) for r in loaded.runs],
        "generated": sorted({str(r.generated) for r in loaded.runs}),
        "threshold": threshold,
        "title": title,
        "n_judgments": len(loaded.judgments),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "depthkit_version": __version__,
        "versions": package_versions(("depthkit", "numpy", "pandas", "scipy", "statsmodels", "matplotlib",
                                      "seaborn")),
    })
    log(f"report: wrote {html_path}")
    return Report(html_path, md_path, {name: out / TABLE_FILES[name] for name in tables}, tuple(figures), analysis,
                  tuple(summary(analysis)))


def _chance_from_manifests(runs: Iterable[Run]) -> dict[str, float]:
    chance: dict[str, float] = {}
    for run in runs:
        given = (run.manifest.get("eval") or {}).get("chance")
        if isinstance(given, Mapping):
            chance.update({str(k): float(v) for k, v in given.items() if isinstance(v, (int, float))})
    return chance


def _default_title(analysis) -> str:
    constructions = sorted(analysis.table["construction"].unique())
    models = sorted(analysis.table["model"].unique())
    what = ", ".join(constructions) if len(constructions) <= 2 else f"{len(constructions)} constructions"
    who = ", ".join(models) if len(models) <= 3 else f"{len(models)} models"
    return f"Accuracy vs depth: {what} — {who}"


def _write_tables(analysis, out: Path) -> dict[str, Any]:
    import pandas as pd

    regression = pd.concat([analysis.slopes, analysis.mixed], ignore_index=True)
    joined = analysis.table.drop(columns=["source"]).copy()
    frames = {"accuracy": analysis.accuracy, "controls": analysis.controls, "breaking": analysis.breaking,
              "regression": regression, "verified": analysis.verified, "parsers": analysis.parsers,
              "critical": analysis.critical, "tasks": analysis.tasks, "judgments": joined}
    for name, frame in frames.items():
        frame.to_csv(out / TABLE_FILES[name], index=False)
    return frames


# --------------------------------------------------------------------------- figures

@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    caption: str
    png: Path
    svg: Path


def _style():
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", font_scale=1.1)
    return sns


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


def draw_figures(analysis, folder: Path) -> list[Figure]:
    """All figures the data allow, as PNG and SVG in ``folder``."""
    import warnings

    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # seaborn's own deprecation notices about matplotlib are not the user's business
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        figures = [_accuracy_figure(analysis, folder)]
        for draw in (_controls_figure, _heatmap_figure, _critical_figure, _parser_figure):
            figure = draw(analysis, folder)
            if figure is not None:
                figures.append(figure)
    return figures


TASK_ORDER = ("minimal-pair", "forced-choice", "judgment")


def _task_order(tasks: Iterable[str]) -> list[str]:
    """Shipped tasks first (log-probabilities before prompts), then the rest alphabetically."""
    rank = {t: i for i, t in enumerate(TASK_ORDER)}
    return sorted(set(tasks), key=lambda t: (rank.get(t, len(rank)), t))


SPLIT_CONSTRUCTIONS_ABOVE = 2  # more constructions than this: one panel per construction, or the lines pile up


def _accuracy_figure(analysis, folder: Path) -> Figure:
    sns = _style()
    acc = analysis.accuracy[analysis.accuracy["n"] > 0].copy()
    tasks = _task_order(acc["task"]) or ["(none)"]
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
        chance = analysis.chance.get(task, 0.5)
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


def _controls_figure(analysis, folder: Path) -> Figure | None:
    sns = _style()
    import pandas as pd

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
                    key=lambda p: (_task_order(long["task"]).index(p[0]), p[1]))
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
        ax.axhline(analysis.chance.get(task, 0.5), color="0.35", linestyle=":", linewidth=1.5, label="chance")
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


def _heatmap_figure(analysis, folder: Path) -> Figure | None:
    sns = _style()
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
        sns.heatmap(grid, vmin=0, vmax=1, center=analysis.chance.get(task, 0.5), cmap="RdBu", annot=True,
                    fmt=".2f", linewidths=0.5, cbar_kws={"label": "accuracy"}, ax=ax)
        ax.set_xlabel("embedding depth")
        ax.set_ylabel("construction")
        ax.set_title(_wrap(f"{model} — {task}", 48))
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle("Accuracy by construction and depth (blue above chance, red below)", y=1.02, fontsize=13)
    return _save(fig, folder, "construction_depth_heatmap", "Construction x depth",
                 "Accuracy per construction (rows) and depth (columns); white is chance.")


def _critical_figure(analysis, folder: Path) -> Figure | None:
    sns = _style()
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


def _parser_figure(analysis, folder: Path) -> Figure | None:
    sns = _style()
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


# --------------------------------------------------------------------------- facts

def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        out: list[tuple[str, str]] = []
        for key in sorted(value, key=str):
            out.extend(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and all(not isinstance(v, (Mapping, list)) for v in value):
        return [(prefix, ", ".join(str(v) for v in value))]
    if isinstance(value, list):
        return [(prefix, json.dumps(value, ensure_ascii=False)[:500])]
    return [(prefix, "" if value is None else str(value))]


def _run_facts(loaded: Loaded) -> list[dict[str, Any]]:
    """Per run: the headline facts (model, backend, tasks, grammar, seed...) and every manifest entry."""
    facts = []
    for run in loaded.runs:
        ev = run.manifest.get("eval") or {}
        gen = run.generated_manifest.get("generate") or {}
        ver = run.generated_manifest.get("verify") or {}
        options = gen.get("options") or {}
        tasks = ev.get("tasks") or ev.get("task")
        versions: dict[str, str] = {}
        for section in (gen, ver, ev):
            if isinstance(section.get("versions"), Mapping):
                versions.update({str(k): str(v) for k, v in section["versions"].items()})
        facts.append({
            "run": str(run.folder),
            "models": ", ".join(run.model_labels),
            "backend": _backend_fact(ev),
            "tasks": _tasks_fact(tasks, run.tasks),
            "prompt": _prompt_fact(ev, tasks),
            "presentation": _first(ev, "presentation"),
            "verified_only": "" if ev.get("verified_only") is None else str(ev.get("verified_only")),
            "judgments": run.n_judgments,
            "generated": str(run.generated),
            "grammar": str(gen.get("grammar", "")),
            "grammar_sha256": str(gen.get("grammar_sha256", ""))[:12],
            "construction": str(gen.get("construction", "")),
            "seed": "" if options.get("seed") is None else str(options.get("seed")),
            "depths": ", ".join(str(d) for d in options.get("depths", [])) if options.get("depths") else "",
            "per_depth": "" if options.get("per_depth") is None else str(options.get("per_depth")),
            "controls": "" if options.get("controls") is None else str(options.get("controls")),
            "verified_by": _first(ver, "rule", "verified_by", "policy"),
            "benepar": _benepar_fact(ver),
            "versions": ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
            "manifest": _flatten({"eval": ev, "generate": gen, "verify": ver}),
        })
    return facts


def _backend_fact(ev: Mapping[str, Any]) -> str:
    """``fake (accuracy=0.97, seed=0)`` from the eval manifest's backend fingerprint (dict or text)."""
    backend = ev.get("backend") or ev.get("fingerprint")
    if isinstance(backend, Mapping):
        name = " ".join(str(backend[k]) for k in ("backend", "model") if backend.get(k))
        options = backend.get("options") or {}
        shown = ", ".join(f"{k}={v}" for k, v in sorted(options.items()) if v not in (None, "", False))
        return f"{name} ({shown})" if shown else name
    return "" if backend is None else str(backend)


def _tasks_fact(manifest_tasks: Any, judged: Sequence[str]) -> str:
    """The tasks found in judgments.jsonl, with the verdict rule the manifest gives for each."""
    facts = manifest_tasks if isinstance(manifest_tasks, Mapping) else {}
    parts = []
    for name in judged:
        task = facts.get(name)
        rule = task.get("verdict_by") if isinstance(task, Mapping) else None
        parts.append(f"{name} (verdict by {rule})" if rule else name)
    return "; ".join(parts)


def _prompt_fact(ev: Mapping[str, Any], tasks: Any) -> str:
    """Prompt file and hash per prompted task (the full text is in the manifest details)."""
    parts = []
    if isinstance(tasks, Mapping):
        for name, facts in tasks.items():
            prompt = facts.get("prompt") if isinstance(facts, Mapping) else None
            if isinstance(prompt, Mapping):
                parts.append(f"{name}: {Path(str(prompt.get('path', ''))).name} "
                             f"(sha256 {str(prompt.get('sha256', ''))[:12]})")
    return "; ".join(parts) or _first(ev, "prompt", "prompt_template", "prompts")


def _benepar_fact(verify: Mapping[str, Any]) -> str:
    """What the verify manifest says about the constituency parser."""
    if not verify:
        return "no verification"
    info = (verify.get("parsers") or {}).get("benepar") or {}
    if info.get("ran"):
        return f"ran: {info.get('model') or 'model'}"
    return "not available" + (f" ({info['reason']})" if info.get("reason") else "")


def _first(section: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = section.get(key)
        if value not in (None, "", [], {}):
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)[:300]
    return ""


FACT_HEADERS = [("run", "run folder"), ("models", "model"), ("backend", "backend"), ("tasks", "tasks"),
                ("prompt", "prompt"), ("presentation", "presentation"), ("verified_only", "verified items only"),
                ("judgments", "judgments"), ("grammar", "grammar"),
                ("grammar_sha256", "grammar sha256"), ("seed", "seed"), ("depths", "depths"),
                ("per_depth", "per depth"), ("controls", "controls"), ("generated", "items folder"),
                ("verified_by", "verification rule"), ("benepar", "constituency parser (benepar)"),
                ("versions", "versions")]


# --------------------------------------------------------------------------- display tables

def _missing(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other non-scalars
        return False


def _num(value: Any, digits: int = 2) -> str:
    return "—" if _missing(value) else f"{float(value):.{digits}f}"


def _ci(value: Any, low: Any, high: Any, digits: int = 2) -> str:
    if _missing(value):
        return "—"
    return f"{float(value):.{digits}f} [{float(low):.{digits}f}, {float(high):.{digits}f}]"


def _p(value: Any) -> str:
    if _missing(value):
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _count(value: Any) -> str:
    return "—" if _missing(value) else str(int(value))


@dataclass(frozen=True)
class Shown:
    """A table as the report shows it: text cells, which columns are labels, the CSV it comes from."""

    caption: str
    frame: Any
    labels: tuple[str, ...]
    csv: str | None = None


def display_accuracy(accuracy) -> Any:
    """Depth rows x (model · task) columns, each cell 'accuracy [CI] · n'."""
    import pandas as pd

    if accuracy.empty:
        return pd.DataFrame()
    acc = accuracy.copy()
    acc["series"] = acc["model"] + " · " + acc["task"]

    def cell(r) -> str:
        if r["n"] == 0:
            return "no verdicts"
        text = f"{_ci(r['accuracy'], r['ci_low'], r['ci_high'])} · n {int(r['n'])}"
        return text + (f" ({int(r['n_no_verdict'])} no verdict)" if r["n_no_verdict"] else "")

    acc["cell"] = acc.apply(cell, axis=1)
    wide = acc.pivot_table(index=["construction", "depth"], columns="series", values="cell", aggfunc="first")
    wide = wide.reset_index().fillna("—")
    wide.columns.name = None
    return wide


def display_breaking(breaking, threshold: float) -> Any:
    import pandas as pd

    rows = []
    for r in breaking.itertuples():
        found = not _missing(r.breaking_depth)
        rows.append({"model": r.model, "task": r.task, "construction": r.construction,
                     f"breaking depth (CI below {threshold:g})": (
                         f"{int(r.breaking_depth)} (already at the shallowest depth)"
                         if found and int(r.breaking_depth) == r.min_depth
                         else str(int(r.breaking_depth)) if found
                         else "no verdicts" if not r.n_verdicts else f"not reached (tested to {r.max_depth})"),
                     "accuracy there": _num(r.accuracy) if found else "—",
                     "CI upper bound": _num(r.ci_high) if found else "—"})
    return pd.DataFrame(rows)


def display_controls(controls) -> Any:
    import pandas as pd

    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth,
        "deep items": f"{_ci(r.accuracy_test, r.ci_low_test, r.ci_high_test)} · n {r.n_test}",
        "matched depth-0 controls":
            f"{_ci(r.accuracy_control, r.ci_low_control, r.ci_high_control)} · n {r.n_control}",
        "gap (controls − deep)": _num(r.gap)} for r in controls.itertuples()])


def display_regression(regression, depth_only: bool) -> Any:
    import math as _math

    import pandas as pd

    rows = []
    frame = regression[regression["term"] == "depth"] if depth_only else regression
    order = {"logit": 0, "firth logit": 0}
    frame = frame.assign(_order=frame["method"].map(lambda m: order.get(m, 1 if "mixed" in str(m) else 2)))
    frame = frame.sort_values(["model", "task", "construction", "_order"], kind="stable")
    for r in frame.itertuples():
        fitted = r.status not in ("skipped", "failed")
        row = {"model": r.model, "task": r.task, "construction": r.construction, "method": r.method}
        if not depth_only:
            row["term"] = r.term
        row.update({
            "odds ratio per unit [95% CI]":
                f"{r.odds_ratio:.2f} [{_math.exp(r.ci_low):.2f}, {_math.exp(r.ci_high):.2f}]" if fitted else "—",
            "coef (log-odds)": _ci(r.coef, r.ci_low, r.ci_high) if fitted else "—",
            "p": _p(r.p) if fitted else "—",
            "n": _count(r.n), "frames": _count(r.n_groups),
            "note": r.status if _missing(r.note) or not str(r.note) else str(r.note),
        })
        rows.append(row)
    return pd.DataFrame(rows)


def display_verified(verified) -> Any:
    import pandas as pd

    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth,
        "all items": f"{_ci(r.accuracy_all, r.ci_low_all, r.ci_high_all)} · n {r.n_all}",
        "verified only": (f"{_ci(r.accuracy_verified, r.ci_low_verified, r.ci_high_verified)} · n {r.n_verified}"
                          if r.n_verified else "none verified"),
        "unverified items": r.n_unverified_items} for r in verified.itertuples()])


CHECK_NAMES = {"grammar": "grammar chart parse", "spacy": "spaCy (dependency)", "benepar": "benepar (constituency)"}


def display_parsers(parsers) -> Any:
    import pandas as pd

    return pd.DataFrame([{
        "check": CHECK_NAMES.get(r.check, r.check), "construction": r.construction, "depth": r.depth,
        "agreement [95% CI]": _ci(r.agreement, r.ci_low, r.ci_high) if r.n else "—",
        "decided": r.n, "not run": r.n_not_run, "error": r.n_error} for r in parsers.itertuples()])


def display_critical(critical) -> Any:
    import pandas as pd

    with_target = "share_positive_target" in critical and critical["share_positive_target"].notna().any()
    rows = []
    for r in critical.itertuples():
        row = {"model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth, "n": r.n,
               "median [IQR] (nats)": f"{r.median:.2f} [{r.q25:.2f}, {r.q75:.2f}]", "mean": _num(r.mean),
               "critical region prefers good": _num(r.share_positive),
               "whole-sentence sum prefers good": _num(r.share_positive_sum)}
        if with_target:
            row["target words alone prefer good"] = _num(r.share_positive_target)
        rows.append(row)
    return pd.DataFrame(rows)


def display_glance(table) -> Any:
    import pandas as pd

    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction,
        "accuracy, shallowest": f"{r.accuracy_first:.2f} (depth {r.first_depth})",
        "accuracy, deepest": f"{r.accuracy_last:.2f} (depth {r.last_depth})",
        "odds ratio per level [95% CI]":
            "—" if _missing(r.odds_ratio) else f"{r.odds_ratio:.2f} [{r.or_low:.2f}, {r.or_high:.2f}]",
        "trend": r.trend,
        "breaking depth": "—" if _missing(r.breaking_depth) else str(int(r.breaking_depth)),
        "control gap, deepest": _num(r.control_gap_last)} for r in table.itertuples()])


def display_bias(bias) -> Any:
    import pandas as pd

    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "pairs": r.n,
        "accepts grammatical": _num(r.accept_good), "accepts ungrammatical": _num(r.accept_bad)}
        for r in bias.itertuples()])


def display_tasks(tasks) -> Any:
    import pandas as pd

    return pd.DataFrame([{
        "model": r.model, "construction": r.construction, "depth": r.depth, "task A": r.task_a, "task B": r.task_b,
        "items": r.n_shared, "accuracy A": _num(r.accuracy_a), "accuracy B": _num(r.accuracy_b),
        "both right": r.both_correct, "only A": r.only_a, "only B": r.only_b, "both wrong": r.both_wrong,
        "agreement": _num(r.agreement), "McNemar p": _p(r.mcnemar_p)} for r in tasks.itertuples()])


# --------------------------------------------------------------------------- sections

@dataclass(frozen=True)
class Section:
    id: str
    title: str
    text: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    tables: tuple[Shown, ...] = ()
    details: tuple[Shown, ...] = ()


LABELS = ("model", "task", "construction", "method", "term", "check", "task A", "task B", "note")


def _sections(analysis, figures: list[Figure], tables: dict[str, Any]) -> list[Section]:
    """The report's sections in order (shared by HTML and Markdown)."""
    fig = {f.name: f for f in figures}
    regression = tables["regression"]
    glm = regression[regression["method"].isin(["logit", "firth logit"])]
    grouped = regression[~regression["method"].isin(["logit", "firth logit"])]
    sections = [Section(
        "curve", "Accuracy vs depth",
        (f"Breaking depth: the smallest depth whose whole Wilson 95% interval lies below {analysis.threshold:g} "
         "(set with --threshold). Cells: accuracy [95% interval] · number of judgments with a verdict.",),
        (fig["accuracy_vs_depth"],),
        (Shown("Breaking depth", display_breaking(analysis.breaking, analysis.threshold), LABELS, "breaking"),
         Shown("Accuracy per depth (test items)", display_accuracy(analysis.accuracy), LABELS, "accuracy")))]
    if "controls_vs_depth" in fig:
        sections.append(Section(
            "controls", "Deep items vs length-matched controls",
            ("Each control is a depth-0 sentence matched to one test item in word count (and subject-verb distance as "
             "far as the grammar allows; each control's `match` records the differences); it is shown at the depth "
             "of the item it matches.",),
            (fig["controls_vs_depth"],),
            (Shown("Tests and their controls", display_controls(analysis.controls), LABELS, "controls"),)))
    else:
        sections.append(Section("controls", "Deep items vs length-matched controls",
                                ("These items have no controls: generate with --controls to separate depth from "
                                 "sentence length.",)))
    if "construction_depth_heatmap" in fig:
        sections.append(Section("heatmap", "Construction x depth", (), (fig["construction_depth_heatmap"],)))
    sections.append(Section(
        "regression", "The slope: logistic regression of correctness on depth",
        ("correct ~ depth + n_words (+ sv_distance where the grammar has agreement), fitted per model, task and "
         "construction on test items and their controls: controls enter at depth 0, which is what separates depth "
         "from length. An odds ratio below 1 means the odds of a correct verdict shrink with each extra level of "
         "depth, the other terms held fixed. Perfect separation is handled with Firth's penalized likelihood and "
         "flagged.",
         "With lexical frames as grouping (items differing only in their words share a frame): a mixed logit with a "
         "random intercept per frame, fitted by variational Bayes (statsmodels BinomialBayesMixedGLM; posterior mean, "
         "mean ± 1.96 posterior SD, normal-approximation p; its effects are conditional on the frame, so larger than "
         "the others; VB intervals tend to be too narrow), and a GEE logit with frame clusters (exchangeable "
         "correlation, robust standard errors). Items themselves cannot be the grouping: each item is judged once per "
         "model and task."),
        (),
        (Shown("Depth term, every model", display_regression(pd_concat([glm, grouped]), True), LABELS, "regression"),),
        (Shown("All terms", display_regression(pd_concat([glm, grouped]), False), LABELS, "regression"),)))
    notice = []
    if analysis.benepar_available is None:
        notice.append("No verification.jsonl was found next to these items (or only one made for an earlier "
                      "items.jsonl), so there is no verified-only comparison and no parser agreement. Run `depthkit "
                      "verify` on the generated folder.")
    elif analysis.benepar_available is False:
        notice.append("No constituency (benepar) model was available during verification: no item was checked against "
                      "a constituency parse, and 'verified' rests on the other checks only.")
    if not analysis.verified.empty:
        sections.append(Section("verified", "Verified-only vs all items", tuple(notice), (),
                                (Shown("Accuracy on all vs verified test items", display_verified(analysis.verified),
                                       LABELS, "verified"),)))
        notice = []
    parser_figures = (fig["parser_agreement_vs_depth"],) if "parser_agreement_vs_depth" in fig else ()
    parser_text = tuple(notice) + (("A parser that disagrees with the intended tree at depth 3 is data about the "
                                    "parser, not proof that the item is wrong.",) if parser_figures else ())
    parser_tables = (Shown("Agreement with the intended tree (test items)", display_parsers(analysis.parsers), LABELS,
                           "parsers"),) if not analysis.parsers.empty else ()
    sections.append(Section("parsers", "Parser agreement vs depth", parser_text, parser_figures, parser_tables))
    if "critical_difference_by_depth" in fig:
        sections.append(Section(
            "critical", "Critical-region log-probability differences",
            ("Shares of pairs preferring the grammatical variant: in the critical region (from the word where the pair "
             "differs to the end), on whole-sentence sums, and, where the judgments carry target scores, on the "
             "target words alone. For equal-length pairs that share everything before the target, the whole-sentence "
             "difference equals the critical-region difference, so those two shares agree; the target-only share "
             "leaves out the spillover onto the words that follow.",),
            (fig["critical_difference_by_depth"],),
            (Shown("good_critical − bad_critical", display_critical(analysis.critical), LABELS, "critical"),)))
    if not analysis.bias.empty:
        sections.append(Section(
            "bias", "Answer bias of prompted judgments",
            ("A prompted judgment is right only when the grammatical member is accepted and the ungrammatical one "
             "rejected. When both acceptance rates are high (or both low) the model answers from a bias, and its "
             "accuracy says little about grammar.",), (),
            (Shown("Acceptance rates (test items)", display_bias(analysis.bias), LABELS),)))
    if not analysis.tasks.empty:
        sections.append(Section(
            "tasks", "Task types on the same items",
            ("Two tasks judged the same items with the same model. The literature (Hu & Levy 2023; Hu et al. 2024) "
             "finds prompted judgments underestimate what minimal-pair log-probabilities show. McNemar p tests "
             "whether the two accuracies differ on these items.",), (),
            (Shown("Task comparison", display_tasks(analysis.tasks), LABELS, "tasks"),)))
    return sections


def pd_concat(frames):
    import pandas as pd

    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REGRESSION_COLUMNS)


REGRESSION_COLUMNS = ["model", "task", "construction", "method", "term", "coef", "se", "ci_low", "ci_high",
                      "odds_ratio", "p", "n", "n_groups", "status", "note"]


# --------------------------------------------------------------------------- HTML and Markdown

def html_table(shown: Shown) -> str:
    """An HTML table of text cells, every cell escaped; label columns left, numbers right."""
    frame = shown.frame
    if frame is None or frame.empty:
        return '<p class="empty">(no rows)</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row):
            text = "—" if _missing(value) else str(value)
            cls = "txt" if column in shown.labels else "num"
            cells.append(f'<td class="{cls}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _md(text: str) -> str:
    """Markdown renderers pass raw HTML through: names from grammars and models get its <, > and & escaped."""
    return html.escape(str(text), quote=False)


def markdown_table(shown: Shown) -> str:
    frame = shown.frame
    if frame is None or frame.empty:
        return "(no rows)\n"

    def esc(value: Any) -> str:
        return _md("—" if _missing(value) else str(value)).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(c) for c in frame.columns) + " |",
             "|" + "|".join("---" if c in shown.labels else "---:" for c in frame.columns) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(esc(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


FACT_HEADERS = [("run", "run folder"), ("models", "model"), ("backend", "backend"), ("tasks", "tasks"),
                ("prompt", "prompt"), ("presentation", "presentation"), ("verified_only", "verified items only"),
                ("judgments", "judgments"), ("grammar", "grammar"),
                ("grammar_sha256", "grammar sha256"), ("seed", "seed"), ("depths", "depths"),
                ("per_depth", "per depth"), ("controls", "controls"), ("generated", "items folder"),
                ("verified_by", "verification rule"), ("benepar", "constituency parser (benepar)"),
                ("versions", "versions")]


def _facts_table(facts: list[dict[str, Any]]) -> Shown:
    """Facts as rows, runs as columns (long values such as versions stay readable)."""
    import pandas as pd

    rows = [{"": label, **{f"run {i}": str(f[key]) for i, f in enumerate(facts, start=1)}}
            for key, label in FACT_HEADERS]
    frame = pd.DataFrame(rows)
    return Shown("Runs", frame, tuple(frame.columns))


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d1d1f;
background:#fff;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.7em;margin:.2em 0 .1em}h2{border-bottom:2px solid #e3e3e8;padding-bottom:4px;margin-top:2.2em}
h3{font-size:1.02em;margin:1.4em 0 .3em}
.meta{color:#555;font-size:.92em}
.summary{background:#f4f7fb;border-left:4px solid #2b6cb0;padding:6px 18px;margin:18px 0}
.summary p{margin:.7em 0}.summary b{display:block;color:#1a365d}
figure{margin:18px 0}figure img{max-width:100%;height:auto;border:1px solid #e3e3e8;background:#fff}
figcaption{color:#444;font-size:.92em;margin-top:4px}
.scroll{overflow-x:auto;margin:8px 0 18px}
table{border-collapse:collapse;font-size:.86em}
th,td{border:1px solid #dcdce2;padding:3px 8px;vertical-align:top}th{background:#f0f0f4;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.txt{text-align:left;max-width:26em}
tbody tr:nth-child(even){background:#fafafc}
.notice{background:#fff8e6;border-left:4px solid #d69e2e;padding:8px 14px}
details{margin:8px 0}summary{cursor:pointer;color:#2b6cb0}
.empty{color:#777;font-style:italic}nav{font-size:.92em}nav a{margin-right:12px;white-space:nowrap}
"""

NOTICE_STARTS = ("No constituency", "No verification", "These items have no")


def _img(figure: Figure) -> str:
    data = base64.b64encode(figure.png.read_bytes()).decode("ascii")
    return (f'<figure id="fig-{html.escape(figure.name)}"><img alt="{html.escape(figure.title)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{html.escape(figure.caption)} '
            f'(<a href="figures/{html.escape(figure.svg.name)}">SVG</a>, '
            f'<a href="figures/{html.escape(figure.png.name)}">PNG</a>)</figcaption></figure>')


def _table_heading(shown: Shown) -> str:
    esc = html.escape
    if shown.csv:
        name = TABLE_FILES[shown.csv]
        return f'<h3>{esc(shown.caption)} <small>(<a href="{esc(name)}">{esc(name)}</a>)</small></h3>'
    return f"<h3>{esc(shown.caption)}</h3>"


FOLD_FINDINGS_ABOVE = 8


def _summary_html(analysis) -> str:
    from ..analysis import glance
    from .narrative import headline, summary

    esc = html.escape
    findings = summary(analysis)
    body = "".join(f"<p><b>{esc(head)}</b>{esc(text)}</p>" for head, text in findings)
    if len(findings) > FOLD_FINDINGS_ABOVE:
        body = f"<details><summary>Every finding, curve by curve ({len(findings)})</summary>{body}</details>"
    at_a_glance = Shown("At a glance", display_glance(glance(analysis)), LABELS + ("trend",))
    return ('<h2 id="summary">What the curves show</h2><div class="summary">'
            + "".join(f"<p>{esc(line)}</p>" for line in headline(analysis))
            + f"<h3>At a glance</h3>{html_table(at_a_glance)}{body}</div>")


def render_html(analysis, figures: list[Figure], facts: list[dict[str, Any]], notes: Sequence[str], title: str,
                tables: dict[str, Any]) -> str:
    """The self-contained report page: figures embedded as base64 PNG, every text escaped."""
    esc = html.escape
    sections = _sections(analysis, figures, tables)
    tasks = ", ".join(sorted(analysis.table["task"].unique()))
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
             '<meta name="viewport" content="width=device-width, initial-scale=1">'
             f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>",
             f"<h1>{esc(title)}</h1>",
             f'<p class="meta">depthkit {esc(__version__)} · {len(analysis.table)} judgments · '
             f"{analysis.table['model'].nunique()} model(s) · tasks: {esc(tasks)} · "
             f"created {esc(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))}</p>",
             "<nav>" + '<a href="#summary">Summary</a> '
             + "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a> ' for s in sections)
             + '<a href="#runs">Runs and versions</a></nav>',
             _summary_html(analysis)]
    for note in notes:
        parts.append(f'<p class="notice">{esc(note)}</p>')
    for section in sections:
        parts.append(f'<h2 id="{esc(section.id)}">{esc(section.title)}</h2>')
        for text in section.text:
            cls = ' class="notice"' if text.startswith(NOTICE_STARTS) else ""
            parts.append(f"<p{cls}>{esc(text)}</p>")
        parts.extend(_img(figure) for figure in section.figures)
        for shown in section.tables:
            parts.append(_table_heading(shown) + html_table(shown))
        for shown in section.details:
            parts.append(f"<details><summary>{esc(shown.caption)}</summary>{html_table(shown)}</details>")
    parts.append('<h2 id="runs">Runs and versions</h2>')
    parts.append(html_table(_facts_table(facts)))
    for f in facts:
        rows = "".join(f'<tr><td class="txt">{esc(k)}</td><td class="txt">{esc(v)}</td></tr>' for k, v in f["manifest"])
        parts.append(f"<details><summary>Every manifest fact of {esc(f['run'])}</summary>"
                     f'<div class="scroll"><table>{rows}</table></div></details>')
    parts.append('<h2 id="method">How to read this report</h2><ul>'
                 "<li>Accuracy counts judgments with a verdict; judgments without one (correct = null) are left out "
                 "and counted separately.</li>"
                 "<li>Intervals on accuracies and agreement rates are Wilson 95% score intervals over items.</li>"
                 "<li>Chance: 0.5 for minimal-pair and forced-choice; 0.25 for judgment, which needs both yes/no "
                 "answers right (a coin gets both right a quarter of the time), 0.5 for judgment on items without an "
                 "ungrammatical twin (one answer); the eval manifest can override it.</li>"
                 f"<li>Files in this folder: {esc(', '.join(TABLE_FILES.values()))}, report.md, "
                 "figures/ (PNG and SVG), "
                 "manifest.json.</li></ul>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def render_markdown(analysis, figures: list[Figure], facts: list[dict[str, Any]], notes: Sequence[str], title: str,
                    tables: dict[str, Any]) -> str:
    """The same report as Markdown with the figures linked (for pasting into papers and READMEs)."""
    from ..analysis import glance
    from .narrative import headline, summary

    lines = [f"# {_md(title)}", "", f"depthkit {__version__} · {len(analysis.table)} judgments", "",
             "## What the curves show", ""]
    lines += [_md(" ".join(headline(analysis))), "", "### At a glance", "",
              markdown_table(Shown("At a glance", display_glance(glance(analysis)), LABELS + ("trend",)))]
    lines += [f"- **{_md(head)}.** {_md(text)}" for head, text in summary(analysis)] + [""]
    lines += [f"> {_md(note)}\n" for note in notes]
    for section in _sections(analysis, figures, tables):
        lines += [f"## {section.title}", ""]
        for text in section.text:
            lines += [_md(text), ""]
        for figure in section.figures:
            lines += [f"![{figure.title}](figures/{figure.png.name})", "", f"*{figure.caption}*", ""]
        for shown in section.tables + section.details:
            heading = f"### {shown.caption}" + (f" ({TABLE_FILES[shown.csv]})" if shown.csv else "")
            lines += [heading, "", markdown_table(shown)]
    lines += ["## Runs and versions", "", markdown_table(_facts_table(facts))]
    return "\n".join(lines) + "\n"
