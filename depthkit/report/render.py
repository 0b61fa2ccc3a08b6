"""report.html and report.md, rendered from the jinja2 templates in ``templates/``.

This module only gathers what the page shows (:class:`Page`) and turns display tables into rows of
text cells (:class:`Grid`); the templates lay it out. report.html is rendered with autoescape, so
every text from a grammar, an item, a model or a manifest is escaped by jinja2; the style sheet
(``report.css``) and the figures (base64 PNG) are inlined, so the page loads nothing. In report.md
every value passes through :func:`markdown_text`, because Markdown renderers pass raw HTML through.
"""

from __future__ import annotations

import base64
import functools
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from .._version import __version__
from ..analysis import Analysis, glance
from .display import LABELS, Shown, display_glance, missing
from .facts import FACT_HEADERS, RunFacts
from .figures import Figure
from .narrative import headline, method_notes, summary
from .sections import Section, sections
from .tables import TABLE_FILES

TEMPLATES = Path(__file__).with_name("templates")
FOLD_FINDINGS_ABOVE = 4  # more findings than this: folded under one <details> (each is a long paragraph)


@dataclass(frozen=True)
class Grid:
    """A display table as rows of text cells: ``labels[i]`` says whether column i holds labels (left-aligned)."""

    caption: str
    csv: str | None
    columns: tuple[str, ...]
    labels: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, shown: Shown) -> Grid:
        frame = shown.frame if shown.frame is not None else pd.DataFrame()
        columns = tuple(str(c) for c in frame.columns)
        rows = tuple(tuple("—" if missing(v) else str(v) for v in row) for row in frame.itertuples(index=False))
        return cls(shown.caption, shown.csv, columns, tuple(c in shown.labels for c in frame.columns), rows)

    def cells(self, row: tuple[str, ...]) -> list[tuple[str, bool]]:
        """(text, is_label) for each cell of ``row``."""
        return list(zip(row, self.labels))


@dataclass(frozen=True)
class Page:
    """Everything report.html and report.md show, in the order they show it."""

    title: str
    version: str
    created: str
    n_judgments: int
    n_models: int
    tasks: str
    headline: tuple[str, ...]
    glance: Grid
    findings: tuple[tuple[str, str], ...]
    fold_findings: bool
    notes: tuple[str, ...]
    sections: tuple[Section, ...]
    facts: Grid
    runs: tuple[RunFacts, ...]
    method: tuple[str, ...]
    files: str


def build_page(analysis: Analysis, figures: Sequence[Figure], facts: Sequence[RunFacts], notes: Sequence[str],
               title: str, tables: dict[str, pd.DataFrame]) -> Page:
    """What the report shows, gathered from the analysis, the figures drawn and the run facts."""
    findings = tuple(summary(analysis))
    return Page(
        title=title, version=__version__, created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        n_judgments=len(analysis.table), n_models=int(analysis.table["model"].nunique()),
        tasks=", ".join(sorted(analysis.table["task"].unique())), headline=tuple(headline(analysis)),
        glance=Grid.of(Shown("At a glance", display_glance(glance(analysis)), LABELS + ("trend",))),
        findings=findings, fold_findings=len(findings) > FOLD_FINDINGS_ABOVE, notes=tuple(notes),
        sections=tuple(sections(analysis, figures, tables)), facts=Grid.of(_facts_table(facts)), runs=tuple(facts),
        method=tuple(method_notes(analysis)), files=", ".join(TABLE_FILES.values()))


def _facts_table(facts: Sequence[RunFacts]) -> Shown:
    """Facts as rows, runs as columns (long values such as versions stay readable)."""
    rows = [{"": label, **{f"run {i}": f.shown[key] for i, f in enumerate(facts, start=1)}}
            for key, label in FACT_HEADERS]
    frame = pd.DataFrame(rows)
    return Shown("Runs", frame, tuple(frame.columns))


def markdown_text(value: Any) -> str:
    """Text for report.md: HTML's <, > and & escaped (names from grammars and models may hold them)."""
    return html.escape(str(value), quote=False)


def _markdown_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _png_base64(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


@functools.cache
def _environment(markdown: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True,
        autoescape=not markdown, finalize=markdown_text if markdown else None)
    env.filters["grid"] = Grid.of
    env.filters["png_base64"] = _png_base64
    env.filters["markdown_cell"] = _markdown_cell
    return env


def render_html(page: Page) -> str:
    """The self-contained report page: style and figures inlined, every text escaped."""
    return _environment(False).get_template("report.html.j2").render(page=page)


def render_markdown(page: Page) -> str:
    """The same report as Markdown with the figures linked (for pasting into papers and READMEs)."""
    return _environment(True).get_template("report.md.j2").render(page=page)


__all__ = ["Grid", "Page", "build_page", "markdown_text", "render_html", "render_markdown"]
