"""A SQLite cache of backend calls: ``sha256(fingerprint, request) -> response``.

Every response is committed as soon as the backend returns it (WAL mode: a process killed
at any moment leaves the database intact), so a resumed run never asks a backend twice.
Fingerprints carry no secrets (see :meth:`Backend.fingerprint`), and neither do keys or
values: only request texts and model outputs are stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import DepthkitError

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
    """Responses of backend calls by key; ``get_many`` before sending, ``put_many`` on arrival."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
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
