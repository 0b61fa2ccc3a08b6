"""Prompted tasks (judgment, forced-choice) and prompt files: building, answers, errors."""

from __future__ import annotations

import json
import math

import pytest

from _eval_helpers import DATA, items, items_folder, make_item
from depthkit.backends.base import Completion
from depthkit.errors import DepthkitError
from depthkit.evaluation import evaluate
from depthkit.tasks import (PROMPT_DIR, chance_level, good_first, judge_forced_choice, judge_judgment, load_prompt,
                            make_task, parse_prompt, read_answer)

PAIR = make_item(id="x/d0/000", depth=0, construction="c", kind="test", control_of=None, good="the author laughs",
                 bad="the author laugh", regions={})


def test_shipped_prompts_load():
    for path in PROMPT_DIR.glob("*.yaml"):
        template = load_prompt(path)
        assert template.text == path.read_text(encoding="utf-8") and len(template.choices) == 2


def test_judgment_asks_about_each_member():
    task = make_task("judgment")
    good, bad = task.requests(PAIR)
    assert "The author laughs." in good.messages[-1]["content"]
    assert "The author laugh." in bad.messages[-1]["content"]
    assert good.choices == ("Yes", "No") and good.messages[-1]["role"] == "user"


def test_judgment_absolute_verdict_needs_both_members_right():
    prompt = make_task("judgment").prompt
    yes = Completion("Yes", {"Yes": -0.1, "No": -2.0})
    no = Completion("No", {"Yes": -3.0, "No": -0.2})
    correct, by, s = judge_judgment(PAIR, [yes, no], prompt)
    assert (correct, by, s["absolute_correct"]) == (True, "relative", True)
    correct, by, s = judge_judgment(PAIR, [no, no], prompt)
    assert s["absolute_correct"] is False and s["good_correct"] is False and s["bad_correct"] is True
    # text only: no P(Yes) to compare, the answers parsed from the words the model wrote decide
    correct, by, s = judge_judgment(PAIR, [Completion("yes, it is."), Completion("No.")], prompt)
    assert (correct, by) == (True, "text") and s["good_answer"] == "Yes" and "good_p_yes" not in s
    assert judge_judgment(PAIR, [Completion("Maybe so"), Completion("No")], prompt)[0] is None


def test_judgment_relative_verdict_compares_p_yes_of_the_members():
    """A model that says "No" to everything is right when it gives the good member the higher P(Yes)."""
    prompt = make_task("judgment").prompt
    good = Completion("No", {"Yes": math.log(0.3), "No": math.log(0.7)})
    bad = Completion("No", {"Yes": math.log(0.1), "No": math.log(0.9)})
    correct, by, s = judge_judgment(PAIR, [good, bad], prompt)
    assert (correct, by, s["absolute_correct"]) == (True, "relative", False)
    assert s["good_p_yes"] == pytest.approx(math.log(0.3), rel=1e-12)
    assert s["bad_p_yes"] == pytest.approx(math.log(0.1), rel=1e-12)
    assert (s["good_answer"], s["bad_answer"]) == ("No", "No")
    assert judge_judgment(PAIR, [bad, good], prompt)[:2] == (False, "relative")
    # unnormalised values (e.g. an old cache) are normalised over the two choices first
    raw = Completion("No", {"Yes": math.log(0.03), "No": math.log(0.07)})
    assert judge_judgment(PAIR, [raw, bad], prompt)[2]["good_p_yes"] == pytest.approx(math.log(0.3), rel=1e-12)
    assert make_task("judgment").info().chance == 0.5
    assert chance_level("judgment", verdict_by="logprobs") == 0.25  # runs written before the relative verdict
    assert make_task("judgment").identity()["verdict"] == "relative"  # such a run folder is not resumed into
    assert make_task("forced-choice").identity()["orders"] == "both"


def test_judgment_of_a_good_only_item_is_the_good_answer():
    task = make_task("judgment")
    item = PAIR.model_copy(update={"bad": None})
    (request,) = task.requests(item)
    assert "The author laughs." in request.messages[-1]["content"]
    yes, no = Completion("Yes", {"Yes": -0.1, "No": -2.0}), Completion("No", {"Yes": -3.0, "No": -0.2})
    assert judge_judgment(item, [yes], task.prompt)[0] is True
    correct, _, scores = judge_judgment(item, [no], task.prompt)
    assert correct is False and "bad_answer" not in scores
    assert judge_judgment(item, [Completion("Maybe")], task.prompt)[0] is None


def test_logprobs_beat_text_when_both_exist():
    assert read_answer(Completion("No", {"Yes": -0.5, "No": -0.9}), ("Yes", "No")) == ("Yes", "logprobs")
    assert read_answer(Completion("No", {"Yes": -0.5}), ("Yes", "No")) == ("No", "text")
    assert read_answer(Completion("  B) the second"), ("A", "B")) == ("B", "text")


