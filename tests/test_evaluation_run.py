"""`evaluate` with the fake backend: outputs, manifest, cache use, resume, filters, errors."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from _eval_helpers import items, items_folder, read_judgments
from depthkit.backends.base import Backend, Option, TokenScores
from depthkit.errors import DepthkitError
from depthkit.evaluation import EvalConfig, evaluate, limit_items
from depthkit.present import Presentation
from depthkit.schema import VerificationRecord

KEYS = ["item_id", "model", "task", "depth", "construction", "kind", "control_of", "correct", "verdict_by", "scores"]


def run(tmp_path: Path, **kw) -> Path:
    folder = kw.pop("folder", None) or items_folder(tmp_path)
    kw.setdefault("out", tmp_path / "run")
    kw.setdefault("progress", False)
    return evaluate(folder, kw.pop("model", "fake"), **kw)


def test_all_tasks_every_item_once_with_schema_keys(tmp_path):
    path = run(tmp_path, tasks=("minimal-pair", "judgment", "forced-choice"))
    records = read_judgments(path)
    n = len(items())
    assert len(records) == 3 * n
    assert {(r["item_id"], r["task"]) for r in records} == {(i.id, t) for i in items()
                                                            for t in ("minimal-pair", "judgment", "forced-choice")}
    assert all(list(r) == KEYS for r in records)
    # item order, task by task
    assert [r["item_id"] for r in records[:n]] == [i.id for i in items()]
    no_bad = {r["task"]: r for r in records if r["item_id"] == "handmade/d0/000"}
    assert no_bad["minimal-pair"]["correct"] is None and no_bad["forced-choice"]["correct"] is None
    assert no_bad["judgment"]["correct"] is not None and "bad_answer" not in no_bad["judgment"]["scores"]


def test_manifest_records_backend_prompts_presentation_and_counts(tmp_path):
    run(tmp_path, tasks=("minimal-pair", "judgment"), presentation=Presentation(period=False), seed=7)
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())["eval"]
    assert m["status"] == "complete" and m["model"] == "fake"
    assert m["backend"]["backend"] == "fake" and m["presentation"] == {"capitalize": True, "period": False}
    assert m["seed"] == 7 and "python" in m["versions"] and m["items_sha256"]
    prompt = m["tasks"]["judgment"]["prompt"]
    assert "{sentence}" in prompt["text"] and len(prompt["sha256"]) == 64
    assert m["tasks"]["minimal-pair"]["verdict_by"] == "critical"
    assert m["counts"]["judgments"] == 2 * len(items())
    assert m["counts"]["requests_sent"] > 0 and m["counts"]["requests_from_cache"] == 0


def test_second_run_is_answered_from_the_cache(tmp_path):
    counter = tmp_path / "count.txt"
    first = run(tmp_path, options={"count_file": str(counter)})
    sent = len(counter.read_text().splitlines())
    (tmp_path / "run" / "judgments.jsonl").unlink()
    second = run(tmp_path, options={"count_file": str(counter)})
    assert len(counter.read_text().splitlines()) == sent  # nothing sent again
    assert read_judgments(first) == read_judgments(second)
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())["eval"]
    assert m["counts"]["requests_sent"] == 0 and m["counts"]["requests_from_cache"] == sent


def test_resume_skips_finished_items(tmp_path):
    path = run(tmp_path)
    records = read_judgments(path)
    path.write_text("".join(json.dumps(r) + "\n" for r in records[:5]) + '{"item_id": "trunc', encoding="utf-8")
    counter = tmp_path / "count.txt"
    run(tmp_path, options={"count_file": str(counter)})
    assert not counter.exists()  # everything came from the cache
    assert read_judgments(path) == records


def test_other_model_in_the_same_folder_is_refused(tmp_path):
    run(tmp_path)
    with pytest.raises(DepthkitError, match="another model"):
        run(tmp_path, options={"seed": 3})


def test_runtime_options_do_not_invalidate(tmp_path):
    first = read_judgments(run(tmp_path))
    run(tmp_path, options={"delay": "0"})  # same identity: the finished judgments are resumed
    (tmp_path / "run" / "judgments.jsonl").unlink()
    second = read_judgments(run(tmp_path, options={"delay": "0"}))
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())["eval"]
    assert m["counts"]["requests_sent"] == 0 and m["counts"]["requests_from_cache"] > 0  # same cache keys
    assert second == first


def test_limit_keeps_first_items_per_depth_with_controls(tmp_path):
    kept = limit_items(items(), 1)
    tests = [i for i in kept if i.kind == "test"]
    assert sorted(i.depth for i in tests) == sorted({i.depth for i in items()})
    assert all(i.control_of in {t.id for t in tests} for i in kept if i.kind == "control")
    path = run(tmp_path, limit=1)
    assert len(read_judgments(path)) == len(kept)


def test_verified_only_needs_verification(tmp_path):
    with pytest.raises(DepthkitError) as err:
        run(tmp_path, verified_only=True)
    assert "depthkit verify" in err.value.fix and "verification.jsonl" in err.value.message


def test_verified_only_keeps_verified_items(tmp_path):
    from depthkit.verify import load_verified_ids  # noqa: F401  (evaluate needs it: a broken import must fail here)

    folder = items_folder(tmp_path)
    all_items = items()
    with open(folder / "verification.jsonl", "w") as f:
        for n, item in enumerate(all_items):
            not_run = {"status": "not_run", "reason": "test"}
            record = VerificationRecord(item_id=item.id, depth=item.depth, construction=item.construction,
                                        kind=item.kind, grammar=not_run, spacy=not_run, benepar=not_run,
                                        verified=n % 2 == 0, verified_by="test")
            f.write(json.dumps(record.to_dict()) + "\n")
    path = run(tmp_path, folder=folder, verified_only=True)
    assert [r["item_id"] for r in read_judgments(path)] == [i.id for n, i in enumerate(all_items) if n % 2 == 0]


def test_fake_accuracy_shows_in_the_summary(tmp_path, caplog):
    folder = items_folder(tmp_path)
    caplog.set_level(logging.INFO, logger="depthkit")
    path = run(tmp_path, folder=folder, options={"items": str(folder), "accuracy": "1", "decay": "1"})
    line = next(x for x in caplog.messages if x.startswith("minimal-pair accuracy by depth: "))
    cells = re.findall(r"d(\d+) (\d\.\d\d) \((\d+)\)", line)
    judged = [r for r in read_judgments(path) if r["kind"] == "test" and r["correct"] is not None]
    # one cell per depth: accuracy over the test items with a verdict (1.0 at depth 0, then 0)
    assert [(int(d), int(n)) for d, _, n in cells] == sorted(
        (d, sum(1 for r in judged if r["depth"] == d)) for d in {r["depth"] for r in judged})
    assert [a for _, a, _ in cells] == ["1.00"] + ["0.00"] * (len(cells) - 1)


class ScoreOnly(Backend):
    name = "score-only"
    options = {"token": Option(str, None, "secret", secret=True)}

    def score(self, requests):
        return [TokenScores((r.continuation,), (0,), (-1.0,)) for r in requests]


def test_backend_without_prompts_is_refused_for_prompted_tasks(tmp_path):
    with pytest.raises(DepthkitError, match="cannot answer prompts"):
        run(tmp_path, model=ScoreOnly(), tasks=("judgment",))


def test_secrets_stay_out_of_every_file(tmp_path):
    run(tmp_path, model=ScoreOnly(None, token="sk-VERYSECRET"))
    for f in (tmp_path / "run").iterdir():
        assert b"VERYSECRET" not in f.read_bytes(), f


def test_bad_arguments(tmp_path):
    with pytest.raises(DepthkitError, match="unknown task"):
        run(tmp_path, tasks=("cloze",))
    with pytest.raises(DepthkitError, match="batch-size"):
        run(tmp_path, batch_size=0)
    with pytest.raises(DepthkitError, match="not found"):
        run(tmp_path, folder=tmp_path / "missing")
    with pytest.raises(DepthkitError, match="which this run does not do"):
        from depthkit.tasks import PROMPT_DIR

        run(tmp_path, prompts=[PROMPT_DIR / "judgment.yaml"])


def test_small_batches_give_the_same_judgments(tmp_path):
    a = read_judgments(run(tmp_path, out=tmp_path / "a", batch_size=1))
    b = read_judgments(run(tmp_path, out=tmp_path / "b", batch_size=1000))
    assert a == b


def test_tasks_run_one_by_one_into_one_folder(tmp_path):
    run(tmp_path, tasks=("minimal-pair",))
    path = run(tmp_path, tasks=("judgment",))
    records = read_judgments(path)
    assert [r["task"] for r in records] == ["minimal-pair"] * len(items()) + ["judgment"] * len(items())
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())["eval"]
    assert set(m["tasks"]) == set(m["identity"]) == {"minimal-pair", "judgment"}
    assert set(m["counts"]["per_task"]) == {"minimal-pair", "judgment"}
    run(tmp_path, tasks=("minimal-pair", "judgment"))  # resuming both is fine
    with pytest.raises(DepthkitError, match="another model"):
        run(tmp_path, tasks=("forced-choice",), options={"seed": 5})


def pairless_folder(tmp_path: Path) -> Path:
    """Items of a grammar without `pair:` (bad is null), two per depth."""
    folder = tmp_path / "pairless"
    folder.mkdir()
    base = next(i for i in items() if not i.bad).to_dict()
    rows = [{**base, "id": f"nopair/d{d}/{n:03d}", "grammar": "nopair", "depth": d} for d in (0, 1) for n in (0, 1)]
    (folder / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


@pytest.mark.parametrize("task", ["minimal-pair", "forced-choice"])
def test_paired_tasks_refuse_items_without_bad_members(tmp_path, task):
    folder = pairless_folder(tmp_path)
    with pytest.raises(DepthkitError) as err:
        run(tmp_path, folder=folder, tasks=("judgment", task))
    assert "pair:" in err.value.message and task in err.value.message
    assert str(err.value.path).endswith("items.jsonl") and "--task judgment" in err.value.fix
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_judgment_on_good_only_items_scores_the_good_sentence(tmp_path):
    records = read_judgments(run(tmp_path, folder=pairless_folder(tmp_path), tasks=("judgment",)))
    assert len(records) == 4
    for r in records:
        assert "bad_answer" not in r["scores"]
        assert r["correct"] == r["scores"]["good_correct"] == (r["scores"]["good_answer"] == "Yes")


def test_mixed_folder_warns_and_leaves_pairless_items_without_verdict(tmp_path, caplog):
    records = read_judgments(run(tmp_path, tasks=("minimal-pair",)))
    assert any(f"1 of {len(items())} items have no bad member" in m for m in caplog.messages)
    assert [r["correct"] for r in records if r["item_id"] == "handmade/d0/000"] == [None]


def generate_into(folder: Path, seed: int) -> None:
    import depthkit
    from depthkit.generation import write_generated

    grammar = depthkit.load_grammar("object-rc")
    write_generated(folder, grammar, depthkit.generate(grammar, depths="0-1", per_depth=3, seed=seed), {})


def test_regenerated_items_are_not_resumed(tmp_path):
    folder = tmp_path / "generated"
    generate_into(folder, seed=1)
    old = read_judgments(run(tmp_path, folder=folder))
    generate_into(folder, seed=2)  # same ids, other sentences
    new_items = [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]
    assert [i["id"] for i in new_items] == [r["item_id"] for r in old]
    with pytest.raises(DepthkitError) as err:
        run(tmp_path, folder=folder)
    assert err.value.path == tmp_path / "run" and "different items.jsonl" in err.value.message
    assert "another --out" in err.value.fix and "--force" in err.value.fix
    assert read_judgments(tmp_path / "run" / "judgments.jsonl") == old  # untouched

    path = run(tmp_path, folder=folder, force=True)
    fresh = read_judgments(run(tmp_path, folder=folder, out=tmp_path / "clean"))
    assert read_judgments(path) == fresh and fresh != old
    assert read_judgments(tmp_path / "run" / "judgments.jsonl.stale-1") == old  # moved aside, not lost
    m = json.loads((tmp_path / "run" / "manifest.json").read_text())["eval"]
    assert m["items_sha256"] == json.loads((tmp_path / "clean" / "manifest.json").read_text())["eval"]["items_sha256"]
    run(tmp_path, folder=folder, force=True)
    assert (tmp_path / "run" / "judgments.jsonl.stale-2").exists()


def test_force_starts_over_after_a_model_change(tmp_path):
    first = read_judgments(run(tmp_path))
    with pytest.raises(DepthkitError, match="another model") as err:
        run(tmp_path, options={"seed": 3})
    assert "--force" in err.value.fix
    other = read_judgments(run(tmp_path, options={"seed": 3}, force=True))
    assert other != first and {r["item_id"] for r in other} == {r["item_id"] for r in first}


@pytest.mark.parametrize("where", ["/proc/depthkit-test/run", "file/run"])
def test_out_that_cannot_be_created(tmp_path, where):
    (tmp_path / "file").write_text("x")
    out = Path(where) if where.startswith("/") else tmp_path / where
    with pytest.raises(DepthkitError) as err:
        run(tmp_path, out=out)
    assert err.value.path == out and "cannot create" in err.value.message and "--out" in err.value.fix


def test_evaluation_items_in_memory_give_the_folder_run_judgments(tmp_path, monkeypatch):
    tasks = ("minimal-pair", "judgment", "forced-choice")
    on_disk = read_judgments(run(tmp_path, tasks=tasks))
    monkeypatch.chdir(tmp_path / "run")
    before = sorted(p.name for p in Path.cwd().iterdir())
    judgments = evaluate(items(), "fake", tasks)
    assert [j.to_dict() for j in judgments] == on_disk
    assert sorted(p.name for p in Path.cwd().iterdir()) == before  # nothing written without `out`


def test_evaluation_items_in_memory_written_when_out_is_given(tmp_path):
    config = EvalConfig(tasks=("minimal-pair",), limit=1, progress=False)
    judgments = evaluate(items(), "fake", out=tmp_path / "mem", config=config)
    assert [j.to_dict() for j in judgments] == read_judgments(tmp_path / "mem" / "judgments.jsonl")
    m = json.loads((tmp_path / "mem" / "manifest.json").read_text())["eval"]
    assert m["status"] == "complete" and m["items"] == "(items in memory)" and m["limit"] == 1
    folder_run = run(tmp_path, limit=1)  # the items as items.jsonl holds them: the same sha256
    assert m["items_sha256"] == json.loads((folder_run.parent / "manifest.json").read_text())["eval"]["items_sha256"]
    again = evaluate(items(), "fake", out=tmp_path / "mem", config=config, options={"count_file": str(tmp_path / "n")})
    assert again == judgments and not (tmp_path / "n").exists()


def test_evaluation_config_checks_and_keyword_settings(tmp_path):
    with pytest.raises(DepthkitError, match="--limit must be at least 1"):
        EvalConfig(limit=0)
    with pytest.raises(DepthkitError, match="unknown verdict rule"):
        EvalConfig(verdict_by="max")
    config = EvalConfig(tasks="judgment", prompts=["a.yaml"])
    assert config.tasks == ("judgment",) and config.prompts == (Path("a.yaml"),)
    with pytest.raises(DepthkitError, match="needs the folder the items came from"):
        evaluate(items(), "fake", verified_only=True)
    with pytest.raises(DepthkitError, match="appears twice"):
        evaluate(items() + items()[:1], "fake")


def test_evaluation_unknown_setting_lists_the_settings(tmp_path):
    with pytest.raises(DepthkitError, match="no setting limt") as err:
        run(tmp_path, limt=1)
    assert "limit" in err.value.fix
