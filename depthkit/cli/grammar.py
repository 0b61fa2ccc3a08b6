"""`depthkit grammar check|list`: validate grammar files and show their facts."""

from __future__ import annotations

import json
from typing import Optional

import typer

from ..grammar import list_grammar_files, load_grammar
from ..grammar.facts import LINT_FRAMES, format_facts, grammar_facts, stimulus_check
from .app import app

grammar_app = typer.Typer(help="Check and list grammar files.", no_args_is_help=True)
app.add_typer(grammar_app, name="grammar")


@grammar_app.command("check")
def check(
    file: str = typer.Argument(..., help="Grammar file path or shipped grammar name."),
    max_depth: int = typer.Option(8, "--max-depth", help="Deepest depth to count derivations for."),
    max_words: Optional[int] = typer.Option(None, "--max-words", help="Longest sentence to count derivations for [default: the grammar's max_words, else 30]."),
    stimuli: bool = typer.Option(True, "--stimuli/--no-stimuli", help="Also draw frames as generate does and count what its checks reject (other readings, grammatical violations, repeated words)."),
    depths: str = typer.Option("0-4", "--depths", help="Depths for the stimulus check."),
    frames: int = typer.Option(LINT_FRAMES, "--frames", min=1, max=500, help="Frames drawn per depth by the stimulus check."),
    as_json: bool = typer.Option(False, "--json", help="Print the facts as JSON."),
) -> None:
    """Validate a grammar and print its facts: reachable depths, derivations per depth and length, and what
    `depthkit generate` would reject (ambiguity and invalid-violation rates per depth, with examples)."""
    from ..generation.items import parse_depths

    grammar = load_grammar(file)
    facts = grammar_facts(grammar, max_depth=max_depth, max_words=max_words or grammar.max_words or 30)
    if stimuli:
        reachable = [d["depth"] for d in facts["depths"] if d["reachable"]]
        wanted = [d for d in parse_depths(depths) if d in reachable]
        if wanted:
            facts["stimulus_check"] = stimulus_check(grammar, wanted, frames)
    typer.echo(json.dumps(facts, indent=2) if as_json else format_facts(facts))


@grammar_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List the shipped grammars."""
    rows = []
    for path in list_grammar_files():
        g = load_grammar(path)
        rows.append({"name": g.name, "construction": g.construction, "path": str(path),
                     "embedding": sorted(g.embedding), "pair": bool(g.pair)})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        typer.echo(f"{r['name']:<{width}}  {r['construction']}")
