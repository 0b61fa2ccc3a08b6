"""The openai backend against an in-process fake server (fast) and llama.cpp's real server (slow)."""

from __future__ import annotations

import importlib.util
import logging
import math
import random

import pytest
from _openai_helpers import GREEDY, FakeOpenAIServer, fake_logprob, fake_tokenize, llama_cpp_server

import depthkit.backends.openai.http as openai_http
from depthkit.backends import get_backend
from depthkit.backends.answers import from_top_logprobs, normalise
from depthkit.backends.base import Prompt, ScoreRequest
from depthkit.backends.openai import OpenAIBackend
from depthkit.backends.openai.answers import choice_logprobs
from depthkit.backends.openai.http import retry_after
from depthkit.errors import DepthkitError

START = "<|endoftext|>"


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Retry waits the backend asked for (not slept)."""
    recorded: list[float] = []
    monkeypatch.setattr(openai_http, "sleep", recorded.append)
    return recorded


def make(server: FakeOpenAIServer, **options) -> OpenAIBackend:
    options.setdefault("start_token", START)
    return OpenAIBackend(options.pop("model", None), base_url=server.url, **options)


def expected(context: str, continuation: str, start: str = START) -> list[tuple[str, int, float]]:
    """(text, offset, logprob) of the continuation's tokens under the fake's toy model."""
    tokens = fake_tokenize(start + context + continuation)
    out, at = [], 0
    for pos, tok in enumerate(tokens):
        if at >= len(start + context):
            out.append((tok, at - len(start + context), fake_logprob(tok, pos)))
        at += len(tok)
    return out


def assert_scores(scores, want: list[tuple[str, int, float]]) -> None:
    assert list(zip(scores.tokens, scores.offsets)) == [(t, o) for t, o, _ in want]
    assert list(scores.logprobs) == pytest.approx([lp for _, _, lp in want])


# ---------------------------------------------------------------------------------------
# scoring


def test_offsets_of_multi_token_words_are_relative_to_the_continuation():
    with FakeOpenAIServer() as server:
        backend = make(server)
        [scores] = backend.score([ScoreRequest("The author", " laughs loudly.")])
    assert scores.tokens == (" lau", "ghs", " lou", "dly", ".")
    assert scores.offsets == (0, 4, 7, 11, 14)
    assert_scores(scores, expected("The author", " laughs loudly."))
    assert "".join(scores.tokens) == " laughs loudly."
    assert scores.span_logprob(0, 7) == pytest.approx(sum(lp for _, _, lp in expected("The author", " laughs")))


def test_results_keep_input_order_under_concurrency():
    rng = random.Random(3)
    words = ["cat", "dogs", "the bird", "a tall tree", "x", "yes no", "owls", "many mice"]
    requests = [ScoreRequest(f"Item {i} is", f" {rng.choice(words)} {i}.") for i in range(40)]
    with FakeOpenAIServer() as server:
        server.faults.extend(f"sleep:{rng.choice([0, 0.01, 0.03])}" for _ in range(60))
        backend = make(server, concurrency=6, batch_prompts=1)
        results = backend.score(requests)
    assert len(results) == len(requests)
    for req, got in zip(requests, results):
        assert_scores(got, expected(req.context, req.continuation))


def test_concurrency_limit_is_respected():
    with FakeOpenAIServer(delay=0.05) as server:
        backend = make(server, concurrency=3, batch_prompts=1)
        backend.score([ScoreRequest("Number", f" {i}{i}") for i in range(20)])
    assert server.max_in_flight <= 3
    assert server.max_in_flight >= 2  # requests really overlapped


def test_identical_prompts_are_sent_once_and_empty_continuations_not_at_all():
    with FakeOpenAIServer() as server:
        backend = make(server, batch_prompts=1)
        backend.score([ScoreRequest("a", " b")])  # model lookup and alignment probe happen here
        before = len(server.posts())
        out = backend.score([ScoreRequest("The dog", " barks."), ScoreRequest("The dog", " barks."),
                             ScoreRequest("The dog", "")])
    assert len(server.posts()) - before == 1
    assert out[0] == out[1]
    assert out[2].tokens == () and out[2].total == 0.0


def test_a_list_of_prompts_goes_in_one_request_when_the_server_takes_it():
    requests = [ScoreRequest("The cat", f" sat {i}.") for i in range(10)]
    with FakeOpenAIServer() as server:
        backend = make(server, batch_prompts=4)
        results = backend.score(requests)
    lists = [p["body"]["prompt"] for p in server.posts() if isinstance(p["body"]["prompt"], list)]
    assert sorted(len(x) for x in lists) == [2, 4, 4]
    for req, got in zip(requests, results):
        assert_scores(got, expected(req.context, req.continuation))


def test_a_server_that_refuses_lists_gets_one_prompt_per_request_from_then_on(caplog):
    caplog.set_level(logging.INFO, logger="depthkit")
    requests = [ScoreRequest("The cat", f" sat {i}.") for i in range(10)]
    with FakeOpenAIServer(list_prompts=False) as server:
        backend = make(server, batch_prompts=4)
        results = backend.score(requests)
        n_lists = sum(isinstance(p["body"]["prompt"], list) for p in server.posts())
        backend.score([ScoreRequest("The dog", f" ran {i}.") for i in range(6)])
        n_lists_after = sum(isinstance(p["body"]["prompt"], list) for p in server.posts())
    assert n_lists == 1  # the first list was refused (HTTP 500) and never retried as a list
    assert n_lists_after == 1
    assert "one prompt per request" in caplog.text
    for req, got in zip(requests, results):
        assert_scores(got, expected(req.context, req.continuation))


def test_llama_style_null_first_token_is_recovered_from_the_next_token_distribution():
    with FakeOpenAIServer(llama_echo=True) as server:
        backend = make(server)
        first = backend.score([ScoreRequest("", "The doctor smiles.")])[0]
        second = backend.score([ScoreRequest("", "The dogs smile.")])[0]
        full = [p for p in server.posts() if (p["body"].get("logprobs") or 0) > 1]
    assert_scores(first, expected("", "The doctor smiles."))
    assert_scores(second, expected("", "The dogs smile."))
    assert len(full) == 1 and full[0]["body"]["prompt"] == START  # asked once, then remembered


def test_a_bos_token_of_the_server_and_byte_pieces_are_lined_up():
    with FakeOpenAIServer(server_bos="<|bos|>", byte_pieces=True) as server:
        backend = make(server)
        whole, part = backend.score([ScoreRequest("", "Café crème, s'il vous plaît."),
                                     ScoreRequest("Le café", " est brûlant.")])
    assert_scores(whole, expected("", "Café crème, s'il vous plaît.", start="<|bos|>" + START))
    assert_scores(part, expected("Le café", " est brûlant.", start="<|bos|>" + START))


def test_first_token_without_a_start_token_is_a_clear_error():
    with FakeOpenAIServer() as server:
        backend = make(server, start_token=None)
        with pytest.raises(DepthkitError) as err:
            backend.score([ScoreRequest("", "The doctor smiles.")])
    assert "start_token" in err.value.fix


def test_a_server_with_shifted_echo_logprobs_is_refused():
    with FakeOpenAIServer(shifted=True) as server:
        backend = make(server)
        with pytest.raises(DepthkitError) as err:
            backend.score([ScoreRequest("The doctor", " smiles.")])
        with pytest.raises(DepthkitError, match="one token off"):  # every time, not only the first
            backend.score([ScoreRequest("The doctor", " smiles.")])
    assert "one token off" in err.value.message
    assert "kv_overrides" in err.value.fix and "start_token" in err.value.fix


def test_scoring_without_echo_support_says_to_use_a_prompted_task():
    with FakeOpenAIServer() as server:
        server.faults.extend([404])
        backend = make(server, model="gpt-4o-mini")
        with pytest.raises(DepthkitError) as err:
            backend.score([ScoreRequest("The doctor", " smiles.")])
        assert "HTTP 404" in str(err.value) and "echo" in err.value.fix and "judgment" in err.value.fix
    with FakeOpenAIServer(echo=False) as server:
        with pytest.raises(DepthkitError) as err:
            make(server).score([ScoreRequest("The doctor", " smiles.")])
        assert "ignores echo=true" in err.value.message and "judgment" in err.value.fix
        off = make(server, echo=False)
        assert off.supports_score is False
        with pytest.raises(DepthkitError, match="forced-choice"):
            off.score([ScoreRequest("The doctor", " smiles.")])


# ---------------------------------------------------------------------------------------
# retries and errors


def test_429_is_retried_honouringretry_after(waits):
    with FakeOpenAIServer() as server:
        server.faults.extend([(429, {"Retry-After": "0.25"}), (429, {"Retry-After": "0"})])
        backend = make(server, model="fake-model", retry_backoff=5.0)
        [scores] = backend.score([ScoreRequest("The cat", " sat.")])
    assert waits == [0.25, 0.0]  # Retry-After wins over the (long) backoff
    assert not server.faults
    assert_scores(scores, expected("The cat", " sat."))


@pytest.mark.parametrize("fault", [500, 502, 503, "malformed", "drop", "sleep:1.5"])
def test_transient_faults_are_retried(fault, waits):
    with FakeOpenAIServer() as server:
        backend = make(server, model="fake-model", timeout=0.5)
        backend.score([ScoreRequest("a", " b")])
        server.faults.append(fault)
        [scores] = backend.score([ScoreRequest("The cat", " sat.")])
    assert len(waits) == 1
    assert_scores(scores, expected("The cat", " sat."))


def test_gives_up_after_max_retries_with_url_status_and_fix(waits):
    with FakeOpenAIServer() as server:
        server.faults.extend([503] * 10)
        backend = make(server, model="fake-model", max_retries=2, retry_backoff=1.0)
        with pytest.raises(DepthkitError) as err:
            backend.score([ScoreRequest("The cat", " sat.")])
        assert len(server.posts()) == 3
    text = str(err.value)
    assert f"{server.url}/completions" in text and "HTTP 503" in text and "3 attempts" in text
    assert err.value.fix
    assert len(waits) == 2 and 0.5 <= waits[0] <= 1.5 and 1.0 <= waits[1] <= 3.0  # doubling, with jitter


def test_unreachable_server_is_a_clear_error(waits):
    with FakeOpenAIServer() as server:
        url = server.url
    backend = OpenAIBackend("m", base_url=url, max_retries=1, start_token=START)
    with pytest.raises(DepthkitError) as err:
        backend.score([ScoreRequest("The cat", " sat.")])
    assert "connection failed" in err.value.message and "start the server" in err.value.fix
    assert len(waits) == 2  # max_retries=1 for the model list, then for the first completion


def test_api_key_is_sent_as_bearer_and_never_shown(monkeypatch):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("DEPTHKIT_TEST_KEY", secret)
    with FakeOpenAIServer(api_key=secret) as server:
        backend = make(server, api_key_env="DEPTHKIT_TEST_KEY")
        backend.score([ScoreRequest("The cat", " sat.")])
        assert {r["authorization"] for r in server.requests} == {f"Bearer {secret}"}
        shown = [repr(backend), str(backend.fingerprint()), str(backend.public_config), str(backend.config)]
        assert not any(secret in s for s in shown)
        assert backend.fingerprint()["options"] == {"base_url": server.url, "start_token": START, "echo": True,
                                                    "chat": True}
    with FakeOpenAIServer(api_key="another-key") as server:
        server_echoes_key = make(server, api_key_env="DEPTHKIT_TEST_KEY")
        with pytest.raises(DepthkitError) as err:
            server_echoes_key.score([ScoreRequest("The cat", " sat.")])
    assert "HTTP 401" in str(err.value) and "DEPTHKIT_TEST_KEY" in err.value.fix
    assert secret not in str(err.value) and secret not in repr(err.value)


def test_the_served_model_is_used_when_none_is_named():
    with FakeOpenAIServer(models=("served-a",)) as server:
        backend = make(server)
        assert backend.fingerprint()["model"] == "served-a"
        backend.score([ScoreRequest("The cat", " sat.")])
        assert {p["body"]["model"] for p in server.posts()} == {"served-a"}
    with FakeOpenAIServer(models=("a", "b")) as server:
        with pytest.raises(DepthkitError, match="serves 2 models"):
            make(server).score([ScoreRequest("The cat", " sat.")])


def test_an_unknown_model_name_gets_the_served_names_as_fix():
    with FakeOpenAIServer(models=("served-a",)) as server:
        server.faults.append((404, {}, "The model `nope` does not exist."))
        with pytest.raises(DepthkitError) as err:
            make(server, model="nope").score([ScoreRequest("The cat", " sat.")])
    assert "HTTP 404" in err.value.message and "served-a" in err.value.fix


def test_bad_options_are_clear_errors():
    with pytest.raises(DepthkitError, match="concurrency"):
        OpenAIBackend("m", concurrency=0)
    with pytest.raises(DepthkitError, match="not an http"):
        OpenAIBackend("m", base_url="127.0.0.1:8000/v1")


# ---------------------------------------------------------------------------------------
# prompted tasks


def test_chat_completion_returns_text_andchoice_logprobs():
    prompts = [Prompt(({"role": "user", "content": f"Is sentence {i} fine?"},), ("Yes", "No")) for i in range(5)]
    with FakeOpenAIServer() as server:
        backend = make(server)
        out = backend.complete(prompts + [Prompt(({"role": "user", "content": "Hello"},))])
        bodies = [p["body"] for p in server.posts("/v1/chat/completions")]
    for i, c in enumerate(out[:5]):
        assert c.text == f"Yes (Is sentence {i} fine?)"
        # the server lists "Yes" -0.5, " no" -1.25, "yes" -2.0, "Maybe" -3.0: only the exact "Yes" counts; "No" is
        # unlisted and gets the bound (the lowest listed value, no mass being left), then both are normalised
        assert c.choice_logprobs == pytest.approx(normalise({"Yes": -0.5, "No": -3.0}), rel=1e-9)
    assert out[5].choice_logprobs is None and out[5].text == "Yes (Hello)"
    assert all(b["temperature"] == 0 for b in bodies)
    assert sum(bool(b.get("logprobs")) for b in bodies) == 5


def test_chat_without_logprobs_support_still_answers_with_text():
    with FakeOpenAIServer(chat_logprobs=False) as server:
        backend = make(server)
        out = backend.complete([Prompt(({"role": "user", "content": "Fine?"},), ("Yes", "No"))] * 3)
    assert [c.text for c in out] == ["Yes (Fine?)"] * 3
    assert all(c.choice_logprobs is None for c in out)


def test_completions_mode_joins_messages_and_reads_top_logprobs():
    messages = ({"role": "system", "content": "Judge."}, {"role": "user", "content": "Q: ok? A:"})
    with FakeOpenAIServer() as server:
        backend = make(server, chat=False)
        [out] = backend.complete([Prompt(messages, (GREEDY, "Q"))])
        [body] = [p["body"] for p in server.posts() if p["body"].get("prompt") == "Judge.\n\nQ: ok? A:"]
    assert out.text == GREEDY
    n = len(fake_tokenize("Judge.\n\nQ: ok? A:"))
    want = normalise({GREEDY: fake_logprob(GREEDY, n), "Q": fake_logprob("Q", n)})
    assert out.choice_logprobs == pytest.approx(want, rel=1e-9)
    assert body["logprobs"] == 20 and body["temperature"] == 0


def test_p_answer_reads_the_exact_choice_at_the_first_position_and_bounds_missing_choices():
    positions = [("\n", {"\n": -0.1, "Yes": -4.0, "No": -5.0}), (" Yes", {" Yes": -0.3, "yes": -3.0})]
    # the first position is the answer's (the choice continues the prompt), variants are other answers
    assert choice_logprobs(("Yes", "No"), positions) == pytest.approx(normalise({"Yes": -4.0, "No": -5.0}), rel=1e-9)
    top = {"Yes": -0.3, "yes": -3.0, " No": -1.6}
    got = from_top_logprobs(("Yes", "No", "Maybe"), top)
    left = 1 - math.exp(-0.3) - math.exp(-3.0) - math.exp(-1.6)
    assert got == pytest.approx(normalise({"Yes": -0.3, "No": math.log(left), "Maybe": math.log(left)}), rel=1e-9)
    assert from_top_logprobs(("Grammatical", "Ungrammatical"), {"Gram": -0.5, "Un": -1.5}) == pytest.approx(
        normalise({"Grammatical": -0.5, "Ungrammatical": -1.5}), rel=1e-9)  # longer choices: their first token
    assert choice_logprobs(("A", "B"), [("C", {"C": -0.1})]) is None


def test_p_answer_is_the_same_on_the_fake_backend_and_a_server():
    """The same raw log-probabilities give the same P(answer) through the local rule and the server's top list."""
    raw = {"Yes": math.log(0.02), "No": math.log(0.5)}
    local = normalise(raw)
    served = from_top_logprobs(("Yes", "No"), {**raw, "yes": math.log(0.3), " Yes": math.log(0.1)})
    assert served == pytest.approx(local, rel=1e-12)
    assert sum(math.exp(v) for v in local.values()) == pytest.approx(1.0, rel=1e-12)
    fake = get_backend("fake").complete([Prompt(({"role": "user", "content": "Fine? Yes or No."},), ("Yes", "No"))])
    assert fake[0].choice_logprobs == pytest.approx(normalise(fake[0].choice_logprobs), rel=1e-12)


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after("3") == 3.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after("soon") is None and retry_after(None) is None


