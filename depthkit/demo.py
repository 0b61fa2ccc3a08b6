"""The end-to-end demo: shipped grammars -> generate -> verify -> eval -> one report.

:func:`run_demo` is what `depthkit demo` (README command 1) calls; every step is the same
library function the individual commands use, and each folder's manifest records what
`depthkit generate`, `verify` and `eval` would record, so the demo is also a worked example.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from .backends import get_backend
from .backends.base import Backend
from .errors import StaleOutputError
from .evaluation import evaluate
from .generation import Options, parse_depths, run_generation, write_generated
from .grammar import Grammar, list_grammar_files, load_grammar
from .logs import logger
from .report import build_report
from .store import ITEMS_FILE, JUDGMENTS_FILE, dumps
from .verify import verify_folder

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
    started = time.perf_counter()
    options = Options(depths=parse_depths(depths), per_depth=per_depth, seed=seed, controls=controls)
    runs: list[Path] = []
    backend = get_backend(model)  # one model load for every grammar (it loads on first use)
    try:
        for name in grammars:
            folder, fresh = generate_step(name, options, Path(generated))
            runs.append(_verify_and_evaluate(folder, fresh, backend, model, tasks))
    finally:
        backend.close()
    logger.info("[demo] building the report")
    html = build_report(sorted(set(runs)), Path(report_dir), title="depthkit demo: accuracy versus depth")
    logger.info(f"[demo] done in {time.perf_counter() - started:.0f} s")
    return html


def generate_step(name: str, options: Options, generated: Path) -> tuple[Path, bool]:
    """Generate one grammar's items into ``generated/<grammar>``; (folder, whether the items are new).

    New options give new items: then verification and judgments start over (old ones are kept aside).
    """
    grammar = _grammar(name)
    folder = generated / grammar.name
    logger.info(f"[demo] {grammar.name}: generating depths {_depths_text(options.depths)}, {options.per_depth} per depth"
                + (" with controls" if options.controls else ""))
    generation = run_generation(grammar, options)
    fresh = not (folder / ITEMS_FILE).exists() or _changed(folder, generation.items)
    if fresh:  # recorded exactly as `depthkit generate` records it
        write_generated(folder, grammar, generation, options, warn_stale=False)
    return folder, fresh


def _verify_and_evaluate(folder: Path, fresh: bool, backend: Backend, model: str | None, tasks: Sequence[str]) -> Path:
    """Verify and evaluate one generated folder; returns its run folder."""
    logger.info(f"[demo] {folder.name}: verifying")
    try:
        verify_folder(folder, force=fresh)
    except StaleOutputError:  # settings changed since the last demo (e.g. a benepar model appeared)
        verify_folder(folder, force=True)
    logger.info(f"[demo] {folder.name}: eval {', '.join(tasks)}")
    run = folder / "runs" / _slug(model or "smollm2")
    evaluate(folder, backend, tuple(tasks), run, force=fresh and (run / JUDGMENTS_FILE).exists())
    return run


def _grammar(name: str) -> Grammar:
    """A shipped grammar by name, else a grammar file."""
    known = {p.stem for p in list_grammar_files()}
    return load_grammar(name if name in known else Path(name))


def _depths_text(depths: Sequence[int]) -> str:
    """``0-4`` for a run of depths, else ``0,2,4``."""
    if len(depths) > 1 and list(depths) == list(range(depths[0], depths[-1] + 1)):
        return f"{depths[0]}-{depths[-1]}"
    return ",".join(str(d) for d in depths)


def _changed(folder: Path, items) -> bool:
    """Whether freshly generated items differ from those on disk."""
    on_disk = (folder / ITEMS_FILE).read_text(encoding="utf-8")
    return on_disk != "".join(dumps(i.to_dict()) + "\n" for i in items)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text).strip("-") or "model"


__all__ = ["DEFAULT_GRAMMARS", "generate_step", "run_demo"]