def test_forced_choice_asks_both_orders_and_keeps_the_counterbalanced_one():
    task = make_task("forced-choice")
    firsts = [good_first(item.id) for item in items()]
    assert 0 < sum(firsts) < len(firsts)
    assert firsts == [good_first(item.id) for item in items()]
    assert [good_first(i.id, seed=1) for i in items()] != firsts or len(firsts) < 4
    for item in items():
        if not item.bad:
            assert task.requests(item) == []
            continue
        good_a, good_b = task.requests(item)
        good_text = item.good[0].upper() + item.good[1:] + "."
        assert f"A: {good_text}\n" in good_a.messages[-1]["content"]
        assert f"B: {good_text}\n" in good_b.messages[-1]["content"]


def test_forced_choice_verdict_removes_position_bias():
    """A model answering "A" every time is judged by the log-odds of the good label over both orders."""
    prompt = make_task("forced-choice").prompt
    # good shown as A: P(A) = .97; good shown as B: P(A) = .9 (the bias), P(B) = .1
    as_a = Completion("A", {"A": math.log(0.97), "B": math.log(0.03)})
    as_b = Completion("A", {"A": math.log(0.9), "B": math.log(0.1)})
    correct, by, s = judge_forced_choice(PAIR, [as_a, as_b], prompt)
    first, second = math.log(0.97 / 0.03), math.log(0.1 / 0.9)
    assert (correct, by) == (True, "both-orders")
    assert s["logodds_good_first"] == pytest.approx(first, rel=1e-12)
    assert s["logodds_good_second"] == pytest.approx(second, rel=1e-12)
    assert s["position_bias"] == pytest.approx((first - second) / 2, rel=1e-12)
    assert (s["answer_good_first"], s["answer_good_second"]) == ("A", "A")
    shown_first = good_first(PAIR.id)
    assert s["good_label"] == ("A" if shown_first else "B") and s["absolute_correct"] is shown_first
    # the bias alone, no preference: wrong
    flat = Completion("A", {"A": math.log(0.9), "B": math.log(0.1)})
    assert judge_forced_choice(PAIR, [flat, flat], prompt)[:2] == (False, "both-orders")
    # text only: the counterbalanced order's answer decides
    label = "A" if shown_first else "B"
    assert judge_forced_choice(PAIR, [Completion(label), Completion(label)], prompt)[:2] == (True, "text")


def test_few_shot_messages_prompt():
    template = load_prompt(DATA / "prompts" / "few-shot.yaml", "judgment")
    prompt = template.build(sentence="The cat sleeps.")
    assert [m["role"] for m in prompt.messages] == ["system", "user", "assistant", "user"]
    assert prompt.messages[0]["content"].endswith("Reply {Yes} or {No} only.")
    assert prompt.messages[-1]["content"] == "Sentence: The cat sleeps." and prompt.max_tokens == 2


@pytest.mark.parametrize("name, message, line", [
    ("unquoted-yes.yaml", "read as true/false", 4),
    ("unknown-placeholder.yaml", "unknown placeholder {sentense}", 2),
    ("bad-yaml.yaml", "not valid YAML", 4),
])
def test_prompt_file_errors_name_file_and_line(name, message, line):
    with pytest.raises(DepthkitError) as err:
        load_prompt(DATA / "prompts" / name)
    assert message in err.value.message and err.value.line == line
    assert str(err.value.path).endswith(name) and err.value.fix


def test_prompt_checks():
    with pytest.raises(DepthkitError, match="for task 'judgment', not 'forced-choice'"):
        load_prompt(PROMPT_DIR / "judgment.yaml", "forced-choice")
    with pytest.raises(DepthkitError, match="never shows {b}"):
        parse_prompt('task: forced-choice\nuser: "{a}"\nchoices: ["A", "B"]\n')
    with pytest.raises(DepthkitError, match="two different answers"):
        parse_prompt('task: judgment\nuser: "{sentence}"\nchoices: ["Yes", "yes"]\n')
    with pytest.raises(DepthkitError, match="unknown key 'usr'"):
        parse_prompt('task: judgment\nusr: "{sentence}"\nchoices: ["Yes", "No"]\n')
    with pytest.raises(DepthkitError, match="task must be one of"):
        parse_prompt('task: minimal-pair\nuser: "{sentence}"\nchoices: ["Yes", "No"]\n')
    with pytest.raises(DepthkitError, match="not found"):
        load_prompt("/nowhere/p.yaml")


FEW_SHOT = """task: judgment
user: |
  Is this sentence grammatical? {sentence}
choices: ["Yes", "No"]
examples:
  - good: The dogs bark.
    bad: The dogs barks.
  - good: "A cat sleeps."
    bad: "A cat sleep."
"""


