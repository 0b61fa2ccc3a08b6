"""The fake backend: deterministic, LM-like (same prefix, same scores), and its accuracy knob."""

from __future__ import annotations

import math

import pytest

from _eval_helpers import ITEMS, items
from depthkit.backends import get_backend
from depthkit.backends.base import Prompt, ScoreRequest
from depthkit.backends.fake import fake_tokens
from depthkit.errors import DepthkitError
from depthkit.tasks import make_task, minimal_pair_requests


def test_tokens_cover_the_text_with_whitespace_in_front():
    text = "The senators that the doctor admires laugh."
    pieces = fake_tokens(text)
    assert "".join(p for _, p in pieces) == text
    assert all(text[o:o + len(p)] == p for o, p in pieces)
    assert (3, " sena") in pieces and pieces[-1] == (len(text) - 1, ".")


def test_scores_are_deterministic_and_prefix_consistent():
    fake = get_backend("fake")
    a, b = fake.score([ScoreRequest("", "The doctor smiles."), ScoreRequest("", "The doctor smile.")])
    again = get_backend("fake").score([ScoreRequest("", "The doctor smiles.")])[0]
    assert a == again
    assert a.logprobs[:2] == b.logprobs[:2]  # shared prefix "The doctor"
    assert a.logprobs[2] != b.logprobs[2]
    assert all(lp < 0 for lp in a.logprobs)
    assert get_backend("fake", seed=1).score([ScoreRequest("", "The doctor smiles.")])[0] != a


def test_accuracy_knob_makes_the_good_member_win():
    perfect = get_backend("fake", items=str(ITEMS), accuracy=1.0)
    never = get_backend("fake", items=str(ITEMS), accuracy=0.0)
    for item in items():
        if not item.bad:
            continue
        good, bad = perfect.score(minimal_pair_requests(item))
        assert good.total > bad.total and good.total / len(good.logprobs) > bad.total / len(bad.logprobs)
        good, bad = never.score(minimal_pair_requests(item))
        assert good.total < bad.total


def test_accuracy_knob_also_drives_prompted_answers():
    fake = get_backend("fake", items=str(ITEMS), accuracy=1.0)
    judgment, forced = make_task("judgment"), make_task("forced-choice")
    for item in items():
        if not item.bad:
            continue
        yes, no = fake.complete(judgment.requests(item))
        assert (yes.text, no.text) == ("Yes", "No")
        first, second = fake.complete(forced.requests(item))  # the good member shown as A, then as B
        assert (first.text, second.text) == ("A", "B")
        assert first.choice_logprobs["A"] > first.choice_logprobs["B"]
        assert second.choice_logprobs["B"] > second.choice_logprobs["A"]


def test_bias_knobs_shift_answers_and_keep_p_answer_normalised():
    fake = get_backend("fake", items=str(ITEMS), accuracy=1.0, no_bias=5.0, first_bias=5.0)
    judgment, forced = make_task("judgment"), make_task("forced-choice")
    item = next(i for i in items() if i.bad)
    yes, no = fake.complete(judgment.requests(item))
    assert (yes.text, no.text) == ("No", "No")  # "No" to everything...
    assert yes.choice_logprobs["Yes"] > no.choice_logprobs["Yes"]  # ...but P(Yes) still ranks the members
    first, second = fake.complete(forced.requests(item))
    assert (first.text, second.text) == ("A", "A")
    for answer in (yes, no, first, second):
        assert sum(math.exp(v) for v in answer.choice_logprobs.values()) == pytest.approx(1.0, rel=1e-9)


def test_decay_lowers_accuracy_with_depth():
    fake = get_backend("fake", items=str(ITEMS), accuracy=1.0, decay=1.0)
    for item in items():
        if item.bad:
            good, bad = fake.score(minimal_pair_requests(item))
            assert (good.total > bad.total) == (item.depth == 0)


def test_accuracy_needs_items_and_a_probability():
    with pytest.raises(DepthkitError, match="needs option items"):
        get_backend("fake", accuracy=0.5)
    with pytest.raises(DepthkitError, match="outside 0..1"):
        get_backend("fake", items=str(ITEMS), accuracy=2)


def test_complete_without_items_is_deterministic():
    fake = get_backend("fake")
    prompt = Prompt(({"role": "user", "content": "Is it? Answer Yes or No."},), ("Yes", "No"))
    a, b = fake.complete([prompt, prompt])
    assert a == b and a.text in ("Yes", "No") and set(a.choice_logprobs) == {"Yes", "No"}


def test_count_file_counts_executed_requests(tmp_path):
    counter = tmp_path / "count.txt"
    fake = get_backend("fake", count_file=str(counter))
    fake.score([ScoreRequest("", "A."), ScoreRequest("", "B.")])
    fake.complete([Prompt(({"role": "user", "content": "x"},), ("Yes", "No"))])
    assert len(counter.read_text().splitlines()) == 3
    assert "count_file" not in fake.fingerprint()["options"]