# ---------------------------------------------------------------------------------------
# the real llama.cpp server (slow)

# transformers 4.57.6, fp32, the same GGUF dequantized, prompt "<|endoftext|>" + sentence
# (MODELS.md: -53.892 / -53.695). Per token: The doctor that the boys know smile(s) .
HF_FP32 = {
    "The doctor that the boys know smiles.": [-5.113, -9.694, -6.402, -5.126, -10.530, -5.226, -10.317, -1.484],
    "The doctor that the boys know smile.": [-5.113, -9.694, -6.402, -5.126, -10.530, -5.226, -9.964, -1.640],
}
# llama.cpp multiplies the Q4_1 weights with activations quantized to 8 bits (Q8_1) where
# transformers computes in fp32 with the same weights dequantized. Measured here: per-token
# differences up to 0.25 nats, totals 0.41 and 0.61 nats, the pair difference moved by 0.20.
# An off-by-one echo would be off by several nats per token (-85 instead of -54 in total).
TOKEN_TOL, TOTAL_TOL, PAIR_TOL = 0.4, 1.0, 0.35

BOS_IS_ENDOFTEXT = ("--kv_overrides", "tokenizer.ggml.bos_token_id=int:0")


@pytest.fixture(scope="module")
def llama_url():
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] is not installed (bash .ci/setup --tests installs it)")
    with llama_cpp_server(*BOS_IS_ENDOFTEXT) as url:
        yield url


