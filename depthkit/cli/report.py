"""`depthkit report`: accuracy-vs-depth curves, regressions and a self-contained HTML report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .app import app


@app.command()
def report(
    runs: list[Path] = typer.Argument(..., metavar="RUN_DIR", help="Run folders written by `depthkit eval --out` (several combine into one report)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Report folder (default: reports/NAME-OF-FIRST-RUN)."),
    threshold: float = typer.Option(0.6, "--threshold", "-t", help="Breaking depth: first depth whose 95% interval lies wholly below this accuracy."),
    title: Optional[str] = typer.Option(None, "--title", help="Report title (default: its constructions and models)."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written, the breaking depths and the summary as JSON."),
) -> None:
    """Analyse judgments (with their items and verification) into reports/NAME: report.html, report.md, CSVs, figures."""
    from ..logs import logger
    from ..report import write_report

    folder = out or Path("reports") / runs[0].resolve().name
    result = write_report(runs, folder, threshold=threshold, title=title)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    for row in result.to_dict()["breaking_depth"]:
        where = (f"breaks at depth {row['breaking_depth']}" if row["breaking_depth"] is not None
                 else "no verdicts (nothing to score: items without a bad twin?)" if not row["n_verdicts"]
                 else f"does not break up to depth {row['max_depth']}")
        logger.info(f"  {row['model']} · {row['task']} · {row['construction']}: {where} (threshold {threshold:g})")
    typer.echo(str(result.html))
