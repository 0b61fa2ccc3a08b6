"""`depthkit generate`: exact-depth items, minimal pairs and controls into a folder."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import typer

from . import app


@app.command()
def generate(
    grammar: str = typer.Option(..., "--grammar", "-g", help="Grammar file path or shipped grammar name (`depthkit grammar list`)."),
    depths: str = typer.Option("0-4", "--depths", "-d", help="Exact embedding depths: 0-6, 0,2,4 or 1-3,6."),
    per_depth: int = typer.Option(20, "--per-depth", "-n", help="Test items per depth."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed; same seed and options give byte-identical output."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder [default: generated/GRAMMAR]."),
    controls: bool = typer.Option(False, "--controls/--no-controls", help="Also emit a depth-0 control per item, matched in word count and subject-verb distance."),
    uniform: bool = typer.Option(False, "--uniform", help="Ignore rule weights: uniform over derivations."),
    min_words: Optional[int] = typer.Option(None, "--min-words", help="Shortest sentence allowed."),
    max_words: Optional[int] = typer.Option(None, "--max-words", help="Longest sentence allowed [default: shortest at that depth + --extra-words]."),
    extra_words: int = typer.Option(6, "--extra-words", help="Without --max-words: allow up to this many words beyond the shortest sentence of each depth."),
    length_mode: str = typer.Option("uniform", "--length-mode", help="uniform: each allowed length equally often; weighted: lengths in proportion to their derivations."),
) -> None:
    """Sample sentences and minimal pairs at exact embedding depths into OUT/items.jsonl."""
    from ..generation import generate as run, parse_depths, write_generated
    from ..grammar import load_grammar
    from ..store import log

    g = load_grammar(grammar)
    depth_list = parse_depths(depths)
    options = dict(depths=list(depth_list), per_depth=per_depth, seed=seed, controls=controls, uniform=uniform,
                   min_words=min_words, max_words=max_words, extra_words=extra_words, length_mode=length_mode)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = run(g, depth_list, per_depth, seed, controls=controls, uniform=uniform, min_words=min_words,
                    max_words=max_words, extra_words=extra_words, length_mode=length_mode)
    for w in caught:
        log(f"warning: {w.message}")
    gaps = [abs(i.match["n_words"]) for i in items if i.kind == "control" and i.match]
    if any(gaps):
        log(f"warning: {sum(1 for x in gaps if x)} of {len(gaps)} controls differ in length from their item "
            f"(up to {max(gaps)} words; see `match` in items.jsonl): the grammar has too few ways to make a "
            "long depth-0 sentence (e.g. let a place PP contain another)")
    folder = out or Path("generated") / g.name
    path = write_generated(folder, g, items, options)
    n_tests = sum(1 for i in items if i.kind == "test")
    log(f"wrote {len(items)} items ({n_tests} test, {len(items) - n_tests} control) at depths "
        f"{depths} from grammar '{g.name}' to {path}")
    typer.echo(str(path))
