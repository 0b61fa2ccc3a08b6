"""The ``openai`` backend: any OpenAI-compatible server (vLLM, llama.cpp, Ollama, OpenAI).

* :meth:`OpenAIBackend.score` sends ``START + context + continuation`` to ``/v1/completions``
  with ``echo=true, logprobs=0, max_tokens=1`` and keeps the prompt tokens that fall in the
  continuation (the one generated token is discarded).
* :meth:`OpenAIBackend.complete` uses ``/v1/chat/completions`` (or ``/v1/completions`` with
  ``chat=false``) at temperature 0, asking for the top log-probabilities of the first answer
  token when the prompt has choices.

Requests run concurrently (``concurrency`` in flight, results in input order), several
prompts per scoring request where the server takes a list (``batch_prompts``; llama.cpp's
Python server answers HTTP 500 to a list and is then sent one prompt per request), with
bounded retries (exponential backoff with jitter, ``Retry-After`` honoured) on 429, 5xx,
timeouts and connection errors. The API key is read from the environment variable named by
``api_key_env`` and is never stored in options, fingerprints, manifests, logs or errors.

Server quirks handled here (see docs/openai-servers.md):

* The echoed prompt is tokenized as one string, so a token that crosses the
  context/continuation boundary is counted in the continuation (with the whitespace rule,
  continuations start with a space and no token crosses).
* Once per backend, a probe checks that echoed log-probabilities sit at the right position:
  llama-cpp-python's server reports them one position off unless the prompt starts with the
  model's BOS token, and depthkit stops with the fix instead of returning wrong numbers.
* A continuation token reported with a null log-probability that is not the first token of
  the text (llama-cpp-python nulls the first token after BOS) is recovered by asking for
  the whole next-token distribution at that prefix (once per prefix).
"""

from __future__ import annotations

import email.utils
import json
import math
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

from ..errors import DepthkitError
from .base import Backend, Completion, Option, Prompt, ScoreRequest, TokenScores

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RETRY_WAIT = 60.0  # seconds: cap on one wait, even when Retry-After asks for more
CHOICE_TOP_LOGPROBS = 20  # OpenAI's maximum and vLLM's default --max-logprobs
FULL_DISTRIBUTION = 1_000_000  # "all of them": llama-cpp-python returns the whole vocabulary
PROBE_TEXT = "The capital of France is"

T = TypeVar("T")
R = TypeVar("R")


class _RequestFailed(Exception):
    """An HTTP request that failed for good (after retries, or not retryable)."""

    def __init__(self, url: str, status: int | None, detail: str, attempts: int):
        super().__init__(detail)
        self.url, self.status, self.detail, self.attempts = url, status, detail, attempts


@dataclass(frozen=True)
class _Tok:
    """One token of an echoed prompt as the server reported it."""

    start: int  # character position in the server's rendering of the prompt
    text: str
    logprob: float | None
    top: dict[str, float] | None


@dataclass(frozen=True)
class _Piece:
    """One continuation token before null log-probabilities are filled in."""

    text: str
    offset: int  # in the continuation
    logprob: float | None
    prefix: str  # the prompt text before this token (for recovering a null log-probability)
    server_text: str  # the token's text as the server wrote it (key of top_logprobs)


