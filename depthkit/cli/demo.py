"""`depthkit demo`: experiments/demo.yaml (the shipped grammars with the embedded model) through `depthkit run`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import app


@app.command()
def demo(
    grammar: Optional[List[str]] = typer.Option(None, "--grammar", "-g", help="Grammar(s) to run [default: the six shipped ones]."),
    depths: Optional[str] = typer.Option(None, "--depths", "-d", help="Exact depths to generate [default: 0-4]."),
    per_depth: Optional[int] = typer.Option(None, "--per-depth", "-n", help="Test items per depth and grammar [default: 12]."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", help="Random seed [default: 1]."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model spec [default: the embedded SmolLM2-135M]."),
    task: Optional[List[str]] = typer.Option(None, "--task", "-t", help="Task(s) [default: minimal-pair and judgment]."),
    generated: Path = typer.Option(Path("generated/demo"), "--generated", help="Folder for generated sets and runs."),
    out: Path = typer.Option(Path("reports/demo"), "--out", "-o", help="Report folder."),
) -> None:
    """Run experiments/demo.yaml (generate, verify, evaluate, report; options replace its fields); prints the report's path."""
    from ..demo import run_demo

    html = run_demo(grammar, depths=depths, per_depth=per_depth, seed=seed, model=model, tasks=task,
                    generated=generated, report_dir=out)
    typer.echo(f"report: {html}")