@pytest.mark.slow
def test_llama_cpp_scores_are_close_to_transformers_fp32(llama_url):
    backend = OpenAIBackend(None, base_url=llama_url, start_token=START)
    sentences = list(HF_FP32)
    whole = backend.score([ScoreRequest("", s) for s in sentences])
    critical = backend.score([ScoreRequest("The doctor that the boys know", s[29:]) for s in sentences])
    backend.close()
    for s, got, crit in zip(sentences, whole, critical):
        ref = HF_FP32[s]
        assert "".join(got.tokens) == s and len(got.logprobs) == len(ref)
        assert got.logprobs == pytest.approx(ref, abs=TOKEN_TOL)
        assert got.total == pytest.approx(sum(ref), abs=TOTAL_TOL)
        assert crit.logprobs == pytest.approx(got.logprobs[-2:], abs=1e-3)  # same prefix, same values
        assert crit.offsets == (0, len(crit.tokens[0]))
    pair_ref = sum(HF_FP32[sentences[1]]) - sum(HF_FP32[sentences[0]])  # +0.197: "smile" wins in fp32
    assert whole[1].total - whole[0].total == pytest.approx(pair_ref, abs=PAIR_TOL)
    assert backend._batch_ok is False  # llama.cpp answered HTTP 500 to a list of prompts


