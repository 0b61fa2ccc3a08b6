"""`depthkit demo`: the whole pipeline on the shipped grammars with the embedded model."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import app


@app.command()
def demo(
    grammar: Optional[List[str]] = typer.Option(None, "--grammar", "-g", help="Grammar(s) to run [default: the six shipped ones]."),
    depths: str = typer.Option("0-4", "--depths", "-d", help="Exact depths to generate."),
    per_depth: int = typer.Option(12, "--per-depth", "-n", help="Test items per depth and grammar."),
    seed: int = typer.Option(1, "--seed", "-s", help="Random seed."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model spec [default: the embedded SmolLM2-135M]."),
    task: Optional[List[str]] = typer.Option(None, "--task", "-t", help="Task(s) [default: minimal-pair and judgment]."),
    generated: Path = typer.Option(Path("generated/demo"), "--generated", help="Folder for generated sets and runs."),
    out: Path = typer.Option(Path("reports/demo"), "--out", "-o", help="Report folder."),
) -> None:
    """Generate, verify, evaluate and report in one go; prints the report's path."""
    from ..demo import DEFAULT_GRAMMARS, run_demo

    html = run_demo(grammar or DEFAULT_GRAMMARS, depths=depths, per_depth=per_depth, seed=seed, model=model,
                    tasks=tuple(task or ("minimal-pair", "judgment")), generated=generated, report_dir=out)
    typer.echo(f"report: {html}")
