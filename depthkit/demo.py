"""The end-to-end demo: shipped grammars -> generate -> verify -> eval -> one report.

:func:`run_demo` is what `depthkit demo` (README command 1) calls; every step is the same
library function the individual commands use, so the demo is also a worked example.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from .errors import DepthkitError
from .generation import generate, parse_depths, write_generated
from .grammar import list_grammar_files, load_grammar
from .store import ITEMS_FILE, log

DEFAULT_GRAMMARS = ("object-rc", "subject-rc", "pp-attractors", "sentential-complements", "possessives",
                    "coordination")


def run_demo(grammars: Sequence[str] = DEFAULT_GRAMMARS, *, depths: str = "0-4", per_depth: int = 12,
             seed: int = 1, model: str | None = None, tasks: Sequence[str] = ("minimal-pair", "judgment"),
             generated: Path = Path("generated/demo"), report_dir: Path = Path("reports/demo"),
             controls: bool = True) -> Path:
    """Run the whole pipeline and return the path of the report's HTML file.

    Each step resumes: items are regenerated identically, verification and judgments that
    already exist are kept, and model calls come from the cache.
    """
    from .backends import get_backend
    from .report import build_report

    started = time.perf_counter()
    known = {p.stem for p in list_grammar_files()}
    runs: list[Path] = []
    backend = get_backend(model)  # one model load for every grammar (it loads on first use)
    try:
        for name in grammars:
            runs.append(_one_grammar(name, known, backend, depths=depths, per_depth=per_depth, seed=seed,
                                     model=model, tasks=tasks, generated=generated, controls=controls))
    finally:
        backend.close()
    log("[demo] building the report")
    html = build_report(sorted(set(runs)), Path(report_dir), title="depthkit demo: accuracy versus depth")
    log(f"[demo] done in {time.perf_counter() - started:.0f} s")
    return html


def _one_grammar(name: str, known: set[str], backend, *, depths: str, per_depth: int, seed: int, model: str | None,
                 tasks: Sequence[str], generated: Path, controls: bool) -> Path:
    """Generate, verify and evaluate one grammar; returns its run folder."""
    from .evaluation import evaluate
    from .verify import verify_folder

    grammar = load_grammar(name if name in known else Path(name))
    folder = Path(generated) / grammar.name
    depth_list = parse_depths(depths)
    log(f"[demo] {grammar.name}: generating depths {depths}, {per_depth} per depth"
        + (" with controls" if controls else ""))
    items = generate(grammar, depth_list, per_depth, seed, controls=controls)
    options = {"depths": list(depth_list), "per_depth": per_depth, "seed": seed, "controls": controls}
    # New options give new items: then verification and judgments start over (old ones are kept aside).
    fresh = not (folder / ITEMS_FILE).exists() or _changed(folder, items)
    if fresh:
        write_generated(folder, grammar, items, options, warn_stale=False)
    log(f"[demo] {grammar.name}: verifying")
    try:
        verify_folder(folder, force=fresh)
    except DepthkitError as exc:  # settings changed since the last demo (e.g. a benepar model appeared)
        if "--force" not in (exc.fix or ""):
            raise
        verify_folder(folder, force=True)
    log(f"[demo] {grammar.name}: eval {', '.join(tasks)}")
    run = folder / "runs" / _slug(model or "smollm2")
    evaluate(folder, model=backend, tasks=tuple(tasks), out=run, force=fresh and (run / "judgments.jsonl").exists())
    return run


def _changed(folder: Path, items) -> bool:
    """Whether freshly generated items differ from those on disk."""
    from .store import dumps

    on_disk = (folder / ITEMS_FILE).read_text(encoding="utf-8")
    return on_disk != "".join(dumps(i.to_dict()) + "\n" for i in items)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text).strip("-") or "model"
