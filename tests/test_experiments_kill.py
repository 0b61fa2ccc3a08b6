"""SIGKILL `depthkit run` at seeded random moments, run it again: the grid completes with the judgments of an
uninterrupted run, none lost or duplicated, and no answered request sent to a model twice."""

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

from _experiment_helpers import judgment_lines, write_experiment

pytestmark = pytest.mark.slow  # SIGKILLs real processes several times (about 45 s on 2 shared cores)

DELAY = 0.02  # seconds per backend call: the run lasts long enough to be killed inside every step
KILLS = 4


def models(counter: Path, delay: float) -> list[dict]:
    return [{"spec": "fake", "options": {"delay": delay, "count_file": str(counter)}},
            {"spec": "fake", "label": "fake-b", "options": {"seed": 7, "delay": delay, "count_file": str(counter)}}]


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


def finished_steps(out: Path) -> int:
    """How many steps carry their done mark (generate, verify and eval marks)."""
    return sum(len(json.loads(p.read_text())["steps"]) for p in out.glob("**/experiment-step.json"))


def complete_lines(path: Path) -> list[dict]:
    out = []
    for line in path.read_bytes().split(b"\n"):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass  # the unfinished last line a kill may leave
    return out


def test_experiments_kill_at_random_moments_then_resume(tmp_path):
    fields = {"grammars": [str(Path(__file__).parent / "data" / "grammars" / "tiny-rc.yaml"),
                           str(Path(__file__).parent / "data" / "grammars" / "tiny-stacked.yaml")],
              "verify": {"skip": ["spacy", "benepar"]}}
    clean_dir, killed_dir = tmp_path / "clean", tmp_path / "killed"
    clean_dir.mkdir(), killed_dir.mkdir()
    clean_count, killed_count = clean_dir / "executed.txt", killed_dir / "executed.txt"
    clean_exp = write_experiment(clean_dir, models=models(clean_count, DELAY), **fields)
    killed_exp = write_experiment(killed_dir, models=models(killed_count, DELAY), **fields)

    started = time.perf_counter()
    proc = subprocess.run(command(clean_exp, clean_dir / "out"), capture_output=True, env=env(), timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    duration = time.perf_counter() - started
    expected = outputs(clean_dir / "out")
    assert len(expected) == 2 + 4 and all(expected.values())  # two item folders, 2 grammars x 2 models

    rng = random.Random(12)
    moments = [rng.uniform(0.1, 0.6) * duration for _ in range(KILLS)]  # each start redoes its start-up
    killed, marks = 0, []
    for moment in moments:
        proc = subprocess.Popen(command(killed_exp, killed_dir / "out"), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env())
        time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed += proc.returncode == -signal.SIGKILL
        marks.append(finished_steps(killed_dir / "out"))
        for path in (killed_dir / "out").glob("runs/*/judgments.jsonl"):
            keys = [(r["item_id"], r["task"]) for r in complete_lines(path)]
            assert len(keys) == len(set(keys)), path  # never a judgment twice, even mid-run
    assert killed >= KILLS - 1, "the runs ended before they could be killed: raise DELAY"
    assert marks == sorted(marks) and marks[-1] < 2 + 2 + 4  # killed part-way, and never going backwards
    proc = subprocess.run(command(killed_exp, killed_dir / "out"), capture_output=True, env=env(), timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()

    got = outputs(killed_dir / "out")
    assert got.keys() == expected.keys()  # same content keys: same folders
    for name, records in expected.items():
        assert got[name] == records, name  # same lines, same order: nothing lost, nothing twice
    # every distinct request answered exactly once over all the starts (the call cache survives the kills)
    assert len(killed_count.read_text().splitlines()) == len(clean_count.read_text().splitlines())
