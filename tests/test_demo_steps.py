"""The demo's steps record what the individual commands record (manifests do not differ by entry point)."""

from __future__ import annotations

import json

from depthkit.cli import main
from depthkit.demo import generate_step
from depthkit.generation import Options, parse_depths


def test_demo_generate_step_records_the_cli_options(tmp_path, tiny_grammar_path, capsys):
    args = ["generate", "--grammar", str(tiny_grammar_path), "--depths", "0-2", "--per-depth", "3", "--seed", "4",
            "--controls", "--out", str(tmp_path / "cli")]
    assert main(args) == 0, capsys.readouterr().err
    options = Options(depths=parse_depths("0-2"), per_depth=3, seed=4, controls=True)
    folder, fresh = generate_step(str(tiny_grammar_path), options, tmp_path / "demo")
    assert fresh and (folder / "items.jsonl").read_bytes() == (tmp_path / "cli" / "items.jsonl").read_bytes()
    cli = json.loads((tmp_path / "cli" / "manifest.json").read_text())["generate"]
    demo = json.loads((folder / "manifest.json").read_text())["generate"]
    assert demo["options"] == cli["options"] and demo["design"] == cli["design"]
    assert generate_step(str(tiny_grammar_path), options, tmp_path / "demo") == (folder, False)  # same items: kept
