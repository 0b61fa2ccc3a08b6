"""`depthkit models list`: the backends, the default, and what each needs."""

from __future__ import annotations

import json

import typer

from .app import app

models_app = typer.Typer(help="Model backends: what is registered and what each needs.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
    """Show every backend (built-in and plugins), the default, what it needs and its options."""
    from ..backends import DEFAULT_BACKEND, list_backends

    infos = list_backends()
    if as_json:
        typer.echo(json.dumps({"default": DEFAULT_BACKEND, "backends": [i.to_dict() for i in infos]}, indent=2,
                              default=str))
        return
    for info in infos:
        flag = " (default: used when --model is omitted)" if info.default else ""
        aliases = f"  aliases: {', '.join(info.aliases)}" if info.aliases else ""
        status = "ready" if info.problem is None else f"not ready: {info.problem}"
        typer.echo(f"{info.name}{flag}  [{info.source}]{aliases}")
        if info.description:
            typer.echo(f"  {info.description}")
        if info.requires:
            typer.echo(f"  needs: {info.requires}")
        typer.echo(f"  status: {status}")
        if info.note:
            typer.echo(f"  {info.note}")
        for key, opt in info.options.items():
            secret = ", secret" if opt.secret else ""
            typer.echo(f"  --option {key}=…  ({opt.type.__name__}, default {opt.default!r}{secret}) {opt.help}")
        typer.echo("")
    typer.echo("model specs: --model hf:PATH_OR_ID | openai:MODEL@http://HOST:PORT/v1 | fake | embedded")