class OpenAIBackend(Backend):
    name = "openai"
    description = ("any OpenAI-compatible server (vLLM, llama.cpp, Ollama, OpenAI): echo+logprobs scoring "
                   "on /v1/completions, chat completions for prompted tasks")
    requires = ("a running OpenAI-compatible server (see docs/openai-servers.md); the API key, if any, "
                "in $OPENAI_API_KEY")
    default_batch_size = 256  # enough requests per call to keep concurrency x batch_prompts busy
    options = {
        "base_url": Option(str, None,
                           f"server address ending in /v1 (default: $OPENAI_BASE_URL or {DEFAULT_BASE_URL})"),
        "api_key_env": Option(str, "OPENAI_API_KEY",
                              "name of the environment variable holding the API key (never the key itself)",
                              affects_output=False),
        "concurrency": Option(int, 8, "requests in flight at once", affects_output=False),
        "timeout": Option(float, 120.0, "seconds to wait for one response", affects_output=False),
        "max_retries": Option(int, 4, "retries of a request after 429/5xx/timeouts/connection errors",
                              affects_output=False),
        "retry_backoff": Option(float, 0.5, "seconds before the first retry; doubles each time (with jitter)",
                                affects_output=False),
        "batch_prompts": Option(int, 16, "prompts per /v1/completions scoring request (falls back to 1 when "
                                "the server refuses a list, as llama.cpp does)", affects_output=False),
        "start_token": Option(str, None, "text put before every scored context, e.g. '<|endoftext|>' (SmolLM2); "
                             "for llama-cpp-python it must be the model's BOS token (see docs/openai-servers.md)"),
        "echo": Option(bool, True, "score with /v1/completions echo=true+logprobs; false for servers without it "
                       "(scoring tasks then stop with advice)"),
        "chat": Option(bool, True, "prompted tasks use /v1/chat/completions (false: /v1/completions with the "
                       "messages joined by blank lines)"),
    }

    def __init__(self, model: str | None = None, **options: Any):
        super().__init__(model, **options)
        import httpx

        cfg = self.config
        if not cfg["base_url"]:
            cfg["base_url"] = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        cfg["base_url"] = str(cfg["base_url"]).rstrip("/")
        if not urlparse(cfg["base_url"]).scheme.startswith("http"):
            raise DepthkitError(f"base_url {cfg['base_url']!r} is not an http(s) address",
                                fix=f"write e.g. base_url={DEFAULT_BASE_URL}")
        for key in ("concurrency", "batch_prompts"):
            if int(cfg[key]) < 1:
                raise DepthkitError(f"option {key}={cfg[key]} must be at least 1",
                                    fix=f"{key}: {self.options[key].help}")
        if cfg["max_retries"] < 0 or cfg["timeout"] <= 0 or cfg["retry_backoff"] < 0:
            raise DepthkitError("options max_retries, retry_backoff must be >= 0 and timeout > 0",
                                fix="e.g. max_retries=4 retry_backoff=0.5 timeout=120")
        if not cfg["echo"]:
            self.supports_score = False  # type: ignore[misc]  # instance override of the class default
        self._key = os.environ.get(cfg["api_key_env"] or "") or None
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(cfg["timeout"], connect=min(10.0, cfg["timeout"])),
            limits=httpx.Limits(max_connections=cfg["concurrency"], max_keepalive_connections=cfg["concurrency"]),
            trust_env=not _is_loopback(cfg["base_url"]),  # a proxy from the environment must not catch loopback
        )
        self._lock = threading.Lock()
        self._batch_ok: bool | None = None if cfg["batch_prompts"] > 1 else False
        self._alignment: str | None = None  # "aligned", "shifted" or "unknown" once probed
        self._next_token: dict[str, dict[str, float]] = {}  # prefix -> full next-token distribution
        self._chat_logprobs_ok = True
        self._models: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.config['base_url']!r})"

    @classmethod
    def unavailable(cls) -> str | None:
        try:
            import httpx  # noqa: F401
        except ImportError:
            return "the httpx package is not installed (pip install httpx)"
        return None

    # ----------------------------------------------------------------------------------
    # contract

    def fingerprint(self) -> dict[str, Any]:
        """Backend, model (asked from the server's /v1/models when not given) and output options."""
        if self.model is None:  # a named model needs no server: cached results stay readable offline
            self._resolve_model()
        return super().fingerprint()

    def score(self, requests: Sequence[ScoreRequest]) -> list[TokenScores]:
        if not self.config["echo"]:
            raise _scoring_unsupported(self.config["base_url"], "option echo=false")
        out: list[TokenScores | None] = [None] * len(requests)
        prompts: dict[str, list[int]] = {}  # prompt text -> indices of the requests that need it
        start = self.config["start_token"] or ""
        for i, r in enumerate(requests):
            if not r.continuation:
                out[i] = TokenScores((), (), ())
            else:
                prompts.setdefault(start + r.context + r.continuation, []).append(i)
        if not prompts:
            return [s for s in out if s is not None]
        self._resolve_model()
        self._check_alignment()
        texts = list(prompts)
        raw = self._echo_many(texts)
        pieces: dict[int, list[_Piece]] = {}
        for text, toks in zip(texts, raw):
            for i in prompts[text]:
                pieces[i] = _continuation_pieces(toks, start, requests[i].context, requests[i].continuation,
                                                 self.config["base_url"])
        self._fill_nulls([p for ps in pieces.values() for p in ps])
        for i, ps in pieces.items():
            out[i] = TokenScores(tuple(p.text for p in ps), tuple(p.offset for p in ps),
                                 tuple(self._next_token[p.prefix][p.server_text] if p.logprob is None else p.logprob
                                       for p in ps))
        return [s for s in out if s is not None]

    def complete(self, prompts: Sequence[Prompt]) -> list[Completion]:
        if not prompts:
            return []
        self._resolve_model()
        one = self._chat_one if self.config["chat"] else self._text_one
        return self._map(one, list(prompts))

    def close(self) -> None:
        self._client.close()

    # ----------------------------------------------------------------------------------
    # scoring

    def _echo_many(self, texts: list[str]) -> list[list[_Tok]]:
        """Echoed prompt tokens of every text, in order; several texts per request where the server allows."""
        size = 1 if self._batch_ok is False else int(self.config["batch_prompts"])
        chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
        done: list[list[_Tok]] = []
        if self._batch_ok is None and len(chunks[0]) > 1:
            done = self._echo_chunk(chunks[0])  # finds out whether the server takes a list, before fanning out
            chunks = chunks[1:] if self._batch_ok else [[t] for c in chunks[1:] for t in c]
        return done + [t for part in self._map(self._echo_chunk, chunks) for t in part]

    def _echo_chunk(self, texts: list[str]) -> list[list[_Tok]]:
        body = {"model": self.model, "prompt": texts if len(texts) > 1 else texts[0], "echo": True,
                "logprobs": 0, "max_tokens": 1, "temperature": 0}
        probing_list = len(texts) > 1 and self._batch_ok is None
        try:
            data = self._post("/completions", body, retry_errors=not probing_list)
        except _RequestFailed as exc:
            if probing_list and exc.status in (400, 413, 422, 500, 501):
                with self._lock:
                    if self._batch_ok is None:
                        self._batch_ok = False
                        _log(f"[openai] {exc.url} refused a list of {len(texts)} prompts (HTTP {exc.status}); "
                             "sending one prompt per request from now on")
                return [t for text in texts for t in self._echo_chunk([text])]
            raise self._error(exc, scoring=True) from None
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or len(choices) != len(texts):
            raise DepthkitError(f"{self.config['base_url']}/completions answered {len(choices or [])} choices for "
                                f"{len(texts)} prompts", fix="set batch_prompts=1 for this server")
        if len(texts) > 1:
            self._batch_ok = True
            choices = sorted(choices, key=lambda c: c.get("index", 0) if isinstance(c, dict) else 0)
        return [_echo_tokens(c, self.config["base_url"]) for c in choices]

    def _check_alignment(self) -> None:
        """Once per backend: are echoed log-probabilities at the right position? Stop if not."""
        with self._lock:
            if self._alignment is None:
                self._alignment = self._probe_alignment()
                if self._alignment == "unknown":
                    _log(f"[openai] could not check that {self.config['base_url']} aligns echoed log-probabilities; "
                         "compare a few scores with another backend before trusting them")
            verdict = self._alignment
        if verdict == "shifted":
            owner = ", ".join(sorted({str(m.get("owned_by")) for m in self._models or []}))
            llama = "llama-cpp-python" if owner == "me" else "this server"
            raise DepthkitError(
                f"{self.config['base_url']}: {llama} reports echoed log-probabilities one token off "
                f"(start_token={self.config['start_token']!r}): every score would be wrong",
                fix="llama-cpp-python aligns them only when the prompt starts with the model's BOS token: set "
                    "start_token to that token (tokenizer.ggml.bos_token_id in the GGUF), or start the server with "
                    "--kv_overrides tokenizer.ggml.bos_token_id=int:ID where ID is your start token's id "
                    "(SmolLM2: start_token='<|endoftext|>', ID 0); see docs/openai-servers.md")

    def _probe_alignment(self) -> str:
        """'aligned', 'shifted' or 'unknown': the greedy next token's log-probability, generated vs echoed."""
        prefix = (self.config["start_token"] or "") + PROBE_TEXT
        try:
            gen = self._post("/completions", {"model": self.model, "prompt": prefix, "max_tokens": 1,
                                              "temperature": 0, "logprobs": 1})
            lp = gen["choices"][0]["logprobs"]
            g_text, g_lp = lp["tokens"][0], lp["token_logprobs"][0]
            if not isinstance(g_text, str) or not g_text.strip() or g_lp is None:
                return "unknown"
            echo = self._post("/completions", {"model": self.model, "prompt": prefix + g_text, "echo": True,
                                               "max_tokens": 1, "temperature": 0, "logprobs": 1})
            toks = _echo_tokens(echo["choices"][0], self.config["base_url"])
            if _echo_ignored(toks, PROBE_TEXT + g_text):
                raise _scoring_unsupported(self.config["base_url"],
                                           "it ignores echo=true (log-probabilities of generated tokens only)")
        except _RequestFailed as exc:
            raise self._error(exc, scoring=True) from None
        except (KeyError, IndexError, TypeError):
            raise _scoring_unsupported(self.config["base_url"], "its completions carry no token log-probabilities") \
                from None
        base = _rendered_start(toks, self.config["start_token"] or "", PROBE_TEXT + g_text)
        at = base + len(PROBE_TEXT)
        idx = next((k for k, t in enumerate(toks) if t.start == at and t.text == g_text), None)
        if idx is None:
            return "unknown"
        echoed = toks[idx].logprob
        if echoed is not None and abs(echoed - g_lp) <= 0.1:
            return "aligned"
        before = toks[idx - 1].top if idx > 0 else None
        if before and g_text in before and abs(before[g_text] - g_lp) <= 0.1:
            return "shifted"
        return "unknown"

    def _fill_nulls(self, pieces: list[_Piece]) -> None:
        """Fetch the next-token distribution at each prefix whose token came back without a log-probability."""
        missing = {p.prefix: p for p in pieces if p.logprob is None and p.prefix not in self._next_token}
        if not missing:
            return
        for p in missing.values():
            if not p.prefix:
                raise DepthkitError(f"{self.config['base_url']} gives no log-probability to the first token of a text "
                                    f"({p.text!r}): nothing comes before it",
                                    fix="set start_token to the model's start token (e.g. '<|endoftext|>' for SmolLM2)")

        def fetch(prefix: str) -> dict[str, float]:
            try:
                data = self._post("/completions", {"model": self.model, "prompt": prefix, "max_tokens": 1,
                                                   "temperature": 0, "logprobs": FULL_DISTRIBUTION})
                top = data["choices"][0]["logprobs"]["top_logprobs"][0]
            except _RequestFailed as exc:
                raise self._error(exc, scoring=True) from None
            except (KeyError, IndexError, TypeError):
                top = None
            return {str(k): float(v) for k, v in top.items()} if isinstance(top, dict) else {}

        prefixes = list(missing)
        for prefix, dist in zip(prefixes, self._map(fetch, prefixes)):
            self._next_token[prefix] = dist
        for p in pieces:
            if p.logprob is None and p.server_text not in self._next_token[p.prefix]:
                raise DepthkitError(
                    f"{self.config['base_url']} returned no log-probability for token {p.server_text!r} after "
                    f"{p.prefix[-40:]!r} and does not list it in the next-token distribution",
                    fix="use a server that reports every echoed token (vLLM), or set start_token to the model's "
                        "start token")

    # ----------------------------------------------------------------------------------
    # prompted tasks

    def _chat_one(self, prompt: Prompt) -> Completion:
        body: dict[str, Any] = {"model": self.model, "messages": [dict(m) for m in prompt.messages],
                                "max_tokens": prompt.max_tokens, "temperature": 0}
        want = bool(prompt.choices) and self._chat_logprobs_ok
        if want:
            body.update(logprobs=True, top_logprobs=CHOICE_TOP_LOGPROBS)
        try:
            data = self._post("/chat/completions", body)
        except _RequestFailed as exc:
            if want and exc.status in (400, 422):  # a server without logprobs on chat: answer text only
                with self._lock:
                    if self._chat_logprobs_ok:
                        self._chat_logprobs_ok = False
                        _log(f"[openai] {exc.url} refused logprobs on chat completions (HTTP {exc.status}); "
                             "answers will have text only")
                return self._chat_one(prompt)
            raise self._error(exc) from None
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise DepthkitError(f"{self.config['base_url']}/chat/completions answered without a message",
                                fix="check that the server implements the OpenAI chat completions API") from None
        positions = []
        content = (choice.get("logprobs") or {}).get("content") or []
        for entry in content:
            top = entry.get("top_logprobs") or [{"token": entry.get("token"), "logprob": entry.get("logprob")}]
            positions.append((str(entry.get("token") or ""),
                              {str(t.get("token")): t.get("logprob") for t in top if t.get("logprob") is not None}))
        return Completion(text, _choice_logprobs(prompt.choices, positions) if prompt.choices else None)

    def _text_one(self, prompt: Prompt) -> Completion:
        text_prompt = "\n\n".join(m.get("content", "") for m in prompt.messages)
        body: dict[str, Any] = {"model": self.model, "prompt": text_prompt, "max_tokens": prompt.max_tokens,
                                "temperature": 0}
        if prompt.choices:
            body["logprobs"] = CHOICE_TOP_LOGPROBS
        try:
            data = self._post("/completions", body)
            choice = data["choices"][0]
        except _RequestFailed as exc:
            raise self._error(exc) from None
        except (KeyError, IndexError, TypeError):
            raise DepthkitError(f"{self.config['base_url']}/completions answered without choices",
                                fix="check that the server implements the OpenAI completions API") from None
        lp = choice.get("logprobs") or {}
        positions = [(str(t), {str(k): v for k, v in (top or {}).items() if v is not None})
                     for t, top in zip(lp.get("tokens") or [], lp.get("top_logprobs") or [])]
        return Completion(str(choice.get("text") or ""),
                          _choice_logprobs(prompt.choices, positions) if prompt.choices else None)

    # ----------------------------------------------------------------------------------
    # HTTP

    def _resolve_model(self) -> None:
        """Ask /v1/models once; when no model was given, use the only one served."""
        if self._models is not None:
            return
        try:
            data = self._get("/models")
            models = [m for m in data.get("data", []) if isinstance(m, dict)] if isinstance(data, dict) else []
        except _RequestFailed as exc:
            if self.model:  # some gateways have no /models; the given name is enough
                self._models = []
                return
            raise self._error(exc) from None
        self._models = models
        if self.model:
            return
        ids = [str(m.get("id")) for m in models if m.get("id")]
        if len(ids) != 1:
            listed = ", ".join(ids[:10]) or "none"
            raise DepthkitError(f"{self.config['base_url']} serves {len(ids)} models ({listed}): which one?",
                                fix="name it: --model openai:MODEL@URL")
        self.model = ids[0]

    def _get(self, path: str) -> Any:
        return self._request("GET", path, None, retry_errors=True)

    def _post(self, path: str, body: dict[str, Any], retry_errors: bool = True) -> Any:
        return self._request("POST", path, body, retry_errors=retry_errors)

    def _request(self, method: str, path: str, body: dict[str, Any] | None, retry_errors: bool) -> Any:
        """JSON answer of one request; bounded retries on 429/5xx/timeouts/connection errors.

        ``retry_errors=False`` retries only 429 and transport failures (a multi-prompt request
        answered 5xx is split instead of retried).
        """
        import httpx

        url = self.config["base_url"] + path
        retries = int(self.config["max_retries"])
        for attempt in range(retries + 1):
            wait_hint: float | None = None
            status: int | None = None
            try:
                resp = self._client.request(method, url, json=body)
            except httpx.TimeoutException:
                detail = f"no answer within {self.config['timeout']:g} s"
            except httpx.TransportError as exc:
                detail = f"connection failed ({type(exc).__name__}: {self._redact(str(exc))})"
            else:
                status = resp.status_code
                if 200 <= status < 300:
                    try:
                        return resp.json()
                    except ValueError:
                        detail = f"malformed JSON in the answer ({self._redact(resp.text[:120])!r})"
                else:
                    detail = self._redact(_error_text(resp))
                    wait_hint = _retry_after(resp.headers.get("retry-after"))
                    if status not in RETRY_STATUSES or (not retry_errors and status != 429):
                        raise _RequestFailed(url, status, detail, attempt + 1)
            if attempt == retries:
                raise _RequestFailed(url, status, detail, attempt + 1)
            delay = self.config["retry_backoff"] * (2 ** attempt) * (0.5 + random.random())
            _sleep(min(MAX_RETRY_WAIT, wait_hint if wait_hint is not None else delay))
        raise AssertionError("unreachable")

    def _map(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        """``[fn(x) for x in items]`` with up to ``concurrency`` calls in flight, in input order."""
        if len(items) <= 1:
            return [fn(x) for x in items]
        from tqdm import tqdm

        workers = min(int(self.config["concurrency"]), len(items))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="depthkit-openai") as pool:
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

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _error(self, exc: _RequestFailed, scoring: bool = False) -> DepthkitError:
        """The user-facing error for a failed request: URL, status, what to do (never the key)."""
        tries = f" after {exc.attempts} attempts" if exc.attempts > 1 else ""
        status = f"HTTP {exc.status}" if exc.status is not None else "no HTTP answer"
        message = f"{exc.url}: {status}{tries}: {exc.detail}"
        env = self.config["api_key_env"]
        detail = exc.detail.lower()
        served = ", ".join(str(m.get("id")) for m in (self._models or [])[:10])
        if "model" in detail and ("does not exist" in detail or "not found" in detail):
            fix = "check the model name" + (f": {self.config['base_url']}/models lists {served}" if served else "")
        elif exc.status in (401, 403):
            fix = (f"put the API key in the environment variable {env} (currently {'set' if self._key else 'unset'}), "
                   "or name another variable with api_key_env=NAME")
        elif scoring and (exc.status in (400, 404, 405, 422, 501) or "echo" in detail or "logprob" in detail):
            return _scoring_unsupported(self.config["base_url"], message)
        elif exc.status == 404:
            fix = "check base_url (it usually ends in /v1) and the model name (the server lists them at /v1/models)"
        elif exc.status in (400, 422):
            fix = "the server rejected the request; check the model name and the server's supported parameters"
        elif exc.status == 429:
            fix = "the server is rate limiting: lower concurrency, or raise max_retries/retry_backoff"
        elif exc.status is None:
            fix = (f"start the server or correct base_url (now {self.config['base_url']}); raise timeout for slow "
                   "servers; see docs/openai-servers.md")
        else:
            fix = "the server failed: check its log; lower concurrency or raise max_retries if it is overloaded"
        return DepthkitError(message, fix=fix)


