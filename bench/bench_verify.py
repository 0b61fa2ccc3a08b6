"""verify speed: the chart parse in 1 vs N worker processes, same items, one run.

    .venv/bin/python bench/bench_verify.py [--items 240] [--grammar object-rc] [--workers 2] [--rounds 2]

Generates items from a shipped grammar (depths 0-4, controls included), copies the folder, and
runs ``depthkit.verify.verify_folder`` on each copy with ``workers=1`` and ``workers=N`` in
alternating rounds, twice over: grammar check only (spaCy and benepar skipped) and grammar +
spaCy (benepar skipped: no model is installed here). Prints items/s of the checking loop
(worker start-up included), wall and CPU seconds (workers included), the best round of each (other processes only ever
slow a round down), the ratio, and whether the records are byte-identical. On a machine shared
with other work the items/s ratio is a lower bound of what idle cores give: say so when you
quote it. The CPU ratio (total CPU of the N-process run over the 1-process run) says what the
split costs: near 1.0 means idle cores would give close to N× the items/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path


def make_folder(root: Path, grammar: str, n_items: int, seed: int) -> Path:
    import depthkit
    from depthkit.generation import write_generated

    g = depthkit.load_grammar(grammar)
    depths = 5
    per_depth = max(1, n_items // (2 * depths))  # controls double the count
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        items = depthkit.generate(g, depths=f"0-{depths - 1}", per_depth=per_depth, seed=seed, controls=True)
    folder = root / "items"
    write_generated(folder, g, items, {"depths": f"0-{depths - 1}", "per_depth": per_depth, "seed": seed})
    return folder


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the workers, once the pool is shut down)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_run(src: Path, dest: Path, workers: int, skip: tuple[str, ...]) -> tuple[float, float, float, bytes]:
    """(items/s of the checking loop, wall seconds, CPU seconds, the records) of one verify run on a fresh copy."""
    from depthkit.verify import verify_folder

    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    started, cpu = time.perf_counter(), cpu_seconds()
    verify_folder(dest, skip=skip, workers=workers, progress=False)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    timing = json.loads((dest / "manifest.json").read_text())["verify"]["timing"]
    return float(timing["items_per_second"]), wall, cpu, (dest / "verification.jsonl").read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=240, help="items to verify (half of them controls)")
    parser.add_argument("--grammar", default="object-rc", help="shipped grammar to generate them from")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="worker processes to compare with 1")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of each")
    parser.add_argument("--no-spacy-mode", action="store_true", help="only the grammar-only comparison")
    args = parser.parse_args()

    import logging

    import tqdm

    tqdm.tqdm.monitor_interval = 0  # no tqdm monitor thread: workers fork as in a fresh `depthkit verify`
    logging.getLogger("depthkit").setLevel(logging.WARNING)
    from depthkit.verify.spacy_check import resolve_spacy_model

    print(f"cores usable: {len(os.sched_getaffinity(0))}; load average {os.getloadavg()[0]:.1f} "
          "(other processes share these cores)", flush=True)
    modes = [("grammar only", ("spacy", "benepar"))]
    spacy_name, why = resolve_spacy_model(None)
    if not args.no_spacy_mode:
        if spacy_name:
            modes.append((f"grammar + spaCy ({spacy_name})", ("benepar",)))
        else:
            print(f"grammar + spaCy: skipped ({why})")
    with tempfile.TemporaryDirectory(prefix="depthkit-bench-verify-") as tmp:
        root = Path(tmp)
        src = make_folder(root, args.grammar, args.items, args.seed)
        n = sum(1 for _ in (src / "items.jsonl").open())
        print(f"{n} {args.grammar} items (depths 0-4 with controls), benepar not run, {args.rounds} rounds")
        for label, skip in modes:
            best: dict[int, tuple[float, float, float]] = {}
            records: dict[int, bytes] = {}
            for _ in range(args.rounds):
                for workers in (1, args.workers):
                    rate, wall, cpu, rec = one_run(src, root / f"w{workers}", workers, skip)
                    old = best.get(workers, (0.0, float("inf"), float("inf")))
                    best[workers] = (max(old[0], rate), min(old[1], wall), min(old[2], cpu))
                    records[workers] = rec
            one, many = best[1], best[args.workers]
            same = records[1] == records[args.workers]
            print(f"{label}: 1 process {one[0]:.1f} items/s ({one[1]:.1f} s wall, {one[2]:.1f} CPU s); "
                  f"{args.workers} processes {many[0]:.1f} items/s ({many[1]:.1f} s wall, {many[2]:.1f} CPU s): "
                  f"{many[0] / one[0]:.2f}x; CPU per item {many[2] / one[2]:.2f}x of 1 process; "
                  f"records identical: {same}", flush=True)
            if not same:
                return 1
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
