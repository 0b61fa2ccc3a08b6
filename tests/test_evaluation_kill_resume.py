"""SIGKILL `depthkit eval` at several moments, start it again: no judgment lost or duplicated,
and no request the backend answered is ever sent again (the fake backend counts executions)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _eval_helpers import complete_lines, items, items_folder, read_judgments
from depthkit.backends import get_backend
from depthkit.backends.cache import request_key
from depthkit.tasks import make_task

pytestmark = pytest.mark.slow  # SIGKILLs real processes, six times

TASKS = ("minimal-pair", "judgment", "forced-choice")
DELAY = 0.4  # seconds per backend call: kills land while a call is in flight


def command(folder: Path, out: Path, counter: Path, delay: float = DELAY) -> list[str]:
    args = ["eval", str(folder), "--model", "fake", "--out", str(out), "--batch-size", "8", "--quiet",
            "--option", f"delay={delay}", "--option", f"count_file={counter}"]
    for task in TASKS:
        args += ["--task", task]
    return [sys.executable, "-c", "import sys; from depthkit.cli import main; sys.exit(main(sys.argv[1:]))", *args]


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def start(folder: Path, out: Path, counter: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    return subprocess.Popen(command(folder, out, counter), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def kill_when(proc: subprocess.Popen, ready, then: float) -> None:
    deadline = time.time() + 60
    while not ready() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    time.sleep(then)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def distinct_requests() -> int:
    fp = get_backend("fake", delay=DELAY).fingerprint()
    keys = set()
    for name in TASKS:
        task = make_task(name)
        for item in items():
            keys |= {request_key(fp, task.kind, r.to_dict()) for r in task.requests(item)}
    return len(keys)


def no_duplicates(out: Path) -> None:
    path = out / "judgments.jsonl"
    if path.exists():
        seen = [(r["item_id"], r["task"]) for r in complete_lines(path)]
        assert len(seen) == len(set(seen))



def test_sigkill_at_any_moment_then_resume(tmp_path):
    folder = items_folder(tmp_path)
    out, counter = tmp_path / "run", tmp_path / "executed.txt"
    judgments = out / "judgments.jsonl"
    moments = [
        (lambda: True, 0.3),  # while starting up, before any answer
        (lambda: lines(counter) >= 8, DELAY / 2),  # in flight, after the first batch was answered
        (lambda: lines(judgments) >= 20, DELAY / 3),  # judgments on disk, a call in flight
        (lambda: lines(counter) >= 40, DELAY / 2),  # prompted tasks under way
        (lambda: lines(counter) >= 100, DELAY / 4),
    ]
    for ready, then in moments:
        proc = start(folder, out, counter)
        kill_when(proc, ready, then)
        assert proc.returncode == -signal.SIGKILL, f"the run ended before it could be killed ({lines(counter)} executed)"
        no_duplicates(out)
    proc = start(folder, out, counter)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()

    records = read_judgments(judgments)
    keys = [(r["item_id"], r["task"]) for r in records]
    assert len(keys) == len(set(keys)) == len(TASKS) * len(items())
    assert lines(counter) == distinct_requests()  # every request executed exactly once over six starts
    pids = set(counter.read_text().split())
    assert len(pids) >= 3  # the work really was spread over several processes

    clean = tmp_path / "clean"
    proc = subprocess.run(command(folder, clean, tmp_path / "clean-count.txt", delay=0), capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert proc.returncode == 0
    assert read_judgments(clean / "judgments.jsonl") == records
