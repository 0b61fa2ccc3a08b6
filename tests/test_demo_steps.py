"""The demo's steps record what the individual commands record (manifests do not differ by entry point)."""

from __future__ import annotations

import json

from depthkit.cli import main
from depthkit.demo import DEMO, DEMO_FILE, demo_experiment
from depthkit.experiments import experiment_from_dict, load_experiment, make_plan, run_experiment
from depthkit.experiments.spec import ReportEntry, VerifyEntry


def test_demo_generate_step_records_the_cli_options(tmp_path, tiny_grammar_path, capsys):
    args = ["generate", "--grammar", str(tiny_grammar_path), "--depths", "0-2", "--per-depth", "3", "--seed", "4",
            "--controls", "--out", str(tmp_path / "cli")]
    assert main(args) == 0, capsys.readouterr().err
    exp = demo_experiment([str(tiny_grammar_path)], depths="0-2", per_depth=3, seed=4, model="fake", tasks=["minimal-pair"])
    exp = exp.model_copy(update={"verify": VerifyEntry(run=False), "report": ReportEntry(run=False)})
    run_experiment(exp, tmp_path / "demo")
    folder = tmp_path / "demo" / make_plan(exp).generates[0].folder
    assert (folder / "items.jsonl").read_bytes() == (tmp_path / "cli" / "items.jsonl").read_bytes()
    cli = json.loads((tmp_path / "cli" / "manifest.json").read_text())["generate"]
    demo = json.loads((folder / "manifest.json").read_text())["generate"]
    assert demo["options"] == cli["options"] and demo["design"] == cli["design"]


def test_demo_file_and_builtin_demo_are_the_same_experiment():
    assert load_experiment(DEMO_FILE) == experiment_from_dict(dict(DEMO))


def test_demo_overrides_replace_only_the_fields_given():
    exp = demo_experiment(["object-rc"], per_depth=5, model="fake")
    assert [g.grammar for g in exp.grammars] == ["object-rc"] and exp.per_depth == 5
    assert [m.spec for m in exp.models] == ["fake"]
    assert exp.depths == "0-4" and exp.seed == 1 and exp.tasks == ["minimal-pair", "judgment"] and exp.controls
