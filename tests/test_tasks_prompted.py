"""Prompted tasks (judgment, forced-choice) and prompt files: building, answers, errors."""

from __future__ import annotations

import pytest

from _eval_helpers import DATA, items, make_item
from depthkit.backends.base import Completion
from depthkit.errors import DepthkitError
from depthkit.tasks import (PROMPT_DIR, good_first, judge_forced_choice, judge_judgment, load_prompt, make_task,
                            parse_prompt, read_answer)

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


def test_judgment_needs_both_members_right():
    prompt = make_task("judgment").prompt
    yes = Completion("Yes", {"Yes": -0.1, "No": -2.0})
    no = Completion("No", {"Yes": -3.0, "No": -0.2})
    assert judge_judgment(PAIR, [yes, no], prompt)[:2] == (True, "logprobs")
    correct, by, s = judge_judgment(PAIR, [no, no], prompt)
    assert correct is False and s["good_correct"] is False and s["bad_correct"] is True
    # text only: parsed from the words the model wrote
    correct, by, s = judge_judgment(PAIR, [Completion("yes, it is."), Completion("No.")], prompt)
    assert (correct, by) == (True, "text") and s["good_answer"] == "Yes"
    assert judge_judgment(PAIR, [Completion("Maybe so"), Completion("No")], prompt)[0] is None


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


def test_forced_choice_order_is_counterbalanced_and_deterministic():
    task = make_task("forced-choice")
    firsts = [good_first(item.id) for item in items()]
    assert 0 < sum(firsts) < len(firsts)
    assert firsts == [good_first(item.id) for item in items()]
    assert [good_first(i.id, seed=1) for i in items()] != firsts or len(firsts) < 4
    for item in items():
        if not item.bad:
            assert task.requests(item) == []
            continue
        (prompt,) = task.requests(item)
        text = prompt.messages[-1]["content"]
        a_line = next(line for line in text.splitlines() if line.startswith("A: "))
        good_text = item.good[0].upper() + item.good[1:] + "."
        assert (a_line == f"A: {good_text}") == good_first(item.id)


def test_forced_choice_verdict():
    prompt = make_task("forced-choice").prompt
    label = "A" if good_first(PAIR.id) else "B"
    other = "B" if label == "A" else "A"
    assert judge_forced_choice(PAIR, [Completion(label)], prompt)[:2] == (True, "text")
    correct, by, s = judge_forced_choice(PAIR, [Completion("?", {label: -2.0, other: -0.1})], prompt)
    assert (correct, by, s["good_label"], s["answer"]) == (False, "logprobs", label, other)


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
