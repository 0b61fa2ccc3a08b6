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
    reference: bool = typer.Option(False, "--reference", help="Draw published reference points (BLiMP, SyntaxGym: depthkit/data/references.yaml) as markers and a table."),
    reference_file: Optional[Path] = typer.Option(None, "--reference-file", help="Draw the reference points of this file instead (same form as depthkit/data/references.yaml; implies --reference)."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written, the breaking depths and the summary as JSON."),
) -> None:
    """Analyse judgments (with their items and verification) into reports/NAME: report.html, report.md, CSVs, figures."""
    from ..logs import logger
    from ..report import write_report

    folder = out or Path("reports") / runs[0].resolve().name
    result = write_report(runs, folder, threshold=threshold, title=title, reference=reference,
                          reference_file=reference_file)
    facts = result.to_dict()
    if as_json:
        typer.echo(json.dumps(facts, indent=2, ensure_ascii=False))
        return
    for row in facts["breaking_depth"]:
        status = row["status"]
        where = (f"breaks at depth {row['breaking_depth']}" if status == "breaks"
                 else "no verdicts (nothing to score: items without a bad twin?)" if status == "no verdicts"
                 else f"holds up to depth {row['max_depth']}" if status == "holds"
                 else f"undecided (an interval contains the threshold at depth "
                      f"{', '.join(map(str, row['undecided_depths']))})")
        if row["underpowered"] and status == "undecided":
            where += "; too few items for even chance to count as broken"
        logger.info(f"  {row['model']} · {row['task']} · {row['construction']}: {where} (threshold {threshold:g})")
    for row in facts["one_answer"]:
        logger.info(f"  {row['model']} · {row['task']} · {row['construction']}: every answer was '{row['answer']}' "
                    "(bias only: no curve)")
    typer.echo(str(result.html))
