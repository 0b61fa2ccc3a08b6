"""`depthkit eval`: model judgments of generated items into OUT/judgments.jsonl."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .app import app


def parse_options(pairs: list[str] | None) -> dict[str, str]:
    """``["threads=2", "start_token=<|endoftext|>"]`` -> dict (values stay text; the backend converts).

    ``base_url`` may repeat (one per server): the addresses are joined with commas."""
    from ..errors import UsageError

    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--option {pair!r} is not KEY=VALUE",
                                fix="e.g. --option threads=2 (`depthkit models list` shows each backend's options)")
        key = key.strip()
        if key in out and key != "base_url":
            raise UsageError(f"--option {key} is given twice", fix="give each option once (only base_url repeats: "
                             "one per server)")
        out[key] = f"{out[key]},{value}" if key in out else value  # base_url repeated: several servers
    return out


@app.command("eval")
def eval_command(
    folder: Path = typer.Argument(..., help="Folder written by `depthkit generate` (holds items.jsonl)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="hf:PATH_OR_ID, openai:MODEL@URL, fake, embedded [default: the embedded SmolLM2-135M]."),
    task: List[str] = typer.Option([], "--task", "-t", help="minimal-pair, judgment, forced-choice or syntaxgym (repeatable) [default: the suite's own measure for an imported suite, else minimal-pair]."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder for judgments.jsonl and manifest.json [default: runs/FOLDER-MODEL]."),
    option: List[str] = typer.Option([], "--option", help="Backend option KEY=VALUE (repeatable; `depthkit models list` shows them)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="Requests per backend call [default: the backend's]."),
    verified_only: bool = typer.Option(False, "--verified-only", help="Only items `depthkit verify` marked verified."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N test items of each depth (with their controls)."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="SQLite cache of backend calls [default: OUT/cache.sqlite]."),
    prompt: List[Path] = typer.Option([], "--prompt", help="Prompt file for a prompted task (repeatable; see depthkit/tasks/prompts/*.yaml)."),
    verdict_by: str = typer.Option("critical", "--verdict-by", help="minimal-pair verdict: critical (region), sum or mean."),
    capitalize: bool = typer.Option(True, "--capitalize/--no-capitalize", help="Show sentences with a capital first letter."),
    period: bool = typer.Option(True, "--period/--no-period", help="Show sentences with a final period."),
    seed: int = typer.Option(0, "--seed", help="Seed (sets the A/B order of forced-choice items)."),
    force: bool = typer.Option(False, "--force", help="Start over: move OUT's judgments.jsonl aside (to judgments.jsonl.stale-N); cached answers are reused."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Judge FOLDER's items with a model; resumable (run the same command again after an interruption).

    Prints the path of OUT/judgments.jsonl; progress and a per-depth accuracy summary go to stderr.
    """
    from ..evaluation import EvalConfig, evaluate
    from ..present import Presentation

    config = EvalConfig(tasks=tuple(task), options=parse_options(option), batch_size=batch_size,
                        verified_only=verified_only, limit=limit, cache=cache, prompts=tuple(prompt),
                        presentation=Presentation(capitalize=capitalize, period=period), verdict_by=verdict_by,
                        seed=seed, force=force, progress=not quiet)
    typer.echo(str(evaluate(folder, model, out=out, config=config)))