# --------------------------------------------------------------------------------------
# pure helpers


def _echo_tokens(choice: Any, where: str) -> list[_Tok]:
    """The token list of an echoed completion choice (positions from text_offset when present)."""
    lp = choice.get("logprobs") if isinstance(choice, dict) else None
    if not isinstance(lp, dict) or not isinstance(lp.get("tokens"), list) or not isinstance(
            lp.get("token_logprobs"), list):
        raise _scoring_unsupported(where, "its completions come back without token log-probabilities")
    texts = [str(t) for t in lp["tokens"]]
    values = lp["token_logprobs"]
    tops = lp.get("top_logprobs") or [None] * len(texts)
    offsets = lp.get("text_offset")
    if not (isinstance(offsets, list) and len(offsets) == len(texts)
            and all(isinstance(o, int) for o in offsets) and offsets == sorted(offsets)):
        offsets, at = [], 0
        for t in texts:
            offsets.append(at)
            at += len(t)
    return [_Tok(o, t, None if v is None else float(v), top if isinstance(top, dict) else None)
            for o, t, v, top in zip(offsets, texts, values, tops)]


def _echo_ignored(toks: list[_Tok], body: str) -> bool:
    """True when the tokens cannot hold the prompt: the server answered for generated tokens only."""
    if not toks:
        return True
    return toks[-1].start + len(toks[-1].text) - toks[0].start < len(body)


