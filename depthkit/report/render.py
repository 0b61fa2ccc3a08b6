"""report.html and report.md from the sections, the findings and the run facts."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from .. import __version__
from ..analysis import glance
from .display import LABELS, Shown, display_glance, missing
from .facts import FACT_HEADERS
from .figures import Figure
from .narrative import headline, summary
from .sections import sections
from .tables import TABLE_FILES


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
            text = "—" if missing(value) else str(value)
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
        return _md("—" if missing(value) else str(value)).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(c) for c in frame.columns) + " |",
             "|" + "|".join("---" if c in shown.labels else "---:" for c in frame.columns) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(esc(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _facts_table(facts: list[dict[str, Any]]) -> Shown:
    """Facts as rows, runs as columns (long values such as versions stay readable)."""
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

def _img(figure: Figure) -> str:
    data = base64.b64encode(figure.png.read_bytes()).decode("ascii")
    return (f'<figure id="fig-{html.escape(figure.name)}"><img alt="{html.escape(figure.title)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{html.escape(figure.caption)} '
            f'(<a href="figures/{html.escape(figure.svg.name)}">SVG</a>, '
            f'<a href="figures/{html.escape(figure.png.name)}">PNG</a>)</figcaption></figure>')


def _table_heading(shown: Shown) -> str:
    esc = html.escape
    if shown.csv:
        name = shown.csv
        return f'<h3>{esc(shown.caption)} <small>(<a href="{esc(name)}">{esc(name)}</a>)</small></h3>'
    return f"<h3>{esc(shown.caption)}</h3>"


FOLD_FINDINGS_ABOVE = 8


def _summary_html(analysis) -> str:
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
    parts_of = sections(analysis, figures, tables)
    tasks = ", ".join(sorted(analysis.table["task"].unique()))
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
             '<meta name="viewport" content="width=device-width, initial-scale=1">'
             f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>",
             f"<h1>{esc(title)}</h1>",
             f'<p class="meta">depthkit {esc(__version__)} · {len(analysis.table)} judgments · '
             f"{analysis.table['model'].nunique()} model(s) · tasks: {esc(tasks)} · "
             f"created {esc(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))}</p>",
             "<nav>" + '<a href="#summary">Summary</a> '
             + "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a> ' for s in parts_of)
             + '<a href="#runs">Runs and versions</a></nav>',
             _summary_html(analysis)]
    for note in notes:
        parts.append(f'<p class="notice">{esc(note)}</p>')
    for section in parts_of:
        parts.append(f'<h2 id="{esc(section.id)}">{esc(section.title)}</h2>')
        for text in section.notices:
            parts.append(f'<p class="notice">{esc(text)}</p>')
        for text in section.text:
            parts.append(f"<p>{esc(text)}</p>")
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
    lines = [f"# {_md(title)}", "", f"depthkit {__version__} · {len(analysis.table)} judgments", "",
             "## What the curves show", ""]
    lines += [_md(" ".join(headline(analysis))), "", "### At a glance", "",
              markdown_table(Shown("At a glance", display_glance(glance(analysis)), LABELS + ("trend",)))]
    lines += [f"- **{_md(head)}.** {_md(text)}" for head, text in summary(analysis)] + [""]
    lines += [f"> {_md(note)}\n" for note in notes]
    for section in sections(analysis, figures, tables):
        lines += [f"## {section.title}", ""]
        for text in section.notices + section.text:
            lines += [_md(text), ""]
        for figure in section.figures:
            lines += [f"![{figure.title}](figures/{figure.png.name})", "", f"*{figure.caption}*", ""]
        for shown in section.tables + section.details:
            heading = f"### {shown.caption}" + (f" ({shown.csv})" if shown.csv else "")
            lines += [heading, "", markdown_table(shown)]
    lines += ["## Runs and versions", "", markdown_table(_facts_table(facts))]
    return "\n".join(lines) + "\n"
