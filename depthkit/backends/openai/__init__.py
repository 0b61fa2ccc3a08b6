"""The ``openai`` backend: any OpenAI-compatible server (vLLM, llama.cpp, Ollama, OpenAI).

Modules: :mod:`.backend` (the backend class), :mod:`.http` (requests, retries, concurrency),
:mod:`.servers` (several base URLs: load spreading, per-server concurrency, failover, counts),
:mod:`.echo` (which echoed tokens are the continuation's), :mod:`.answers` (choice log-probabilities).

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

from .backend import OpenAIBackend

__all__ = ["OpenAIBackend"]
