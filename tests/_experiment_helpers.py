"""Shared helpers of the experiment tests: a small grid on the tiny grammar with the fake backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

GRAMMAR = Path(__file__).parent / "data" / "grammars" / "tiny-rc.yaml"


def experiment_text(**fields: Any) -> str:
    """A small experiment file: the tiny grammar, depths 0-2, two fake models, both tasks, no report."""
    data: dict[str, Any] = {
        "name": "small", "grammars": [str(GRAMMAR)], "depths": "0-2", "per_depth": 4, "seed": 3,
        "models": ["fake", {"spec": "fake", "label": "fake-b", "options": {"seed": 7}}],
        "tasks": ["minimal-pair", "judgment"], "verify": {"skip": ["spacy", "benepar"]}, "report": {"run": False},
    }
    data.update(fields)
    return yaml.safe_dump(data, sort_keys=False)


def write_experiment(folder: Path, **fields: Any) -> Path:
    path = folder / "small.yaml"
    path.write_text(experiment_text(**fields), encoding="utf-8")
    return path


def judgment_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
