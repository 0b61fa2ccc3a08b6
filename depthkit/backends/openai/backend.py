"""The ``openai`` backend class: options, the scoring and prompting calls, and errors with their fixes.

See the package docstring (:mod:`depthkit.backends.openai`) for what it sends and the server quirks
it handles; HTTP is :mod:`.http`, echo alignment :mod:`.echo`, answer reading :mod:`.answers`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from typing import Any

from ...errors import BackendError, UsageError, redact_secrets
from ...logs import logger
from ..base import Backend, Completion, Option, Prompt, ScoreRequest, TokenScores
from .answers import choice_logprobs
from .echo import (EchoToken, Piece, continuation_pieces, echo_ignored, echo_tokens, rendered_start,
                   scoring_unsupported)
from .http import RequestFailed
from .servers import ServerPool, parse_urls

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
CHOICE_TOP_LOGPROBS = 20  # OpenAI's maximum and vLLM's default --max-logprobs
FULL_DISTRIBUTION = 1_000_000  # "all of them": llama-cpp-python returns the whole vocabulary
PROBE_TEXT = "The capital of France is"


class OpenAIBackend(Backend):
    name = "openai"
    description = ("any OpenAI-compatible server (vLLM, llama.cpp, Ollama, OpenAI): echo+logprobs scoring "
                   "on /v1/completions, chat completions for prompted tasks")
    requires = ("a running OpenAI-compatible server (see docs/openai-servers.md); the API key, if any, "
                "in $OPENAI_API_KEY")
    default_batch_size = 256  # enough requests per call to keep concurrency x batch_prompts busy
    options = {
        "base_url": Option(str, None,
                           f"server address ending in /v1 (default: $OPENAI_BASE_URL or {DEFAULT_BASE_URL}); several "
                           "replicas of one model: comma-separated or the option repeated (docs/openai-servers.md)"),
        "api_key_env": Option(str, "OPENAI_API_KEY",
                              "name of the environment variable holding the API key (never the key itself)",
                              affects_output=False),
        "concurrency": Option(int, 8, "requests in flight at once per server", affects_output=False),
        "revive_after": Option(float, 10.0, "seconds a failing server stays out of rotation before it is tried "
                               "again (doubles while it keeps failing)", affects_output=False),
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
        cfg = self.config
        if not cfg["base_url"]:
            cfg["base_url"] = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        urls = parse_urls(cfg["base_url"], DEFAULT_BASE_URL)
        cfg["base_url"] = redact_secrets(",".join(urls))  # what manifests, logs and errors show; urls keep the password
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(cfg["api_key_env"] or "OPENAI_API_KEY")):
            cfg["api_key_env"] = None  # never kept, shown or stored
            raise UsageError("option api_key_env does not look like the name of an environment variable; it looks "
                             "like a key, so it was not used or stored",
                             fix="put the key in an environment variable and give its name, e.g. "
                                 "`export OPENAI_API_KEY=...` and --option api_key_env=OPENAI_API_KEY")
        for key in ("concurrency", "batch_prompts"):
            if int(cfg[key]) < 1:
                raise UsageError(f"option {key}={cfg[key]} must be at least 1",
                                 fix=f"{key}: {self.options[key].help}")
        if cfg["max_retries"] < 0 or cfg["timeout"] <= 0 or cfg["retry_backoff"] < 0 or cfg["revive_after"] < 0:
            raise UsageError("options max_retries, retry_backoff, revive_after must be >= 0 and timeout > 0",
                             fix="e.g. max_retries=4 retry_backoff=0.5 timeout=120 revive_after=10")
        if not cfg["echo"]:
            self.supports_score = False  # type: ignore[misc]  # instance override of the class default
        self._http = ServerPool(urls, os.environ.get(cfg["api_key_env"] or "") or None,
                                timeout=cfg["timeout"], max_retries=int(cfg["max_retries"]),
                                retry_backoff=cfg["retry_backoff"], concurrency=int(cfg["concurrency"]),
                                revive_after=cfg["revive_after"])
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
            raise scoring_unsupported(self.config["base_url"], "option echo=false")
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
        pieces: dict[int, list[Piece]] = {}
        for text, toks in zip(texts, raw):
            for i in prompts[text]:
                pieces[i] = continuation_pieces(toks, start, requests[i].context, requests[i].continuation,
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
        return self._http.map(one, list(prompts))

    def close(self) -> None:
        self._http.close()

    def server_counts(self) -> list[dict[str, Any]]:
        """Per server: url, requests sent, errors, times taken out of rotation (for the eval manifest)."""
        return self._http.counts()

    # ----------------------------------------------------------------------------------
    # scoring

    def _echo_many(self, texts: list[str]) -> list[list[EchoToken]]:
        """Echoed prompt tokens of every text, in order; several texts per request where the server allows."""
        size = 1 if self._batch_ok is False else int(self.config["batch_prompts"])
        chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
        done: list[list[EchoToken]] = []
        if self._batch_ok is None and len(chunks[0]) > 1:
            done = self._echo_chunk(chunks[0])  # finds out whether the server takes a list, before fanning out
            chunks = chunks[1:] if self._batch_ok else [[t] for c in chunks[1:] for t in c]
        return done + [t for part in self._http.map(self._echo_chunk, chunks) for t in part]

    def _echo_chunk(self, texts: list[str]) -> list[list[EchoToken]]:
        body = {"model": self.model, "prompt": texts if len(texts) > 1 else texts[0], "echo": True,
                "logprobs": 0, "max_tokens": 1, "temperature": 0}
        probing_list = len(texts) > 1 and self._batch_ok is None
        try:
            data = self._http.post("/completions", body, retry_errors=not probing_list)
        except RequestFailed as exc:
            if probing_list and exc.status in (400, 413, 422, 500, 501):
                with self._lock:
                    if self._batch_ok is None:
                        self._batch_ok = False
                        logger.info(f"[openai] {exc.url} refused a list of {len(texts)} prompts (HTTP {exc.status}); "
                             "sending one prompt per request from now on")
                return [t for text in texts for t in self._echo_chunk([text])]
            raise self._error(exc, scoring=True) from None
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or len(choices) != len(texts):
            raise BackendError(f"{self.config['base_url']}/completions answered {len(choices or [])} choices for "
                               f"{len(texts)} prompts", fix="set batch_prompts=1 for this server")
        if len(texts) > 1:
            self._batch_ok = True
            choices = sorted(choices, key=lambda c: c.get("index", 0) if isinstance(c, dict) else 0)
        return [echo_tokens(c, self.config["base_url"]) for c in choices]

    def _check_alignment(self) -> None:
        """Once per backend: are echoed log-probabilities at the right position? Stop if not."""
        with self._lock:
            if self._alignment is None:
                self._alignment = self._probe_alignment()
                if self._alignment == "unknown":
                    logger.warning(f"[openai] could not check that {self.config['base_url']} aligns echoed log-probabilities; "
                         "compare a few scores with another backend before trusting them")
            verdict = self._alignment
        if verdict == "shifted":
            owner = ", ".join(sorted({str(m.get("owned_by")) for m in self._models or []}))
            llama = "llama-cpp-python" if owner == "me" else "this server"
            raise BackendError(
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
            gen = self._http.post("/completions", {"model": self.model, "prompt": prefix, "max_tokens": 1,
                                              "temperature": 0, "logprobs": 1})
            lp = gen["choices"][0]["logprobs"]
            g_text, g_lp = lp["tokens"][0], lp["token_logprobs"][0]
            if not isinstance(g_text, str) or not g_text.strip() or g_lp is None:
                return "unknown"
            echo = self._http.post("/completions", {"model": self.model, "prompt": prefix + g_text, "echo": True,
                                               "max_tokens": 1, "temperature": 0, "logprobs": 1})
            toks = echo_tokens(echo["choices"][0], self.config["base_url"])
            if echo_ignored(toks, PROBE_TEXT + g_text):
                raise scoring_unsupported(self.config["base_url"],
                                           "it ignores echo=true (log-probabilities of generated tokens only)")
        except RequestFailed as exc:
            raise self._error(exc, scoring=True) from None
        except (KeyError, IndexError, TypeError):
            raise scoring_unsupported(self.config["base_url"], "its completions carry no token log-probabilities") \
                from None
        base = rendered_start(toks, self.config["start_token"] or "", PROBE_TEXT + g_text)
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

    def _fill_nulls(self, pieces: list[Piece]) -> None:
        """Fetch the next-token distribution at each prefix whose token came back without a log-probability."""
        missing = {p.prefix: p for p in pieces if p.logprob is None and p.prefix not in self._next_token}
        if not missing:
            return
        for p in missing.values():
            if not p.prefix:
                raise BackendError(f"{self.config['base_url']} gives no log-probability to the first token of a text "
                                   f"({p.text!r}): nothing comes before it",
                                   fix="set start_token to the model's start token (e.g. '<|endoftext|>' for SmolLM2)")

        def fetch(prefix: str) -> dict[str, float]:
            try:
                data = self._http.post("/completions", {"model": self.model, "prompt": prefix, "max_tokens": 1,
                                                   "temperature": 0, "logprobs": FULL_DISTRIBUTION})
                top = data["choices"][0]["logprobs"]["top_logprobs"][0]
            except RequestFailed as exc:
                raise self._error(exc, scoring=True) from None
            except (KeyError, IndexError, TypeError):
                top = None
            return {str(k): float(v) for k, v in top.items()} if isinstance(top, dict) else {}

        prefixes = list(missing)
        for prefix, dist in zip(prefixes, self._http.map(fetch, prefixes)):
            self._next_token[prefix] = dist
        for p in pieces:
            if p.logprob is None and p.server_text not in self._next_token[p.prefix]:
                raise BackendError(
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
            data = self._http.post("/chat/completions", body)
        except RequestFailed as exc:
            if want and exc.status in (400, 422):  # a server without logprobs on chat: answer text only
                with self._lock:
                    if self._chat_logprobs_ok:
                        self._chat_logprobs_ok = False
                        logger.info(f"[openai] {exc.url} refused logprobs on chat completions (HTTP {exc.status}); "
                             "answers will have text only")
                return self._chat_one(prompt)
            raise self._error(exc) from None
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(f"{self.config['base_url']}/chat/completions answered without a message",
                               fix="check that the server implements the OpenAI chat completions API") from None
        positions = []
        content = (choice.get("logprobs") or {}).get("content") or []
        for entry in content:
            top = entry.get("top_logprobs") or [{"token": entry.get("token"), "logprob": entry.get("logprob")}]
            positions.append((str(entry.get("token") or ""),
                              {str(t.get("token")): t.get("logprob") for t in top if t.get("logprob") is not None}))
        return Completion(text, choice_logprobs(prompt.choices, positions) if prompt.choices else None)

    def _text_one(self, prompt: Prompt) -> Completion:
        text_prompt = "\n\n".join(m.get("content", "") for m in prompt.messages)
        body: dict[str, Any] = {"model": self.model, "prompt": text_prompt, "max_tokens": prompt.max_tokens,
                                "temperature": 0}
        if prompt.choices:
            body["logprobs"] = CHOICE_TOP_LOGPROBS
        try:
            data = self._http.post("/completions", body)
            choice = data["choices"][0]
        except RequestFailed as exc:
            raise self._error(exc) from None
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"{self.config['base_url']}/completions answered without choices",
                               fix="check that the server implements the OpenAI completions API") from None
        lp = choice.get("logprobs") or {}
        positions = [(str(t), {str(k): v for k, v in (top or {}).items() if v is not None})
                     for t, top in zip(lp.get("tokens") or [], lp.get("top_logprobs") or [])]
        return Completion(str(choice.get("text") or ""),
                          choice_logprobs(prompt.choices, positions) if prompt.choices else None)

    # ----------------------------------------------------------------------------------
    # HTTP

    def _resolve_model(self) -> None:
        """Ask /v1/models once; when no model was given, use the only one served."""
        if self._models is not None:
            return
        try:
            data = self._http.get("/models")
            models = [m for m in data.get("data", []) if isinstance(m, dict)] if isinstance(data, dict) else []
        except RequestFailed as exc:
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
            raise BackendError(f"{self.config['base_url']} serves {len(ids)} models ({listed}): which one?",
                               fix="name it: --model openai:MODEL@URL")
        self.model = ids[0]

    def _error(self, exc: RequestFailed, scoring: bool = False) -> BackendError:
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
            fix = (f"put the API key in the environment variable {env} (currently {'set' if self._http.has_key else 'unset'}), "
                   "or name another variable with api_key_env=NAME")
        elif scoring and (exc.status in (400, 404, 405, 422, 501) or "echo" in detail or "logprob" in detail):
            return scoring_unsupported(self.config["base_url"], message)
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
        return BackendError(message, fix=fix)


__all__ = ["DEFAULT_BASE_URL", "OpenAIBackend"]
