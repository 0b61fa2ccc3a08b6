"""`depthkit generate`: exact-depth items, minimal pairs and controls into a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..generation import DEFAULT_DEPTHS, Options, make_options, run_generation, write_generated
from ..grammar import load_grammar
from ..logs import logger
from .app import app

DEFAULTS = Options()


@app.command()
def generate(
    grammar: str = typer.Option(..., "--grammar", "-g", help="Grammar file path or shipped grammar name (`depthkit grammar list`)."),
    depths: str = typer.Option(DEFAULT_DEPTHS, "--depths", "-d", help="Exact embedding depths: 0-6, 0,2,4 or 1-3,6."),
    per_depth: int = typer.Option(DEFAULTS.per_depth, "--per-depth", "-n", help="Test items per depth (rounded up to whole sets: every set carries every condition)."),
    design: Optional[str] = typer.Option(DEFAULTS.design, "--design", help="ladder: one lexical frame at every depth; independent: new words at each depth [default: the grammar's design:]."),
    seed: int = typer.Option(DEFAULTS.seed, "--seed", "-s", help="Random seed; same seed and options give byte-identical output."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder [default: generated/GRAMMAR]."),
    controls: bool = typer.Option(DEFAULTS.controls, "--controls/--no-controls", help="Also emit a depth-0 control per test item of depth >= 1: same condition, target and controller, closest subject-verb distance, attractors and length."),
    uniform: bool = typer.Option(DEFAULTS.uniform, "--uniform", help="Ignore rule weights: uniform over derivations."),
    min_words: Optional[int] = typer.Option(DEFAULTS.min_words, "--min-words", help="Shortest sentence allowed."),
    max_words: Optional[int] = typer.Option(DEFAULTS.max_words, "--max-words", help="Longest sentence allowed [default: shortest at that depth + --extra-words]."),
    extra_words: int = typer.Option(DEFAULTS.extra_words, "--extra-words", help="Without --max-words: allow up to this many words beyond the shortest sentence of each depth."),
    length_mode: str = typer.Option(DEFAULTS.length_mode, "--length-mode", help="uniform: each allowed length equally often; weighted: lengths in proportion to their derivations."),
) -> None:
    """Sample sentences and minimal pairs at exact embedding depths into OUT/items.jsonl."""
    g = load_grammar(grammar)
    options = make_options(depths, per_depth, seed, controls=controls, uniform=uniform, min_words=min_words,
                           max_words=max_words, extra_words=extra_words, length_mode=length_mode, design=design)
    generation = run_generation(g, options)
    items = generation.items
    path = write_generated(out or Path("generated") / g.name, g, generation, options)
    n_tests = sum(1 for i in items if not i.is_control)
    logger.info(f"wrote {len(items)} items ({n_tests} test, {len(items) - n_tests} control) at depths "
                f"{depths} from grammar '{g.name}' ({generation.design['sets']} design, "
                f"{generation.tally.kept} of {generation.tally.drawn} frames kept) to {path}")
    typer.echo(str(path))