def _rendered_start(toks: list[_Tok], start_text: str, body: str) -> int:
    """Where ``body`` (context + continuation) begins in the server's rendering of the prompt.

    Servers render a special start token as its text (vLLM), as nothing (llama-cpp-python),
    or drop it; some put a BOS token of their own first.
    """
    joined = "".join(t.text for t in toks)
    origin = toks[0].start if toks else 0
    for k in range(len(start_text) + 1):  # the start text rendered whole, in part, or not at all
        rest = start_text[k:]
        if joined.startswith(rest + body):
            return origin + len(rest)
    starts = {t.start for t in toks}
    at = joined.find(body)
    while at >= 0:  # something of the server's own first (a BOS token): the body starts at a token
        if origin + at in starts:
            return origin + at
        at = joined.find(body, at + 1)
    # token texts that do not spell the text (byte pieces): trust text_offset after the start
    rest = next((start_text[k:] for k in range(len(start_text)) if joined.startswith(start_text[k:])), "")
    return origin + len(rest)


def _continuation_pieces(toks: list[_Tok], start_text: str, context: str, continuation: str,
                         where: str) -> list[_Piece]:
    """The echoed tokens that fall in the continuation, with offsets relative to it."""
    body = context + continuation
    if _echo_ignored(toks, body):
        raise _scoring_unsupported(where, "it ignores echo=true (log-probabilities of generated tokens only)")
    base = _rendered_start(toks, start_text, body)
    c0, c1 = base + len(context), base + len(body)
    pieces: list[_Piece] = []
    pending: list[_Tok] = []  # zero-width byte pieces, joined into the token that completes the character
    for k, t in enumerate(toks):
        if t.start >= c1:
            break
        end = max(toks[k + 1].start if k + 1 < len(toks) else t.start + len(t.text), t.start)
        s, e = max(t.start, c0), min(end, c1)
        if e <= c0 and not (t.start == end and t.start >= c0):
            continue  # a context token
        if s == e:
            if t.logprob is not None:  # a zero-width token without a value is a start token: skip it
                pending.append(t)
            continue
        text = body[s - base:e - base]
        whole = t.start >= c0 and end <= c1 and not pending
        if whole and t.text and t.text != text and "\ufffd" not in t.text and not t.text.startswith("bytes:"):
            raise _misaligned(where, toks, start_text + body)
        values = [p.logprob for p in pending] + [t.logprob]
        if pending and any(v is None for v in values):
            raise _misaligned(where, toks, start_text + body)
        value = None if t.logprob is None else float(sum(values))  # type: ignore[arg-type]
        pieces.append(_Piece(text, s - c0, value, start_text + body[:s - base], t.text))
        pending = []
    if pending and pieces:  # trailing byte pieces: join them into the last token
        last = pieces[-1]
        extra = [p.logprob for p in pending]
        if last.logprob is None or any(v is None for v in extra):
            raise _misaligned(where, toks, start_text + body)
        pieces[-1] = _Piece(last.text, last.offset, last.logprob + sum(extra), last.prefix,  # type: ignore[arg-type]
                            last.server_text)
    if "".join(p.text for p in pieces) != continuation:
        raise _misaligned(where, toks, start_text + body)
    return pieces


