"""The experiment file: valid files load, every mistake is one message with file, line, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from depthkit.errors import InputError
from depthkit.experiments import load_experiment

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
grammars: [object-rc, {grammar: tiny.yaml, options: {max_words: 12}}]
depths: 0-3
per_depth: 5
models:
  - fake
  - {spec: "openai:smollm2", servers: [http://127.0.0.1:8001/v1, http://127.0.0.1:8002/v1]}
tasks: [minimal-pair, judgment]
verify: {skip: [benepar]}
"""


def test_experiments_spec_loads_shorthands_and_resolves_grammar_paths(tmp_path, tiny_grammar_path):
    (tmp_path / "tiny.yaml").write_text(tiny_grammar_path.read_text())
    exp = load_experiment(write(tmp_path, GOOD))
    assert exp.name == "exp"  # the file's stem when no name is given
    assert exp.grammars[0].grammar == "object-rc"
    assert exp.grammars[1].grammar == str((tmp_path / "tiny.yaml").resolve())
    assert exp.grammars[1].options == {"max_words": 12}
    assert [m.spec for m in exp.models] == ["fake", "openai:smollm2"] and len(exp.models[1].servers) == 2
    assert exp.depth_list == (0, 1, 2, 3) and exp.verify.run and exp.verify.skip == ["benepar"]
    assert exp.report.threshold == 0.6 and exp.eval.verdict_by == "critical"


@pytest.mark.parametrize("name", ["demo.yaml", "size-series.yaml"])
def test_experiments_spec_shipped_files_are_valid(name):
    exp = load_experiment(REPO / "experiments" / name)
    assert exp.name == Path(name).stem and exp.models


@pytest.mark.parametrize("text, line, field, words", [
    ("grammars: [object-rc]\nmodles: [fake]\n", 2, "modles", ["unknown key 'modles'", "did you mean 'models'"]),
    ("grammars: [object-rc]\nmodels: [fake]\ntasks: [judgement]\n", 3, "tasks.0", ["unknown task", "'judgment'"]),
    ("grammars: [object-rx]\nmodels: [fake]\n", 1, "grammars.0", ["neither a shipped grammar", "'object-rc'"]),
    ("grammars: [object-rc]\nmodels: [{spec: fake, options: {sead: 1}}]\n", 2, "models.0.options.sead",
     ["no option 'sead'", "did you mean 'seed'"]),
    ("grammars: [object-rc]\nmodels: [nosuch:thing]\n", 2, "models.0.spec", ["nosuch"]),
    ("grammars: [object-rc]\nmodels: [fake]\ndepths: 4-1\n", 3, "depths", ["depths"]),
    ("grammars: [object-rc]\nmodels: [fake]\nper_depth: 0\n", 3, "per_depth", ["per_depth"]),
    ("grammars: [object-rc]\nmodels: [{spec: fake, servers: [http://a:1/v1]}]\n", 2, "models.0.servers",
     ["takes no server URLs"]),
    ("grammars: [object-rc]\nmodels: [{spec: 'openai:m', servers: [ftp://a]}]\n", 2, "models.0.servers", ["http"]),
    ("grammars: [object-rc]\nmodels: [fake, fake]\n", None, None, ["share the name 'fake'", "label"]),
    ("grammars: [{grammar: object-rc, options: {max_word: 9}}]\nmodels: [fake]\n", 1, "grammars.0.options",
     ["unknown generation option 'max_word'", "'max_words'"]),
    ("grammars: [object-rc]\nmodels: [fake]\nverify: {skip: [stanza]}\n", 3, "verify.skip.0", ["stanza"]),
    ("grammars: [object-rc]\nmodels: [fake]\nreport: {threshold: 1.5}\n", 3, "report.threshold", ["threshold"]),
    ("grammars: [object-rc]\nmodels: [fake]\nseed: 1\nseed: 2\n", 4, "seed", ["appears twice"]),
    ("grammars: [object-rc]\nmodels: [fake]\nper_depth: '12'\n", 3, "per_depth", ["integer"]),
    ("- just a list\n", 1, None, ["mapping"]),
    ("grammars:\n  - object-rc\nmodels:\n  - fake\n  - spec: fake\n    label: b\n    options:\n      seed: 1\n"
     "      dealy: 2\n", 9, "models.1.options.dealy", ["no option 'dealy'", "did you mean 'delay'"]),
    ("grammars:\n  - object-rc\n  - grammar: subject-rc\n    options:\n      uniform: 3.5\nmodels: [fake]\n", 4,
     "grammars.1.options", ["option 'uniform' must be bool"]),
    ("grammars: [object-rc]\nmodels: [fake]\nverify: false\neval: {verified_only: true}\n", None, None,
     ["verified_only needs the items verified"]),
])
def test_experiments_spec_errors_name_file_line_field_and_fix(tmp_path, text, line, field, words):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    error = caught.value
    assert str(error.path) == str(path)
    assert error.line == line
    if field is not None:
        assert error.field == field
    assert error.fix
    for word in words:
        assert word in str(error), str(error)
    assert "Traceback" not in str(error) and "pydantic" not in str(error)


def test_experiments_spec_cli_prints_one_paragraph_and_exits_2(tmp_path, capsys):
    from depthkit.cli import main

    path = write(tmp_path, "grammars: [object-rc]\nmodels: [fake]\ntasks: [minimal-pairs]\n")
    assert main(["run", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:3: ") and "did you mean 'minimal-pair'" in err and "fix:" in err


def test_experiments_spec_dry_run_json_prints_the_plan_and_runs_nothing(tmp_path, capsys):
    import json

    from depthkit.cli import main

    path = write(tmp_path, "grammars: [object-rc]\ndepths: 0-2\nmodels: [fake, {spec: fake, label: b}]\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--dry-run", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert [c["model"] for c in facts["plan"]["cells"]] == ["fake", "b"]
    assert not any(facts["done"].values()) and not (tmp_path / "out").exists()
