"""SIGKILL `depthkit run` at seeded random moments across the grid, run it again: it completes with the items and
judgments of an uninterrupted run, none lost or duplicated, and no answered request sent to a model twice.

Each kill waits for a randomly chosen step of the grid to be announced on stderr (``[run k/N]``), then for a
random fraction of a second, so kills land in start-up, generation, verification and in the middle of an
eval (judgments half written, a model call in flight)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _eval_helpers import complete_lines
from _experiment_helpers import judgment_lines, write_experiment

pytestmark = pytest.mark.slow  # SIGKILLs real processes several times (about a minute on 2 shared cores)

DELAY = 0.1  # seconds per backend call, 4 requests per call: an eval step lasts seconds
GRAMMARS = [str(Path(__file__).parent / "data" / "grammars" / name) for name in ("tiny-rc.yaml", "tiny-stacked.yaml")]
STEPS = 2 + 2 + 4  # generate and verify for 2 grammars, eval for 2 grammars x 2 models (no report)


def models(counter: Path) -> list[dict]:
    options = {"delay": DELAY, "count_file": str(counter)}
    return [{"spec": "fake", "options": options}, {"spec": "fake", "label": "fake-b", "options": {**options, "seed": 7}}]


def command(experiment: Path, out: Path) -> list[str]:
    code = "import sys; from depthkit.cli import main; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", code, "run", str(experiment), "--out", str(out)]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}


def outputs(out: Path) -> dict[str, list[dict]]:
    """Every run folder's judgments and every generated folder's items, by folder name."""
    found = {p.parent.name: judgment_lines(p) for p in out.glob("runs/*/judgments.jsonl")}
    found |= {p.parent.name: judgment_lines(p) for p in out.glob("*/items.jsonl")}
    return found



def state(out: Path) -> tuple[int, int]:
    """(steps carrying their done mark, run folders with judgments but no mark: evals killed half way)."""
    marks = {p.parent: json.loads(p.read_text())["steps"] for p in out.glob("**/experiment-step.json")}
    half = [p for p in out.glob("runs/*/judgments.jsonl") if p.stat().st_size and "eval" not in marks.get(p.parent, {})]
    return sum(len(s) for s in marks.values()), len(half)


def kill_after_step(experiment: Path, out: Path, step: int, wait: float) -> int:
    """Start the grid, kill it ``wait`` seconds after step ``step`` was announced (0: after start); its exit code."""
    proc = subprocess.Popen(command(experiment, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env())
    deadline = time.time() + 120
    if step:
        assert proc.stderr is not None
        for raw in proc.stderr:
            if raw.startswith(f"[run {step}/".encode()) or time.time() > deadline:
                break
    time.sleep(wait)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc.returncode


def test_experiments_kill_at_random_moments_then_resume(tmp_path):
    fields = {"grammars": GRAMMARS, "verify": {"skip": ["spacy", "benepar"]}, "eval": {"batch_size": 4}}
    clean_dir, killed_dir = tmp_path / "clean", tmp_path / "killed"
    clean_dir.mkdir(), killed_dir.mkdir()
    clean_exp = write_experiment(clean_dir, models=models(clean_dir / "executed.txt"), **fields)
    killed_exp = write_experiment(killed_dir, models=models(killed_dir / "executed.txt"), **fields)

    proc = subprocess.run(command(clean_exp, clean_dir / "out"), capture_output=True, env=env(), timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    expected = outputs(clean_dir / "out")
    assert len(expected) == 2 + 4 and all(expected.values())  # two item folders, 2 grammars x 2 models

    rng = random.Random(12)
    plan = [(0, rng.uniform(0.5, 2.0))] + [(k, rng.uniform(0.05, 1.0)) for k in sorted(rng.sample(range(1, STEPS), 4))]
    seen: list[tuple[int, int]] = []
    for step, wait in plan:
        assert kill_after_step(killed_exp, killed_dir / "out", step, wait) == -signal.SIGKILL
        seen.append(state(killed_dir / "out"))
        for path in (killed_dir / "out").glob("runs/*/judgments.jsonl"):
            keys = [(r["item_id"], r["task"]) for r in complete_lines(path)]
            assert len(keys) == len(set(keys)), path  # never a judgment twice, even half way
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] < STEPS  # always killed before the end, never going backwards
    assert any(half for _, half in seen), f"no kill landed inside an eval: {plan} -> {seen}"
    proc = subprocess.run(command(killed_exp, killed_dir / "out"), capture_output=True, env=env(), timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()

    got = outputs(killed_dir / "out")
    assert got.keys() == expected.keys()  # same content keys: same folders
    for name, records in expected.items():
        assert got[name] == records, name  # same lines in the same order: nothing lost, nothing twice
    # every distinct request answered once over all the starts (the call cache survives the kills)
    executed = (killed_dir / "executed.txt").read_text().splitlines()
    assert len(executed) == len((clean_dir / "executed.txt").read_text().splitlines())
    assert len(set(executed)) >= 2  # the answers really came from several processes
