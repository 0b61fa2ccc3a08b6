"""Several replicas of one model behind one backend: load spreading, per-server concurrency, failover.

:class:`ServerPool` has the interface of :class:`.http.HttpClient` (``get``, ``post``, ``map``,
``has_key``, ``close``) over one or more base URLs (data-parallel replicas: one vLLM per GPU or
node, several llama.cpp servers). Each request goes to the server with the fewest requests in
flight (ties: fewest sent so far), at most ``concurrency`` in flight per server. A request that
fails in a way worth retrying (connection error, timeout, 5xx, 429, malformed answer) is sent
again, to another server when there is one; a server that failed so (429 excepted) is taken out
of rotation with a logged warning for ``revive_after`` seconds (doubling while it keeps failing,
up to :data:`MAX_REVIVE`) and then tried again. With one server the behaviour is the plain
retry loop: ``max_retries`` retries with exponential backoff (jitter, ``Retry-After`` honoured).

A request is answered once: results go back to the caller by position, so a batch moved to
another replica is neither lost nor counted twice. Per-server counts (requests sent, errors,
times taken out) are in :meth:`ServerPool.counts`, for the eval manifest.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse, urlunparse

from ...errors import UsageError
from ...logs import logger
from .http import MAX_RETRY_WAIT, RETRY_STATUSES, HttpClient, RequestFailed, concurrent_map

MAX_REVIVE = 300.0  # seconds: the longest a failing server stays out of rotation before it is tried again

T = TypeVar("T")
R = TypeVar("R")


def parse_urls(value: Any, example: str) -> list[str]:
    """Base URLs from a string (comma-separated) or a list; each an http(s) address, no trailing slash."""
    parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
    urls = [str(u).strip().rstrip("/") for u in parts if str(u).strip()]
    if not urls:
        raise UsageError("base_url is empty", fix=f"write e.g. base_url={example}")
    for url in urls:
        if not urlparse(url).scheme.startswith("http") or not urlparse(url).hostname:
            raise UsageError(f"base_url {url!r} is not an http(s) address",
                             fix=f"write e.g. base_url={example} (several servers: comma-separated, or repeat the option)")
    if len(set(urls)) != len(urls):
        raise UsageError(f"base_url lists a server twice ({', '.join(urls)})",
                         fix="give each replica once; raise concurrency to send more requests to one server")
    return urls


def public_url(url: str) -> str:
    """The address without user:password or query string (safe for manifests and logs)."""
    p = urlparse(url)
    host = p.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if p.port:
        netloc += f":{p.port}"
    return urlunparse((p.scheme, netloc, p.path, "", "", ""))


@dataclass
class _Server:
    url: str
    client: HttpClient
    in_flight: int = 0
    requests: int = 0
    errors: int = 0
    taken_out: int = 0
    down_until: float = 0.0  # monotonic time; 0: in rotation
    out_for: float = 0.0  # how long it was last taken out


class ServerPool:
    """Requests spread over ``urls``; see the module docstring."""

    def __init__(self, urls: Sequence[str], api_key: str | None, *, timeout: float, max_retries: int,
                 retry_backoff: float, concurrency: int, revive_after: float = 10.0):
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.concurrency = concurrency  # per server
        self.revive_after = revive_after
        self._servers = [_Server(u, HttpClient(u, api_key, timeout=timeout, max_retries=0, retry_backoff=0.0,
                                               concurrency=concurrency)) for u in urls]
        self._cond = threading.Condition()

    @property
    def has_key(self) -> bool:
        return self._servers[0].client.has_key

    def get(self, path: str) -> Any:
        return self.request("GET", path, None, retry_errors=True)

    def post(self, path: str, body: dict[str, Any], retry_errors: bool = True) -> Any:
        return self.request("POST", path, body, retry_errors=retry_errors)

    def request(self, method: str, path: str, body: dict[str, Any] | None, retry_errors: bool) -> Any:
        """JSON answer of one request, from whichever server; bounded retries and failover.

        A failure moves the request at once to a server in rotation that has not failed it yet;
        when none is left it is a retry (at most ``max_retries``, after a backoff wait).
        """
        failed: set[int] = set()
        attempts = retries = 0
        while True:
            index = self._acquire(failed)
            try:
                result = self._servers[index].client.request(method, path, body, retry_errors=retry_errors)
            except RequestFailed as exc:
                error = exc
            else:
                self._release(index, ok=True)
                return result
            self._release(index, ok=False)
            attempts += 1
            retryable = _retryable(error.status, retry_errors)
            self._failed(index, error, take_out=retryable and error.status != 429)
            failed.add(index)
            fresh = self._has_fresh(failed) and attempts < self.max_retries + 2 * len(self._servers)
            if not retryable or (not fresh and retries == self.max_retries):
                raise RequestFailed(error.url, error.status, error.detail, attempts, error.retry_after) from None
            if not fresh:  # every server in rotation failed this request: a real retry, after a wait
                retries += 1
                delay = self.retry_backoff * (2 ** (retries - 1)) * (0.5 + random.random())
                _http_sleep(min(MAX_RETRY_WAIT, error.retry_after if error.retry_after is not None else delay))

    def map(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        """``[fn(x) for x in items]`` with up to ``concurrency`` calls in flight per server, in input order."""
        return concurrent_map(fn, items, self.concurrency * len(self._servers))

    def counts(self) -> list[dict[str, Any]]:
        """Per server: url (without credentials), requests sent, errors, times taken out of rotation."""
        with self._cond:
            return [{"url": public_url(s.url), "requests": s.requests, "errors": s.errors, "taken_out": s.taken_out}
                    for s in self._servers]

    def close(self) -> None:
        for s in self._servers:
            s.client.close()

    # ----------------------------------------------------------------------------------

    def _acquire(self, failed: set[int]) -> int:
        """A slot on the least busy server in rotation (not one that failed this request, while others remain)."""
        with self._cond:
            while True:
                now = time.monotonic()
                up = [i for i, s in enumerate(self._servers) if s.down_until <= now]
                candidates = [i for i in up if i not in failed] or up
                if not candidates:  # all out of rotation: the one due back first
                    candidates = [min(range(len(self._servers)), key=lambda i: self._servers[i].down_until)]
                free = [i for i in candidates if self._servers[i].in_flight < self.concurrency]
                if free:
                    index = min(free, key=lambda i: (self._servers[i].in_flight, self._servers[i].requests, i))
                    server = self._servers[index]
                    server.in_flight += 1
                    server.requests += 1
                    return index
                self._cond.wait(timeout=0.5)

    def _release(self, index: int, ok: bool) -> None:
        server = self._servers[index]
        with self._cond:
            server.in_flight -= 1
            back = ok and server.out_for > 0
            if back:
                server.out_for = 0.0
            self._cond.notify_all()
        if back:
            logger.info(f"[openai] {public_url(server.url)} answers again: back in rotation")

    def _has_fresh(self, tried: set[int]) -> bool:
        now = time.monotonic()
        with self._cond:
            return any(i not in tried and s.down_until <= now for i, s in enumerate(self._servers))

    def _failed(self, index: int, exc: RequestFailed, take_out: bool) -> None:
        server = self._servers[index]
        with self._cond:
            server.errors += 1
            if not take_out or len(self._servers) == 1 or server.down_until > time.monotonic():
                return
            server.out_for = min(MAX_REVIVE, server.out_for * 2 if server.out_for else self.revive_after)
            server.down_until = time.monotonic() + server.out_for
            server.taken_out += 1
            others = sum(1 for s in self._servers if s.down_until <= time.monotonic())
        status = f"HTTP {exc.status}" if exc.status is not None else "no HTTP answer"
        where = (f"its requests go to the {others} other server(s)" if others else
                 "no server is left in rotation: requests are retried after a wait")
        logger.warning(f"[openai] {public_url(server.url)} failed ({status}: {exc.detail}); taken out of rotation "
                       f"for {server.out_for:g} s, {where}")


def _http_sleep(seconds: float) -> None:
    sys.modules[HttpClient.__module__].sleep(seconds)  # http.sleep, looked up at call time (tests record it)


def _retryable(status: int | None, retry_errors: bool) -> bool:
    """Transport failures, malformed answers and 429 always; other 5xx-like statuses unless told not to."""
    if status is None or 200 <= status < 300 or status == 429:
        return True
    return retry_errors and status in RETRY_STATUSES


__all__ = ["MAX_REVIVE", "ServerPool", "parse_urls", "public_url"]
