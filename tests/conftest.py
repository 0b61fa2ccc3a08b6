"""Shared fixtures: tiny grammars in tests/data, and an isolated depthkit cache per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
GRAMMARS = DATA / "grammars"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def tiny_grammar_path() -> Path:
    return GRAMMARS / "tiny-rc.yaml"


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch):
    """Tests never reach a model hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


os.environ.setdefault("MPLBACKEND", "Agg")
