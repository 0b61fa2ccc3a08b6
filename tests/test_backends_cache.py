"""The SQLite call cache: keys, persistence across connections, no secrets stored."""

from __future__ import annotations

import sqlite3

import pytest

from depthkit.backends.base import Backend, Option, ScoreRequest, TokenScores
from depthkit.backends.cache import CallCache, request_key
from depthkit.errors import DepthkitError


class KeyedBackend(Backend):
    name = "keyed"
    options = {"api_key": Option(str, None, "key", secret=True), "temperature": Option(float, 0.0, "t")}

    def score(self, requests):
        return [TokenScores(("x",), (0,), (-1.0,)) for _ in requests]


def test_key_depends_on_fingerprint_kind_and_request():
    fp = {"backend": "fake", "model": None, "options": {"seed": 0}}
    req = ScoreRequest("", "The author laughs.").to_dict()
    key = request_key(fp, "score", req)
    assert key == request_key(dict(reversed(list(fp.items()))), "score", dict(req))  # order-free
    assert key != request_key({**fp, "options": {"seed": 1}}, "score", req)
    assert key != request_key(fp, "complete", req)
    assert key != request_key(fp, "score", ScoreRequest("", "The author laugh.").to_dict())
    assert len(key) == 64


def test_put_get_survive_reopening(tmp_path):
    path = tmp_path / "c.sqlite"
    with CallCache(path) as cache:
        cache.put_many("score", [("k1", {"a": 1}), ("k2", {"b": [1.5]})])
        assert cache.get_many(["k1", "k3"]) == {"k1": {"a": 1}}
    with CallCache(path) as cache:
        assert cache.get_many(["k2", "k1"]) == {"k1": {"a": 1}, "k2": {"b": [1.5]}}
        assert len(cache) == 2
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_many_keys_at_once(tmp_path):
    with CallCache(tmp_path / "c.sqlite") as cache:
        cache.put_many("score", [(f"k{i}", i) for i in range(1500)])
        assert len(cache.get_many(f"k{i}" for i in range(0, 1500, 2))) == 750


def test_secret_options_never_reach_the_cache(tmp_path):
    backend = KeyedBackend("m", api_key="sk-TOPSECRET")
    key = request_key(backend.fingerprint(), "score", ScoreRequest("", "x").to_dict())
    with CallCache(tmp_path / "c.sqlite") as cache:
        cache.put_many("score", [(key, backend.score([ScoreRequest("", "x")])[0].to_dict())])
    for f in tmp_path.iterdir():
        assert b"TOPSECRET" not in f.read_bytes()
    assert key == request_key(KeyedBackend("m", api_key="other").fingerprint(), "score", ScoreRequest("", "x").to_dict())


def test_not_a_database_gives_a_clear_error(tmp_path):
    bad = tmp_path / "c.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DepthkitError, match="cannot open the call cache"):
        CallCache(bad)


def test_cache_wrapper_sends_each_missing_request_once(tmp_path):
    from depthkit.backends.cache import CachedBackend
    from depthkit.backends.fake import FakeBackend

    counter = tmp_path / "n.txt"
    requests = [ScoreRequest("", "The author laughs."), ScoreRequest("", "The author laughs."), ScoreRequest("", "A.")]
    expected = FakeBackend().score(requests)
    with CallCache(tmp_path / "c.sqlite") as cache:
        cached = CachedBackend(FakeBackend(count_file=str(counter)), cache)
        assert cached.missing("score", requests) == 2
        assert cached.score(requests) == expected
        assert (cached.sent, cached.cached) == (2, 0) and len(counter.read_text().splitlines()) == 2
        assert cached.score(requests) == expected
        assert (cached.sent, cached.cached) == (2, 3) and len(counter.read_text().splitlines()) == 2
        assert cached.missing("score", requests) == 0
        assert cached.fingerprint() == FakeBackend().fingerprint() and cached.label == "fake"
    with CallCache(tmp_path / "c.sqlite") as cache:  # committed: another process would find them too
        assert CachedBackend(FakeBackend(), cache).missing("score", requests) == 0