@pytest.mark.slow
def test_llama_cpp_without_its_bos_is_refused(llama_url):
    backend = OpenAIBackend(None, base_url=llama_url, start_token=None)
    with pytest.raises(DepthkitError, match="one token off"):
        backend.score([ScoreRequest("The doctor", " smiles.")])


@pytest.mark.slow
def test_llama_cpp_chat_completion_with_choices(llama_url):
    backend = OpenAIBackend(None, base_url=llama_url)
    question = "Is this sentence grammatical? 'The doctor smiles.' Answer Yes or No."
    [out] = backend.complete([Prompt(({"role": "user", "content": question},), ("Yes", "No"), max_tokens=4)])
    assert out.text.strip()
    assert set(out.choice_logprobs) == {"Yes", "No"}
    assert all(-30 < v < 0 for v in out.choice_logprobs.values())
    assert sum(math.exp(v) for v in out.choice_logprobs.values()) <= 1.0 + 1e-6
    best = max(out.choice_logprobs, key=out.choice_logprobs.get)
    assert out.text.strip().lower().startswith(best.lower())  # greedy text agrees with the top choice


# P(answer) from llama.cpp (Q4_1 weights, 8-bit activations, its own chat template rendering) against the
# embedded model in fp32 on the same six judgment prompts: measured (2026-12-02) 0.02 to 0.23 nats apart in
# the log-odds of Yes vs No (the quantization, as for the scores above); before the shared definition the
# server side also added variants ("yes", " Yes") from the top list. Twice the largest gap seen:
P_ANSWER_LOGODDS_TOL = 0.5


