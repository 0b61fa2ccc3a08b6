"""`depthkit models list` (the backends, the default, what each needs) and `depthkit models export DIR`."""

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


@models_app.command("export")
def export_command(folder: str = typer.Argument(..., help="Folder to write (new or empty)."),
                   force: bool = typer.Option(False, "--force", help="Replace the folder if it is not empty.")) -> None:
    """Write the embedded SmolLM2 as a Hugging Face folder a server reads (vLLM, transformers 4/5)."""
    from ..backends.export import export_model
    from ..backends.embedded import MODEL_NAME

    path = export_model(folder, force=force)
    typer.echo(f"{path}: {MODEL_NAME} (fp32 safetensors, tokenizer.json, tokenizer_config.json, chat template)")
    typer.echo("serve it, e.g.: python -m vllm.entrypoints.openai.api_server --model "
               f"{path} --served-model-name {MODEL_NAME} --dtype float32 --enable-prefix-caching")
    typer.echo(f"then: depthkit eval DIR --model openai:{MODEL_NAME}@http://127.0.0.1:8000/v1 "
               f"--option start_token='<|endoftext|>' (see {path}/README.md)")
