"""`depthkit import blimp|syntaxgym FILE... --out DIR`: external suites as a generated folder."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from .app import app

import_app = typer.Typer(help="Import an external suite (BLiMP paradigms, SyntaxGym suites) as a generated folder.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(import_app, name="import")


@import_app.command("blimp")
def import_blimp_command(
    files: List[Path] = typer.Argument(..., help="BLiMP paradigm files (data/PARADIGM.jsonl of alexwarstadt/blimp)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for items.jsonl and manifest.json."),
) -> None:
    """One item per BLiMP pair; `depthkit eval OUT` then scores whole sentences (minimal-pair).

    Prints the path of OUT/items.jsonl.
    """
    from ..suites import import_blimp

    typer.echo(str(import_blimp(files, out)))


@import_app.command("syntaxgym")
def import_syntaxgym_command(
    files: List[Path] = typer.Argument(..., help="SyntaxGym suite files (test_suites/json/SUITE.json)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for items.jsonl and manifest.json."),
) -> None:
    """One item per suite item (all conditions, regions and predictions); `depthkit eval OUT` then runs the
    suite's predictions (task syntaxgym).

    Prints the path of OUT/items.jsonl.
    """
    from ..suites import import_syntaxgym

    typer.echo(str(import_syntaxgym(files, out)))
