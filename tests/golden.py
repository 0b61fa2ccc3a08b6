"""The golden set: depthkit's outputs for fixed seeds and options, stored in tests/data/golden/.

`tests/test_golden_outputs.py` rebuilds them and compares, so a refactor that changes any output
(items, verification, judgments, report tables) fails. When an output is *meant* to change
(a new item field, a fixed grammar), rebuild the set and commit it with the change that explains it:

    python -m tests.golden            # rewrites tests/data/golden/ (fast tier: no real model)
    python -m tests.golden --slow     # also the embedded-model judgments

Files compared byte for byte: items.jsonl and the fake backend's judgments.jsonl (pure code, no
floating point from outside). Files compared by value, floats relative to magnitude:
verification.jsonl (spaCy), report tables (statsmodels) and the embedded model's judgments.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import warnings
from pathlib import Path

GOLDEN = Path(__file__).parent / "data" / "golden"
SHIPPED = ("object-rc", "subject-rc", "pp-attractors", "sentential-complements", "possessives", "coordination")
TINY = Path(__file__).parent / "data" / "grammars" / "tiny-rc.yaml"
VERIFIED = ("object-rc", "coordination")
REPORT_TABLES = ("accuracy_by_depth.csv", "controls_by_depth.csv", "breaking_depth.csv", "regression.csv",
                 "critical_differences.csv", "task_comparison.csv", "judgments_joined.csv")


def build(out: Path, *, slow: bool = False) -> list[Path]:
    """Write every golden output under ``out``; returns the files written (relative to ``out``)."""
    import depthkit
    from depthkit.evaluation import evaluate
    from depthkit.generation import write_generated
    from depthkit.report import build_report
    from depthkit.verify import verify_folder

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in SHIPPED:
            grammar = depthkit.load_grammar(name)
            items = depthkit.generate(grammar, depths="0-3", per_depth=3, seed=11, controls=True)
            folder = out / name
            write_generated(folder, grammar, items, {"golden": True}, warn_stale=False)
            written.append(folder / "items.jsonl")
        tiny = depthkit.load_grammar(TINY)
        for label, options in (("tiny-uniform", {"uniform": True}), ("tiny-weighted", {"length_mode": "weighted"})):
            items = depthkit.generate(tiny, depths="0-2", per_depth=4, seed=5, **options)
            write_generated(out / label, tiny, items, options, warn_stale=False)
            written.append(out / label / "items.jsonl")
    for name in VERIFIED:
        verify_folder(out / name, skip=("benepar",), progress=False)
        written += [out / name / "verification.jsonl", out / name / "verification_summary.csv"]
    for name in SHIPPED:
        run = out / name / "runs" / "fake"
        evaluate(out / name, model="fake", tasks=("minimal-pair", "judgment", "forced-choice"), out=run,
                 options={"items": str(out / name), "accuracy": 0.8, "decay": 0.1}, progress=False)
        written.append(run / "judgments.jsonl")
        runs.append(run)
    report = out / "report"
    build_report(runs, report)
    written += [report / name for name in REPORT_TABLES]
    if slow:
        run = out / "object-rc" / "runs" / "embedded"
        evaluate(out / "object-rc", model=None, tasks=("minimal-pair", "judgment"), out=run, progress=False)
        written.append(run / "judgments.jsonl")
    return [p.relative_to(out) for p in written]


def portable(text: str, root: Path) -> str:
    """Output text with the build folder's absolute path (in report tables) replaced by ``<root>``."""
    return text.replace(str(root.resolve()), "<root>").replace(str(root), "<root>")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", action="store_true", help="also the embedded model's judgments")
    args = parser.parse_args(argv)
    scratch = GOLDEN.parent / ".golden-build"
    shutil.rmtree(scratch, ignore_errors=True)
    files = build(scratch, slow=args.slow)
    keep = set(files) | ({Path("object-rc/runs/embedded/judgments.jsonl")} if not args.slow else set())
    for rel in sorted(keep):
        src = scratch / rel
        if not src.exists():
            continue  # the embedded judgments when --slow was not given: keep the stored file
        dest = GOLDEN / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(portable(src.read_text(encoding="utf-8"), scratch), encoding="utf-8")
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"wrote {len(files)} golden files under {GOLDEN}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
