"""The runner: finished steps are skipped by content key, the demo experiment gives today's demo outputs,
models that cannot run are skipped with a note."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depthkit.errors import BackendError
from depthkit.evaluation import evaluate
from depthkit.experiments import load_experiment, make_plan, run_experiment, step_status
from depthkit.experiments.spec import ReportEntry, VerifyEntry
from depthkit.generation import Options, parse_depths, run_generation
from depthkit.grammar import load_grammar
from depthkit.store import dumps
from _experiment_helpers import GRAMMAR, judgment_lines, write_experiment


def count(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_experiments_runner_skips_steps_done_for_the_same_key(tmp_path):
    counter = tmp_path / "executed.txt"
    models = [{"spec": "fake", "options": {"count_file": str(counter)}}]
    exp = load_experiment(write_experiment(tmp_path, models=models))
    out = tmp_path / "out"
    first = run_experiment(exp, out)
    assert len(first.ran) == 3 and not first.skipped  # generate, verify, eval
    executed = count(counter)
    cell = out / first.plan.cells[0].folder
    judgments = (cell / "judgments.jsonl").read_bytes()
    status = step_status(first.plan, out)
    assert executed > 0 and status.pop("report") is False and all(status.values())  # the report is off here

    again = run_experiment(exp, out)
    assert again.ran == [] and len(again.skipped) == 3
    assert count(counter) == executed and (cell / "judgments.jsonl").read_bytes() == judgments

    (cell / "experiment-step.json").unlink()  # no mark: the step runs, resuming, and asks the model nothing new
    third = run_experiment(exp, out)
    assert third.ran == [f"eval:{first.plan.cells[0].key}"]
    assert count(counter) == executed and (cell / "judgments.jsonl").read_bytes() == judgments

    changed = run_experiment(exp.model_copy(update={"per_depth": 5}), out)
    assert len(changed.ran) == 3  # new inputs, new folders; the old ones stay
    assert (cell / "judgments.jsonl").read_bytes() == judgments
    assert len(list((out / "runs").iterdir())) == 2


def test_experiments_runner_demo_gives_the_items_and_judgments_of_the_steps_it_replaced(tmp_path):
    from depthkit.demo import demo_experiment

    exp = demo_experiment([str(GRAMMAR)], depths="0-2", per_depth=3, seed=5, model="fake")
    exp = exp.model_copy(update={"verify": VerifyEntry(skip=["spacy", "benepar"]), "report": ReportEntry(run=False)})
    run_experiment(exp, tmp_path / "demo")
    plan = make_plan(exp)
    # today's demo: run_generation with the demo's options, then evaluate on the demo's tasks
    options = Options(depths=parse_depths("0-2"), per_depth=3, seed=5, controls=True)
    items = run_generation(load_grammar(GRAMMAR), options).items
    folder = tmp_path / "demo" / plan.generates[0].folder
    assert (folder / "items.jsonl").read_text() == "".join(dumps(i.to_dict()) + "\n" for i in items)
    expected = [j.to_dict() for j in evaluate(items, "fake", ("minimal-pair", "judgment"), progress=False)]
    got = judgment_lines(tmp_path / "demo" / plan.cells[0].folder / "judgments.jsonl")
    key = lambda j: (j["item_id"], j["task"])  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key) and len(got) == 2 * len(items)
    assert (folder / "verification.jsonl").exists()


def test_experiments_runner_skips_a_model_that_is_not_installed_with_a_note(tmp_path, caplog):
    models = ["fake", {"spec": f"hf:{tmp_path / 'no-such-model'}", "label": "missing"}]
    exp = load_experiment(write_experiment(tmp_path, models=models, verify=False))
    result = run_experiment(exp, tmp_path / "out")
    assert [c.model for c in result.plan.cells] == ["fake"]
    assert any("model 'missing' is skipped" in n and "does not exist" in n for n in result.notes)
    assert "model 'missing' is skipped" in caplog.text


def test_experiments_runner_refuses_when_no_model_can_run(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, models=[f"hf:{tmp_path / 'nothing'}"], verify=False))
    with pytest.raises(BackendError, match="no model of the experiment can run"):
        run_experiment(exp, tmp_path / "out")


@pytest.mark.slow  # draws a real report (about 40 s on 2 shared cores)
def test_experiments_runner_writes_one_report_over_every_model(tmp_path):
    from depthkit.store import load_manifest

    exp = load_experiment(write_experiment(tmp_path, report={"title": "two fakes"}, verify=False))
    result = run_experiment(exp, tmp_path / "out", report_dir=tmp_path / "report")
    assert result.report == (tmp_path / "report" / "report.html").resolve() and result.report.is_file()
    section = load_manifest(tmp_path / "report").report
    assert section.title == "two fakes" and len(section.runs) == 2
    assert {Path(r).name for r in section.runs} == {Path(c.folder).name for c in result.plan.cells}
    again = run_experiment(exp, tmp_path / "out", report_dir=tmp_path / "report")
    assert again.ran == [] and "report" in again.skipped


def test_experiments_runner_spreads_a_model_over_its_servers(tmp_path):
    from _openai_helpers import FakeOpenAIServer

    def model(*urls: str) -> list[dict]:
        return [{"spec": "openai:fake-model", "servers": list(urls),
                 "options": {"start_token": "<|endoftext|>", "batch_prompts": 1, "concurrency": 2}}]

    with FakeOpenAIServer() as a, FakeOpenAIServer() as b:
        two = run_experiment(load_experiment(write_experiment(tmp_path, models=model(a.url, b.url), verify=False,
                                                              tasks=["minimal-pair"])), tmp_path / "two")
        one = run_experiment(load_experiment(write_experiment(tmp_path, models=model(a.url), verify=False,
                                                              tasks=["minimal-pair"])), tmp_path / "one")
        again = run_experiment(load_experiment(write_experiment(tmp_path, models=model(b.url, a.url), verify=False,
                                                                tasks=["minimal-pair"])), tmp_path / "one")
    cell = two.plan.cells[0]
    assert one.plan.cells[0].folder == cell.folder and again.ran == []  # replicas: same key, nothing to redo
    servers = json.loads((tmp_path / "two" / cell.folder / "manifest.json").read_text())["eval"]["servers"]
    assert [s["url"] for s in servers] == [a.url, b.url] and all(s["requests"] > 0 for s in servers)
    assert judgment_lines(tmp_path / "two" / cell.folder / "judgments.jsonl") == \
        judgment_lines(tmp_path / "one" / cell.folder / "judgments.jsonl")


@pytest.mark.slow  # generates the six shipped grammars at the demo's size
def test_experiments_runner_demo_yaml_reproduces_the_demo_items_and_judgments(tmp_path):
    from depthkit.demo import DEFAULT_GRAMMARS, demo_experiment

    exp = demo_experiment(model="fake").model_copy(update={"verify": VerifyEntry(run=False),
                                                           "report": ReportEntry(run=False)})
    assert [g.grammar for g in exp.grammars] == list(DEFAULT_GRAMMARS)
    run_experiment(exp, tmp_path / "demo")
    plan = make_plan(exp)
    options = Options(depths=parse_depths("0-4"), per_depth=12, seed=1, controls=True)  # what the demo ran
    key = lambda j: (j["item_id"], j["task"])  # noqa: E731
    for step, cell in zip(plan.generates, plan.cells):
        items = run_generation(load_grammar(step.grammar), options).items
        folder = tmp_path / "demo" / step.folder
        assert (folder / "items.jsonl").read_text() == "".join(dumps(i.to_dict()) + "\n" for i in items)
        expected = [j.to_dict() for j in evaluate(items, "fake", ("minimal-pair", "judgment"), progress=False)]
        got = judgment_lines(tmp_path / "demo" / cell.folder / "judgments.jsonl")
        assert sorted(got, key=key) == sorted(expected, key=key), step.name


def test_experiments_runner_a_failing_model_leaves_the_others_done_and_says_so(tmp_path):
    from _openai_helpers import free_port

    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    models = ["fake", {"spec": "openai:m", "servers": [dead], "options": {"max_retries": 0, "start_token": "<s>"}}]
    exp = load_experiment(write_experiment(tmp_path, models=models, verify=False, tasks=["minimal-pair"]))
    with pytest.raises(BackendError) as caught:
        run_experiment(exp, tmp_path / "out")
    assert "1 step(s) failed" in str(caught.value) and "tiny-rc x openai-m" in str(caught.value)
    assert "run the same command again" in caught.value.fix
    status = step_status(make_plan(exp), tmp_path / "out")
    fake, server = make_plan(exp).cells
    assert status[f"eval:{fake.key}"] and not status[f"eval:{server.key}"]
