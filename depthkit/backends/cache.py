"""A SQLite cache of backend calls, and :class:`CachedBackend`, which puts any backend behind one.

:class:`CallCache` maps ``sha256(fingerprint, kind, request) -> response``. Every response is
committed as soon as the backend returns it (WAL mode: a process killed at any moment leaves the
database intact), so a resumed run never asks a backend twice. Fingerprints carry no secrets (see
:meth:`Backend.fingerprint`), and neither do keys or values: only request texts and model outputs
are stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import BackendError, DepthkitError
from .base import Backend, Completion, Prompt, ScoreRequest, TokenScores

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
);
"""


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def request_key(fingerprint: dict[str, Any], kind: str, request: dict[str, Any]) -> str:
    """The cache key of one request (``kind`` is ``score`` or ``complete``)."""
    text = canonical(fingerprint) + "\n" + kind + "\n" + canonical(request)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CallCache:
    """Responses of backend calls by key; ``get_many`` before sending, ``put_many`` on arrival.

    ``path`` None keeps the cache in memory (it then lasts as long as this object).
    """

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path is not None else None
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path) if self.path is not None else ":memory:", timeout=60,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise DepthkitError(f"cannot open the call cache ({exc})", path=self.path,
                                fix="give another --cache path, or delete this file to start the cache afresh") from None

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """Cached responses (parsed JSON) for the keys that have one."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, Any] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self._db.execute(f"SELECT key, response FROM calls WHERE key IN ({','.join('?' * len(chunk))})",
                                    chunk).fetchall()
            out.update((k, json.loads(v)) for k, v in rows)
        return out

    def put_many(self, kind: str, entries: Iterable[tuple[str, Any]]) -> None:
        """Store responses in one transaction (committed before this returns)."""
        now = time.time()
        rows = [(k, kind, canonical(v), now) for k, v in entries]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT OR REPLACE INTO calls (key, kind, response, created) VALUES (?, ?, ?, ?)",
                                 rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "CallCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CachedBackend(Backend):
    """Any backend behind a :class:`CallCache`: a request answered once is never sent again.

    ``score`` and ``complete`` look every request up (key: :func:`request_key` of the wrapped
    backend's fingerprint, the call and the request), send only the missing ones to the wrapped
    backend — each distinct request once, in the order first seen — and commit their answers before
    returning, so a process killed afterwards loses none. Every answer, cached or fresh, is returned
    as read back from its stored form, so results never depend on what was cached. ``sent`` and
    ``cached`` count the requests that went to the backend and those answered from the cache.
    ``close`` closes the wrapped backend and the cache.
    """

    def __init__(self, backend: Backend, cache: CallCache):  # no Backend.__init__: the backend checked its options
        self.backend = backend
        self.cache = cache
        self.name = backend.name  # type: ignore[misc]
        self.model = backend.model
        self.config = backend.config
        self.supports_score = backend.supports_score  # type: ignore[misc]
        self.default_batch_size = backend.default_batch_size  # type: ignore[misc]
        self._fingerprint = backend.fingerprint()
        self.sent = 0
        self.cached = 0

    @property
    def label(self) -> str:
        return self.backend.label

    @property
    def public_config(self) -> dict[str, Any]:
        return self.backend.public_config

    @property
    def supports_complete(self) -> bool:
        return self.backend.supports_complete

    def fingerprint(self) -> dict[str, Any]:
        return dict(self._fingerprint)

    def key(self, kind: str, request: ScoreRequest | Prompt) -> str:
        return request_key(self._fingerprint, kind, request.to_dict())

    def missing(self, kind: str, requests: Sequence[ScoreRequest | Prompt]) -> int:
        """How many distinct requests the cache cannot answer."""
        keys = {self.key(kind, r) for r in requests}
        return len(keys) - len(self.cache.get_many(keys))

    def score(self, requests: Sequence[ScoreRequest]) -> list[TokenScores]:
        return [TokenScores.from_dict(a) for a in self._answers("score", requests, self.backend.score)]

    def complete(self, prompts: Sequence[Prompt]) -> list[Completion]:
        return [Completion.from_dict(a) for a in self._answers("complete", prompts, self.backend.complete)]

    def _answers(self, kind: str, requests: Sequence[Any], send: Callable[[list[Any]], list[Any]]) -> list[Any]:
        keys = [self.key(kind, r) for r in requests]
        answers = self.cache.get_many(keys)
        self.cached += sum(1 for k in keys if k in answers)
        todo: dict[str, Any] = {}
        for key, request in zip(keys, requests):
            if key not in answers and key not in todo:
                todo[key] = request
        if todo:
            fresh_requests = list(todo.values())
            responses = send(fresh_requests)
            if len(responses) != len(fresh_requests):
                raise BackendError(f"backend '{self.name}' returned {len(responses)} answers for {len(fresh_requests)} "
                                   "requests", fix="this is a bug in the backend; report it to its authors")
            fresh = {k: r.to_dict() for k, r in zip(todo, responses)}
            self.cache.put_many(kind, fresh.items())
            answers.update(fresh)
            self.sent += len(fresh_requests)
        return [answers[k] for k in keys]

    def load(self) -> None:
        self.backend.load()

    def close(self) -> None:
        self.backend.close()
        self.cache.close()