def test_few_shot_examples_are_asked_and_answered_before_the_question():
    task = make_task("judgment", prompt=parse_prompt(FEW_SHOT, "shots.yaml"))
    good, _ = task.requests(PAIR)
    turns = [(m["role"], m["content"]) for m in good.messages]
    assert turns == [("user", "Is this sentence grammatical? The dogs bark."), ("assistant", "Yes"),
                     ("user", "Is this sentence grammatical? The dogs barks."), ("assistant", "No"),
                     ("user", "Is this sentence grammatical? A cat sleep."), ("assistant", "No"),
                     ("user", "Is this sentence grammatical? A cat sleeps."), ("assistant", "Yes"),
                     ("user", "Is this sentence grammatical? The author laughs.")]
    assert task.manifest()["prompt"]["examples"] == [{"good": "The dogs bark.", "bad": "The dogs barks."},
                                                     {"good": "A cat sleeps.", "bad": "A cat sleep."}]
    text = FEW_SHOT.replace("judgment", "forced-choice").replace("{sentence}", "A: {a} B: {b}").replace(
        '["Yes", "No"]', '["A", "B"]')
    forced = make_task("forced-choice", prompt=parse_prompt(text, "fc.yaml"))
    good_a, good_b = forced.requests(PAIR)
    shots = [(m["role"], m["content"]) for m in good_a.messages[:4]]
    assert shots == [("user", "Is this sentence grammatical? A: The dogs bark. B: The dogs barks."), ("assistant", "A"),
                     ("user", "Is this sentence grammatical? A: A cat sleep. B: A cat sleeps."), ("assistant", "B")]
    assert good_b.messages[:4] == good_a.messages[:4]


@pytest.mark.parametrize("examples, message, line", [
    ("examples: [The dogs bark.]\n", "examples[0] must be a mapping", 5),
    ("examples:\n  - good: The dogs bark.\n", "examples[0] needs `bad` text", 6),
    ("examples:\n  - good: The dogs bark.\n    bad: The dogs barks.\n  - good: A cat sleeps.\n    worse: x\n",
     "examples[1] has an unknown key 'worse'", 8),
    ("examples:\n  - good: The dogs bark.\n    bad: the dogs bark\n", "the same sentence", 6),
    ("examples: {}\n", "must be a list", 5),
])
def test_few_shot_example_errors_name_the_line_and_fix(examples, message, line):
    text = 'task: judgment\nuser: "{sentence}"\nchoices: ["Yes", "No"]\nmax_tokens: 2\n' + examples
    with pytest.raises(DepthkitError) as err:
        parse_prompt(text, "p.yaml")
    assert message in err.value.message and err.value.line == line and err.value.fix


def test_a_few_shot_example_that_is_an_evaluated_sentence_is_refused(tmp_path):
    folder = items_folder(tmp_path)
    leaked = items()[2].bad  # a bad member, written as a user would (capitalised, with a period)
    path = tmp_path / "leak.yaml"
    path.write_text(FEW_SHOT + f"  - good: The birds sing.\n    bad: {leaked[0].upper() + leaked[1:]}.\n",
                    encoding="utf-8")
    with pytest.raises(DepthkitError) as err:
        evaluate(folder, "fake", "judgment", tmp_path / "run", prompts=[path], progress=False)
    assert "is also an evaluated sentence" in err.value.message and items()[2].id in err.value.message
    assert err.value.line == 10 and str(err.value.path) == str(path) and err.value.fix
    ok = tmp_path / "ok.yaml"
    ok.write_text(FEW_SHOT, encoding="utf-8")
    run = evaluate(folder, "fake", "judgment", tmp_path / "run", prompts=[ok], progress=False, limit=2)
    manifest = json.loads((run.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["eval"]["tasks"]["judgment"]["prompt"]["examples"][1] == {"good": "A cat sleeps.",
                                                                            "bad": "A cat sleep."}


def test_biased_fake_model_is_right_by_the_bias_free_verdicts(tmp_path):
    """A model saying "No" to every sentence and "A" to every pair scores 0 and ~.5 on the answers, but the
    relative and both-orders verdicts follow its preferences (here: always the good member)."""
    folder = items_folder(tmp_path)
    judgments = evaluate(items(), "fake", ("judgment", "forced-choice"), None, progress=False,
                         options={"items": str(folder), "accuracy": 1.0, "no_bias": 4.0, "first_bias": 4.0})
    paired = [j for j in judgments if j.correct is not None and items_by_id()[j.item_id].bad]
    judged = [j for j in paired if j.task == "judgment"]
    forced = [j for j in paired if j.task == "forced-choice"]
    assert judged and forced
    assert all(j.verdict_by == "relative" and j.correct for j in judged)
    assert all(j.scores["good_answer"] == j.scores["bad_answer"] == "No" for j in judged)
    assert not any(j.scores["absolute_correct"] for j in judged)
    assert all(j.verdict_by == "both-orders" and j.correct for j in forced)
    assert all(j.scores["answer"] == "A" and j.scores["position_bias"] > 3.0 for j in forced)
    absolute = sum(j.scores["absolute_correct"] for j in forced) / len(forced)
    assert absolute == sum(good_first(j.item_id) for j in forced) / len(forced)  # right only when good was A


def items_by_id():
    return {i.id: i for i in items()}
