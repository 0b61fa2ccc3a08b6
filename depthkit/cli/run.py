"""`depthkit run EXPERIMENT.yaml`: a whole grid (grammars x models x tasks) from one experiment file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .app import app


@app.command()
def run(
    experiment: Path = typer.Argument(..., metavar="EXPERIMENT.yaml", help="The experiment file (docs/experiments.md)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for generated items and runs [default: generated/NAME]."),
    report_dir: Optional[Path] = typer.Option(None, "--report", help="Report folder [default: reports/NAME, or OUT/report with --out]."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan (folders, content keys, what is already done) and run nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan (with --dry-run) or what was run as JSON."),
) -> None:
    """Generate, verify, evaluate every cell of the grid (skipping finished ones) and write one combined report."""
    from ..experiments import load_experiment, plan_experiment, run_experiment, step_status
    from ..logs import logger

    spec = load_experiment(experiment)
    folder = out or Path("generated") / spec.name
    report = report_dir or (folder / "report" if out else Path("reports") / spec.name)
    if dry_run:
        plan = plan_experiment(spec)
        done = step_status(plan, folder, report)
        facts = {"out": str(folder), "report": str(report), "plan": plan.to_dict(), "done": done}
        if as_json:
            typer.echo(json.dumps(facts, indent=2, ensure_ascii=False))
            return
        for model, why in plan.skipped_models.items():
            logger.warning(f"note: model '{model}' is skipped: {why}")
        for step in plan.generates:
            mark = "done" if done[f"generate:{step.key}"] else "to do"
            typer.echo(f"generate  {step.name:<24} {folder / step.folder}  [{mark}]")
        for cell in plan.cells:
            mark = "done" if done[f"eval:{cell.key}"] else "to do"
            typer.echo(f"eval      {cell.grammar + ' x ' + cell.model:<24} {folder / cell.folder}  [{mark}]")
        typer.echo(f"report    {report}  [{'done' if done['report'] else 'to do'}]")
        return
    result = run_experiment(spec, folder, report_dir=report)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif result.report:
        typer.echo(f"report: {result.report}")
