"""The openai backend over several servers: load spreading, per-server concurrency, failover, counts.

Fast tests use two in-process stub servers on loopback (one failing); the slow test runs two
real llama.cpp servers with the SmolLM2 GGUF and kills one mid-run.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
from pathlib import Path

import pytest
from _eval_helpers import items, items_folder, read_judgments
from _openai_helpers import FakeOpenAIServer, fake_logprob, fake_tokenize, free_port, llama_cpp_process

import depthkit.backends.openai.http as openai_http
import depthkit.evaluation as evaluation
from depthkit.backends.base import ScoreRequest
from depthkit.backends.openai import OpenAIBackend
from depthkit.backends.openai.servers import parse_urls, public_url
from depthkit.cli.eval import parse_options
from depthkit.errors import DepthkitError, UsageError
from depthkit.evaluation import evaluate

START = "<|endoftext|>"
REQUESTS = [ScoreRequest(f"The cat number {i}", f" sat on mat {i}.") for i in range(24)]


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(openai_http, "sleep", recorded.append)
    return recorded


@pytest.fixture
def appended(monkeypatch) -> list[tuple[str, str]]:
    """(item_id, task) of every judgment the eval run appends, in order (before its final rewrite)."""
    written: list[tuple[str, str]] = []

    class Recording(evaluation.JsonlAppender):
        def write(self, record):
            written.append((record["item_id"], record["task"]))
            super().write(record)

    monkeypatch.setattr(evaluation, "JsonlAppender", Recording)
    return written


def expected_total(r: ScoreRequest) -> float:
    tokens = fake_tokenize(START + r.context + r.continuation)
    before = len(fake_tokenize(START + r.context))
    return sum(fake_logprob(t, pos) for pos, t in enumerate(tokens) if pos >= before)


def make(*urls: str, **options) -> OpenAIBackend:
    options.setdefault("start_token", START)
    options.setdefault("batch_prompts", 1)
    return OpenAIBackend("fake-model", base_url=",".join(urls), **options)


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there: connection refused


def test_servers_requests_spread_by_load_within_per_server_concurrency():
    with FakeOpenAIServer(delay=0.03) as a, FakeOpenAIServer(delay=0.03) as b:
        backend = make(a.url, b.url, concurrency=2)
        scores = backend.score(REQUESTS)
        counts = backend.server_counts()
    assert [s.total for s in scores] == pytest.approx([expected_total(r) for r in REQUESTS])
    n_a, n_b = len(a.posts()), len(b.posts())
    assert n_a + n_b == len(REQUESTS) + 2  # + the alignment probe's two requests
    assert min(n_a, n_b) >= len(REQUESTS) // 3  # both busy
    assert a.max_in_flight <= 2 and b.max_in_flight <= 2
    assert max(a.max_in_flight, b.max_in_flight) == 2  # the concurrency is used
    assert sum(c["requests"] for c in counts) == n_a + n_b + 1  # + the model list (a GET)
    assert all(c["errors"] == 0 and c["taken_out"] == 0 for c in counts)


def test_servers_a_dead_server_is_taken_out_with_a_warning_and_nothing_is_lost(waits, caplog):
    dead = dead_url()
    with FakeOpenAIServer() as live, caplog.at_level(logging.WARNING):
        backend = make(dead, live.url, concurrency=3, revive_after=60)
        scores = backend.score(REQUESTS)
        counts = {c["url"]: c for c in backend.server_counts()}
        posted = [p["body"]["prompt"] for p in live.posts()][2:]
    assert [s.total for s in scores] == pytest.approx([expected_total(r) for r in REQUESTS])
    assert sorted(posted) == sorted(START + r.context + r.continuation for r in REQUESTS)  # each once
    assert counts[dead]["taken_out"] == 1 and counts[dead]["errors"] == counts[dead]["requests"] >= 1
    assert counts[live.url]["errors"] == 0
    assert waits == []  # moved to the other replica at once, no backoff
    warned = [r.getMessage() for r in caplog.records if "taken out of rotation" in r.getMessage()]
    assert len(warned) == 1 and dead in warned[0]


def test_servers_a_failed_batch_moves_to_the_other_replica(waits):
    with FakeOpenAIServer() as a, FakeOpenAIServer() as b:
        backend = make(a.url, b.url, concurrency=1, batch_prompts=8)
        backend.score(REQUESTS[:2])  # probes done, lists accepted
        a.faults.append(503)
        b.faults.append(503)
        scores = backend.score(REQUESTS)
        counts = backend.server_counts()
    assert [s.total for s in scores] == pytest.approx([expected_total(r) for r in REQUESTS])
    assert [c["errors"] for c in counts] == [1, 1] and [c["taken_out"] for c in counts] == [1, 1]
    assert len(waits) == 1  # once both replicas had failed it, the batch waited before its next try
    assert sum(len(p["body"]["prompt"]) for p in a.posts() + b.posts() if isinstance(p["body"]["prompt"], list)) \
        == 2 + len(REQUESTS) + 8 * 2  # the warm-up pair, every batch answered once, two failed attempts


def test_servers_a_server_taken_out_is_tried_again_later(waits, caplog):
    with FakeOpenAIServer() as a, FakeOpenAIServer() as b, caplog.at_level(logging.INFO):
        backend = make(a.url, b.url, concurrency=1, revive_after=0.2)
        backend.score(REQUESTS[:1])
        a.faults.extend(["drop"])
        b.faults.extend(["sleep:0.05"])  # b is busy while a fails, so the next request goes to a
        backend.score(REQUESTS[:4])
        [before] = [c for c in backend.server_counts() if c["url"] == a.url]
        time.sleep(0.3)
        served = len(a.posts())
        backend.score(REQUESTS[4:12])
        [after] = [c for c in backend.server_counts() if c["url"] == a.url]
    assert before["taken_out"] == 1 and after["taken_out"] == 1
    assert len(a.posts()) > served  # back in rotation
    assert any("back in rotation" in r.getMessage() for r in caplog.records)


def test_servers_all_failing_gives_up_with_the_plain_retry_budget(waits):
    backend = make(dead_url(), dead_url(), max_retries=2)
    with pytest.raises(DepthkitError) as err:
        backend.score(REQUESTS[:1])
    assert "connection failed" in err.value.message
    # the model list (given up quietly: the model is named), then the alignment probe: each tried on
    # both replicas, then max_retries=2 retries with a backoff wait each
    assert len(waits) == 2 + 2
    assert sum(c["requests"] for c in backend.server_counts()) == 4 + 3  # both out of rotation by the probe
    assert [c["taken_out"] for c in backend.server_counts()] == [1, 1]


def test_servers_base_url_as_list_comma_separated_or_repeated_option():
    assert parse_urls("http://a:1/v1/, http://b:2/v1", "x") == ["http://a:1/v1", "http://b:2/v1"]
    assert parse_urls(["http://a:1/v1", "http://b:2/v1"], "x") == ["http://a:1/v1", "http://b:2/v1"]
    assert parse_options(["base_url=http://a:1/v1", "base_url=http://b:2/v1"]) == {
        "base_url": "http://a:1/v1,http://b:2/v1"}
    with pytest.raises(UsageError, match="twice"):
        parse_options(["concurrency=2", "concurrency=3"])
    with pytest.raises(UsageError, match="twice"):
        parse_urls("http://a:1/v1,http://a:1/v1", "x")
    with pytest.raises(UsageError, match="not an http"):
        OpenAIBackend("m", base_url="http://a:1/v1,b:2/v1")
    one = OpenAIBackend("m", base_url="http://a:1/v1/")
    assert one.config["base_url"] == "http://a:1/v1" and len(one.server_counts()) == 1
    two = OpenAIBackend("m", base_url=["http://a:1/v1", "http://b:2/v1"])
    assert two.fingerprint()["options"]["base_url"] == "http://a:1/v1,http://b:2/v1"
    assert public_url("https://user:pw@host:8000/v1?key=s") == "https://host:8000/v1"


def test_servers_eval_with_one_replica_failing_writes_each_judgment_once(tmp_path, waits, appended):
    folder = items_folder(tmp_path)
    options = {"start_token": START, "batch_prompts": "1", "concurrency": "2"}
    with FakeOpenAIServer() as a, FakeOpenAIServer() as b:
        b.faults.extend(["sleep:0"] * 6 + ["drop"] * 1000)  # b answers six requests, then drops every connection
        two = evaluate(folder, f"openai:fake-model@{a.url},{b.url}", tasks=("minimal-pair",), out=tmp_path / "two",
                       options=options, batch_size=8, progress=False)
        one = evaluate(folder, f"openai:fake-model@{a.url}", tasks=("minimal-pair",), out=tmp_path / "one",
                       options=options, progress=False)
    n = len(items())
    assert len(appended) == 2 * n and len(set(appended[:n])) == n and set(appended[:n]) == set(appended[n:])
    got, want = read_judgments(two), read_judgments(one)
    assert [j["item_id"] for j in got] == [j["item_id"] for j in want] == [i.id for i in items()]
    assert [(j["correct"], j["scores"]) for j in got] == [(j["correct"], j["scores"]) for j in want]
    servers = json.loads((tmp_path / "two" / "manifest.json").read_text())["eval"]["servers"]
    assert [s["url"] for s in servers] == [a.url, b.url]
    assert servers[1]["errors"] >= 1 and servers[1]["taken_out"] >= 1 and servers[1]["requests"] >= 7
    assert servers[0]["errors"] == 0


# ---------------------------------------------------------------------------------------
# two real llama.cpp servers, one killed mid-run

BOS_IS_ENDOFTEXT = ("--kv_overrides", "tokenizer.ggml.bos_token_id=int:0")


@pytest.mark.slow
def test_servers_llama_cpp_replica_killed_mid_run_loses_and_duplicates_nothing(tmp_path, appended):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python[server] is not installed (bash .ci/setup --tests installs it)")
    folder = items_folder(tmp_path)
    # batch_prompts=1: llama-cpp-python answers a list of prompts with HTTP 500 (an error to count otherwise)
    options = {"start_token": START, "concurrency": "1", "revive_after": "300", "batch_prompts": "1"}
    settings = dict(tasks=("minimal-pair",), options=options, batch_size=4, limit=2, progress=False)  # 16 items
    # one batch thread each: two servers on a busy 2-core machine otherwise spin against each other
    server = (*BOS_IS_ENDOFTEXT, "--n_threads", "1", "--n_threads_batch", "1")
    with llama_cpp_process(*server) as (url_a, proc_a), llama_cpp_process(*server) as (url_b, _):
        one = evaluate(folder, f"openai:@{url_b}", out=tmp_path / "one", **settings)
        appended.clear()
        judgments = tmp_path / "two" / "judgments.jsonl"

        def kill_a_after_the_first_chunk() -> None:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not (judgments.exists() and judgments.stat().st_size):
                time.sleep(0.05)
            proc_a.kill()

        killer = threading.Thread(target=kill_a_after_the_first_chunk, daemon=True)
        killer.start()
        two = evaluate(folder, f"openai:@{url_a},{url_b}", out=tmp_path / "two", **settings)
        killer.join(timeout=5)
        assert proc_a.poll() is not None  # a really died during the run
    got, want = read_judgments(two), read_judgments(one)
    assert len(want) == 16
    assert sorted(appended) == sorted(set(appended)) and len(appended) == len(want)  # each judgment written once
    assert [j["item_id"] for j in got] == [j["item_id"] for j in want]
    assert [j["correct"] for j in got] == [j["correct"] for j in want]  # same verdicts as one server
    manifest = json.loads(Path(tmp_path / "two" / "manifest.json").read_text())["eval"]
    a, b = manifest["servers"]
    assert a["url"] == url_a and a["requests"] >= 2 and a["errors"] >= 1 and a["taken_out"] == 1
    assert b["errors"] == b["taken_out"] == 0 and b["requests"] > a["requests"] - a["errors"]
    assert manifest["status"] == "complete"
