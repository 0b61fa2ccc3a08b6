"""JSON over HTTP to one OpenAI-compatible server: bounded retries, concurrency, the API key never shown.

Retries (exponential backoff with jitter, ``Retry-After`` honoured) on 429, 5xx, timeouts and
connection errors. Requests run up to ``concurrency`` at a time, results in input order. The key
is sent as a Bearer token and redacted from every message.
"""

from __future__ import annotations

import email.utils
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlparse

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RETRY_WAIT = 60.0  # seconds: cap on one wait, even when Retry-After asks for more

T = TypeVar("T")
R = TypeVar("R")


class RequestFailed(Exception):
    """An HTTP request that failed for good (after retries, or not retryable)."""

    def __init__(self, url: str, status: int | None, detail: str, attempts: int, retry_after: float | None = None):
        super().__init__(detail)
        self.url, self.status, self.detail, self.attempts = url, status, detail, attempts
        self.retry_after = retry_after  # seconds the server asked to wait (Retry-After), if it did


class HttpClient:
    """Requests to ``base_url`` (which ends in /v1); see the module docstring."""

    def __init__(self, base_url: str, api_key: str | None, *, timeout: float, max_retries: int,
                 retry_backoff: float, concurrency: int):
        import httpx

        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.concurrency = concurrency
        self._key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            trust_env=not is_loopback(base_url),  # a proxy from the environment must not catch loopback
        )

    @property
    def has_key(self) -> bool:
        return bool(self._key)

    def get(self, path: str) -> Any:
        return self.request("GET", path, None, retry_errors=True)

    def post(self, path: str, body: dict[str, Any], retry_errors: bool = True) -> Any:
        return self.request("POST", path, body, retry_errors=retry_errors)

    def request(self, method: str, path: str, body: dict[str, Any] | None, retry_errors: bool) -> Any:
        """JSON answer of one request; bounded retries on 429/5xx/timeouts/connection errors.

        ``retry_errors=False`` retries only 429 and transport failures (a multi-prompt request
        answered 5xx is split instead of retried).
        """
        import httpx

        url = self.base_url + path
        for attempt in range(self.max_retries + 1):
            wait_hint: float | None = None
            status: int | None = None
            try:
                resp = self._client.request(method, url, json=body)
            except httpx.TimeoutException:
                detail = f"no answer within {self.timeout:g} s"
            except httpx.TransportError as exc:
                detail = f"connection failed ({type(exc).__name__}: {self.redact(str(exc))})"
            else:
                status = resp.status_code
                if 200 <= status < 300:
                    try:
                        return resp.json()
                    except ValueError:
                        detail = f"malformed JSON in the answer ({self.redact(resp.text[:120])!r})"
                else:
                    detail = self.redact(error_text(resp))
                    wait_hint = retry_after(resp.headers.get("retry-after"))
                    if status not in RETRY_STATUSES or (not retry_errors and status != 429):
                        raise RequestFailed(url, status, detail, attempt + 1, wait_hint)
            if attempt == self.max_retries:
                raise RequestFailed(url, status, detail, attempt + 1, wait_hint)
            delay = self.retry_backoff * (2 ** attempt) * (0.5 + random.random())
            sleep(min(MAX_RETRY_WAIT, wait_hint if wait_hint is not None else delay))
        raise AssertionError("unreachable")

    def map(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        """``[fn(x) for x in items]`` with up to ``concurrency`` calls in flight, in input order."""
        return concurrent_map(fn, items, self.concurrency)

    def redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def close(self) -> None:
        self._client.close()


def error_text(resp: Any) -> str:
    """The server's error message, short."""
    try:
        data = resp.json()
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message") if isinstance(err, dict) else err
        text = str(msg or "").strip() or resp.reason_phrase
    except ValueError:
        text = resp.text.strip() or resp.reason_phrase
    return " ".join(str(text).split())[:300]


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_loopback(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def sleep(seconds: float) -> None:
    time.sleep(seconds)  # a module function, so tests can record the waits


def concurrent_map(fn: Callable[[T], R], items: list[T], workers: int) -> list[R]:
    """``[fn(x) for x in items]`` on up to ``workers`` threads, in input order; a failure cancels the rest."""
    if len(items) <= 1:
        return [fn(x) for x in items]
    from tqdm import tqdm

    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="depthkit-openai") as pool:
        futures = [pool.submit(fn, x) for x in items]
        with tqdm(total=len(futures), file=sys.stderr, disable=len(futures) < 20, leave=False,
                  desc="openai requests") as bar:
            for f in futures:
                f.add_done_callback(lambda _: bar.update())
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise


__all__ = ["HttpClient", "concurrent_map", "MAX_RETRY_WAIT", "RETRY_STATUSES", "RequestFailed", "error_text", "is_loopback",
           "retry_after", "sleep"]
