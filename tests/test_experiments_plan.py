"""The grid as data: the same inputs give the same folders, changed inputs new ones."""

from __future__ import annotations

from depthkit.experiments import load_experiment, make_plan
from _experiment_helpers import write_experiment


def plan_of(tmp_path, **fields):
    return make_plan(load_experiment(write_experiment(tmp_path, **fields)))


def test_experiments_plan_is_deterministic_and_names_folders_by_key(tmp_path):
    first, second = plan_of(tmp_path), plan_of(tmp_path)
    assert first == second and first.to_dict() == second.to_dict()
    assert len(first.generates) == 1 and len(first.cells) == 2  # one grammar x two models
    step = first.generates[0]
    assert step.folder == f"tiny-rc-{step.key}"
    assert [c.folder for c in first.cells] == [f"runs/tiny-rc-fake-{first.cells[0].key}",
                                               f"runs/tiny-rc-fake-b-{first.cells[1].key}"]
    assert len({c.key for c in first.cells}) == 2


def test_experiments_plan_keys_change_with_the_inputs_that_change_outputs(tmp_path):
    base = plan_of(tmp_path)
    more = plan_of(tmp_path, per_depth=5)
    assert more.generates[0].key != base.generates[0].key
    assert not {c.key for c in more.cells} & {c.key for c in base.cells}
    tasks = plan_of(tmp_path, tasks=["minimal-pair"])
    assert tasks.generates[0].key == base.generates[0].key and tasks.cells[0].key != base.cells[0].key
    other_seed = plan_of(tmp_path, models=["fake", {"spec": "fake", "label": "fake-b", "options": {"seed": 8}}])
    assert other_seed.cells[0].key == base.cells[0].key and other_seed.cells[1].key != base.cells[1].key


def test_experiments_plan_keys_ignore_what_does_not_change_outputs(tmp_path):
    base = plan_of(tmp_path)
    slow = plan_of(tmp_path, models=["fake", {"spec": "fake", "label": "fake-b", "options": {"seed": 7, "delay": 0.5}}],
                   eval={"batch_size": 3})
    assert [c.key for c in slow.cells] == [c.key for c in base.cells]
    reordered = plan_of(tmp_path, models=[{"spec": "fake", "label": "fake-b", "options": {"seed": 7}}, "fake"])
    assert {c.key for c in reordered.cells} == {c.key for c in base.cells}
    a = plan_of(tmp_path, models=[{"spec": "openai:m", "servers": ["http://127.0.0.1:1/v1"]}])
    b = plan_of(tmp_path, models=[{"spec": "openai:m", "servers": ["http://127.0.0.1:2/v1", "http://127.0.0.1:3/v1"]}])
    assert a.cells[0].key == b.cells[0].key  # replicas of one model: same outputs
    assert b.cells[0].options["base_url"] == "http://127.0.0.1:2/v1,http://127.0.0.1:3/v1"


def test_experiments_plan_leaves_out_models_that_cannot_run(tmp_path):
    exp = load_experiment(write_experiment(tmp_path))
    plan = make_plan(exp, available={"fake-b": "not installed here"})
    assert [c.model for c in plan.cells] == ["fake"] and plan.skipped_models == {"fake-b": "not installed here"}
