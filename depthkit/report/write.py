"""Writing a report folder: load the runs, analyse, draw, render, and record the report's manifest section."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._version import __version__
from ..analysis import Analysis, analyze, judgment_table
from ..errors import UsageError
from ..logs import logger
from ..schema import ReportSection
from ..store import make_folder, package_versions, save_section, write_text_atomic
from .display import missing
from .facts import run_facts
from .figures import Figure, draw_figures
from .load import load_runs
from .references import load_references
from .render import build_page, render_html, render_markdown
from .tables import report_tables, write_tables


@dataclass(frozen=True)
class Report:
    """What :func:`write_report` wrote, and the analysis behind it."""

    html: Path
    markdown: Path
    tables: dict[str, Path]
    figures: tuple[Figure, ...]
    analysis: Analysis
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
                 "breaking_depth": None if missing(r.breaking_depth) else int(r.breaking_depth),
                 "status": r.status, "max_depth": int(r.max_depth), "n_verdicts": int(r.n_verdicts),
                 "undecided_depths": [int(d) for d in str(r.undecided_depths).split()],
                 "detectable": None if missing(r.detectable) else float(r.detectable),
                 "underpowered": bool(r.underpowered)} for r in breaking.itertuples()],
            "one_answer": [{"model": r.model, "task": r.task, "construction": r.construction, "answer": r.answer,
                            "n_answers": int(r.n_answers)} for r in self.analysis.one_answer.itertuples()],
            "summary": [{"heading": h, "text": t} for h, t in self.summary],
        }


def build_report(run_dirs: Sequence[str | Path], out: str | Path, threshold: float = 0.6,
                 title: str | None = None, *, reference: bool = False,
                 reference_file: str | Path | None = None) -> Path:
    """Analyse ``run_dirs`` and write the report folder ``out``; returns the path of report.html.

    ``out`` receives report.html (self-contained), report.md, the CSV tables, figures/ (PNG and
    SVG) and manifest.json. Several runs (models, tasks, grammars) combine into one report.
    ``reference=True`` draws the published reference points of depthkit/data/references.yaml
    (``reference_file``: of that file instead, which also implies ``reference``).
    """
    return write_report(run_dirs, out, threshold, title, reference=reference, reference_file=reference_file).html


def write_report(run_dirs: Sequence[str | Path], out: str | Path, threshold: float = 0.6,
                 title: str | None = None, *, reference: bool = False,
                 reference_file: str | Path | None = None) -> Report:
    """:func:`build_report`, returning everything written (for the CLI's ``--json``)."""
    if not 0 < threshold < 1:
        raise UsageError(f"--threshold {threshold} is not between 0 and 1", fix="e.g. --threshold 0.6")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError("--out exists and is not a folder", path=out, fix="give a folder, e.g. reports/my-report")
    if reference_file is not None and not Path(reference_file).is_file():
        raise UsageError("the reference file was not found", path=reference_file,
                         fix="give a YAML file shaped like depthkit/data/references.yaml")
    references = load_references(reference_file)
    drawn = reference or reference_file is not None
    loaded = load_runs(run_dirs)
    logger.info(f"report: {len(loaded.judgments)} judgments from {len(loaded.runs)} run(s); fitting and drawing")
    table = judgment_table(loaded.judgments, loaded.items, loaded.verification)
    analysis = analyze(table, loaded.verification.values(), threshold, matches=references.matches,
                       references=references.points if drawn else (),
                       progress=lambda message: logger.info(f"report: {message}"))
    make_folder(out / "figures")
    tables = report_tables(analysis)
    paths = write_tables(tables, out)
    logger.info("report: drawing figures")
    figures = draw_figures(analysis, out / "figures")
    title = title or _default_title(analysis)
    facts = run_facts(loaded)
    html_path, md_path = out / "report.html", out / "report.md"
    page = build_page(analysis, figures, facts, loaded.notes, title, tables)
    write_text_atomic(html_path, render_html(page))
    write_text_atomic(md_path, render_markdown(page))
    save_section(out, "report", ReportSection(
        runs=[str(r.folder) for r in loaded.runs],
        generated=sorted({str(r.generated) for r in loaded.runs}),
        threshold=float(threshold),
        title=title,
        n_judgments=len(loaded.judgments),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        depthkit_version=__version__,
        versions=package_versions(("depthkit", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn")),
        references=str(references.path) if drawn else None,
    ))
    logger.info(f"report: wrote {html_path}")
    return Report(html_path, md_path, paths, tuple(figures), analysis, page.findings)


def _default_title(analysis: Analysis) -> str:
    own = ~analysis.table["suite"].astype(bool)
    constructions = sorted(analysis.table.loc[own, "construction"].unique())
    models = sorted(analysis.table["model"].unique())
    who = ", ".join(models) if len(models) <= 3 else f"{len(models)} models"
    if not constructions:
        paradigms = sorted(analysis.table["construction"].unique())
        what = ", ".join(paradigms) if len(paradigms) <= 2 else f"{len(paradigms)} paradigms"
        return f"External suites: {what} — {who}"
    what = ", ".join(constructions) if len(constructions) <= 2 else f"{len(constructions)} constructions"
    return f"Accuracy vs depth: {what} — {who}"