@pytest.mark.slow
def test_llama_cpp_p_answer_matches_the_local_backend(llama_url):
    from depthkit.backends import get_backend as backend_for
    from depthkit.tasks import make_task

    task = make_task("judgment")
    pairs = [("The doctor that the boys know smiles.", "The doctor that the boys know smile."),
             ("The authors laugh.", "The authors laughs."),
             ("The keys to the cabinet are on the table.", "The keys to the cabinet is on the table.")]
    prompts = [task.prompt.build(sentence=s) for pair in pairs for s in pair]
    server = OpenAIBackend(None, base_url=llama_url)
    local = backend_for(None, threads=1)
    try:
        served, mine = server.complete(prompts), local.complete(prompts)
    finally:
        server.close()
        local.close()
    gaps = []
    for a, b in zip(served, mine):
        for out in (a, b):
            assert set(out.choice_logprobs) == {"Yes", "No"}
            assert sum(math.exp(v) for v in out.choice_logprobs.values()) == pytest.approx(1.0, rel=1e-9)
        odds = [out.choice_logprobs["Yes"] - out.choice_logprobs["No"] for out in (a, b)]
        gaps.append(abs(odds[0] - odds[1]))
    print("P(answer) log-odds gaps, llama.cpp vs local:", [round(g, 3) for g in gaps])
    assert max(gaps) <= P_ANSWER_LOGODDS_TOL
    for k in range(len(pairs)):  # the relative verdict agrees wherever the local margin exceeds the tolerance
        margin = mine[2 * k].choice_logprobs["Yes"] - mine[2 * k + 1].choice_logprobs["Yes"]
        if abs(margin) > 2 * P_ANSWER_LOGODDS_TOL:
            assert (served[2 * k].choice_logprobs["Yes"] > served[2 * k + 1].choice_logprobs["Yes"]) == (margin > 0)