def _choice_logprobs(choices: Sequence[str], positions: list[tuple[str, dict[str, float]]]) -> dict[str, float] | None:
    """Log-probability of each choice as the first answer token (case and spaces ignored).

    The answer position is the first generated token that is not blank. Variants of a choice
    ("Yes", " yes") are summed. A choice absent from the server's top list gets an upper
    bound: the smaller of the lowest listed value and the log of the mass left unlisted.
    """
    answer = next((top for token, top in positions if token.strip()), None)
    if answer is None:
        answer = positions[0][1] if positions else None
    if not answer:
        return None
    out: dict[str, float] = {}
    for choice in choices:
        want = choice.strip().lower()
        hits = [lp for tok, lp in answer.items() if tok.strip() and want.startswith(tok.strip().lower())]
        if hits:
            top = max(hits)
            out[choice] = top + math.log(sum(math.exp(h - top) for h in hits))
    if not out:
        return None
    listed = list(answer.values())
    left = 1.0 - sum(math.exp(v) for v in listed)
    bound = min(min(listed), math.log(left) if left > 1e-12 else min(listed))
    return {c: out.get(c, bound) for c in choices}


def _scoring_unsupported(where: str, why: str) -> DepthkitError:
    return DepthkitError(
        f"{where} cannot score continuations: {why}",
        fix="scoring tasks need a /v1/completions endpoint that returns prompt log-probabilities with echo=true "
            "and logprobs (vLLM, llama-cpp-python); with a chat-only API (e.g. OpenAI's chat models) use "
            "--task judgment or --task forced-choice instead")


def _misaligned(where: str, toks: list[_Tok], prompt: str) -> DepthkitError:
    shown = json.dumps([t.text for t in toks[:12]], ensure_ascii=False)
    return DepthkitError(f"{where}: the echoed tokens {shown}… do not spell the prompt {prompt[:60]!r}",
                         fix="the server must echo the prompt (echo=true) with token texts or text_offset; "
                             "check start_token, or use another server (vLLM)")


def _error_text(resp: Any) -> str:
    """The server's error message, short."""
    try:
        data = resp.json()
        err = data.get("error", data) if isinstance(data, dict) else data
        msg = err.get("message") if isinstance(err, dict) else err
        text = str(msg or "").strip() or resp.reason_phrase
    except ValueError:
        text = resp.text.strip() or resp.reason_phrase
    return " ".join(str(text).split())[:300]


def _retry_after(value: str | None) -> float | None:
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


def _is_loopback(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # a module function, so tests can record the waits


def _log(message: str) -> None:
    from ..store import log

    log(message)
