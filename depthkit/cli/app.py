"""The typer application every command module registers on (its own module: no import cycle)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="depthkit",
    help="Syntactic-depth stress tests for language models: generate -> verify -> eval -> report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts use [default: ...] literally, not as markup
)
