"""The ``hf`` backend: a transformers causal LM from a local folder or the Hugging Face cache.

Loading uses ``local_files_only`` (option ``offline``, on by default) rather than environment
variables, and every call changes process-wide settings (torch's thread count, transformers' log
verbosity) only while it runs: the caller finds them as they were.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from ...errors import BackendError, UsageError
from ..answers import normalise
from ..base import Backend, Completion, Option, Prompt, ScoreRequest, TokenScores
from .decode import PromptDecoder
from .forward import TreeForward
from .packing import group_by_prefix
from .threads import ThreadTuner, available_threads, torch_threads

PROBE = ["The author that the senators admire laughs.", "The author that the senators admire laugh.",
         "A dog barks."]


def missing_torch() -> str | None:
    """Why torch or transformers cannot be imported here, or None."""
    for module in ("torch", "transformers"):
        if importlib.util.find_spec(module) is None:
            return f"needs {module}: pip install 'depthkit[hf]'"
    return None


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers logs only errors while the block runs (its verbosity is process-wide: restored after)."""
    import transformers

    before = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(before)


class HFBackend(Backend):
    name = "hf"
    description = "a transformers causal LM by hub id or local folder (fp32, prefix-shared batches)"
    requires = "torch and transformers (pip install 'depthkit[hf]'); the model in a local folder or the HF cache"
    # requests per call: prefixes are shared across the items of one call, so bigger calls compute less
    # (object-rc ladders, 180 items in file order: 0.447 computed tokens per scored token at 128,
    # 0.371 at 512; bench/bench_scoring.py); a kill loses at most one call's work
    default_batch_size = 512
    options = {
        "start_token": Option(str, None, "text before every input, e.g. <|endoftext|>; default: the tokenizer's "
                                         "BOS (else EOS) token; 'none' for nothing (first token then scores 0)"),
        "dtype": Option(str, "float32", "float32 (default: stable verdicts), bfloat16 or float16"),
        "chat_template": Option(bool, True, "prompts go through the tokenizer's chat template when it has one"),
        "offline": Option(bool, True, "never download (local_files_only); false lets transformers fetch the model",
                          affects_output=False),
        "threads": Option(int, None, "torch CPU threads (default: measured while scoring, 1 or all CPUs)",
                          affects_output=False),
        "share_prefix": Option(bool, True, "compute the shared prefix of a pair once", affects_output=False),
        "prefix_cache": Option(bool, True, "prompts: compute the instructions every prompt starts with once and "
                                           "reuse their keys/values", affects_output=False),
        "max_batch_tokens": Option(int, 1024, "padded tokens per forward pass", affects_output=False),
        "device": Option(str, "cpu", "torch device (cpu, cuda, mps)", affects_output=False),
    }

    def __init__(self, model: str | None = None, **options: Any):
        super().__init__(model, **options)
        if self.config["dtype"] not in ("float32", "bfloat16", "float16"):
            raise UsageError(f"option dtype={self.config['dtype']!r} is not float32, bfloat16 or float16",
                             fix="dtype=float32 keeps verdicts stable on CPU")
        if self.name == "hf" and not self.model:
            raise UsageError("the hf backend needs a model: hf:PATH_OR_HUB_ID",
                             fix="e.g. --model hf:/models/gpt2 or --model hf:HuggingFaceTB/SmolLM2-135M")
        self._tok: Any = None
        self._start_ids: list[int] = []
        self._start_text = ""
        self._forward: TreeForward | None = None
        self._decoder: PromptDecoder | None = None
        self._tuner: ThreadTuner | None = None

    @classmethod
    def unavailable(cls) -> str | None:
        return missing_torch()

    # -- identity ------------------------------------------------------------------------------
    def model_path(self) -> str:
        """Where transformers loads the model from (a folder or a hub id)."""
        return str(self.model)

    def weights_id(self) -> str | None:
        """What identifies the weights beyond the name: config and weight-file sizes of a local folder."""
        folder = Path(self.model_path())
        if not folder.is_dir():
            return None
        h = hashlib.sha256()
        for f in sorted(folder.iterdir()):
            if f.name == "config.json":
                h.update(f.read_bytes())
            elif f.suffix in (".safetensors", ".bin", ".gguf"):
                h.update(f"{f.name}:{f.stat().st_size}".encode())
        return h.hexdigest()[:16]

    def fingerprint(self) -> dict[str, Any]:
        fp = super().fingerprint()
        weights = self.weights_id()
        if weights:
            fp["weights"] = weights
        return fp

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> None:
        """Load tokenizer and model (once); errors say what to install or where to put the model."""
        if self._forward is not None:
            return
        problem = self.unavailable()
        if problem:
            raise BackendError(f"backend '{self.name}' {problem}", fix="install the extra, or use another --model")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = self.model_path()
        local = {"local_files_only": True} if self.config.get("offline", True) else {}
        try:
            with quiet_transformers():
                tok = AutoTokenizer.from_pretrained(path, **local)
                model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, self.config["dtype"]), **local)
        except Exception as exc:  # transformers raises OSError, ValueError, TypeError, KeyError... for a bad model
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            if not isinstance(exc, (OSError, ValueError)) or not first:
                first = f"{exc.__class__.__name__}: {first}" if first else exc.__class__.__name__
            raise BackendError(f"cannot load model '{self.model}': {first}",
                               fix="give a local folder with config.json, weights and tokenizer files, or a hub id "
                                   "already in the Hugging Face cache (option offline=false allows downloading)") \
                from None
        model.to(self.config["device"]).eval()
        start = self.config["start_token"]
        if start is None:
            start = tok.bos_token or tok.eos_token or ""
        self._tok = tok
        self._start_text = "" if start.lower() == "none" else start
        self._start_ids = tok(self._start_text, add_special_tokens=False).input_ids if self._start_text else []
        self._tuner = None if self._fixed_threads() else ThreadTuner((1, available_threads()))
        forward = TreeForward(model, self.config, self._timed)
        with self._scoped():
            forward.check_fast_paths([self._start_ids + self.encode(t)[0] for t in PROBE])
        if self._tuner:  # the probes were warm-up passes: their speed says nothing
            self._tuner.reset()
        self._forward, self._decoder = forward, PromptDecoder(forward, tok, self.encode)

    @property
    def forward(self) -> TreeForward:
        """The forward passes of the loaded model (loads it)."""
        self.load()
        assert self._forward is not None
        return self._forward

    @property
    def decoder(self) -> PromptDecoder:
        self.load()
        assert self._decoder is not None
        return self._decoder

    @property
    def forward_tokens(self) -> int:
        """Tokens computed since the count was last set (padding excluded), for benchmarks."""
        return self.forward.forward_tokens

    @forward_tokens.setter
    def forward_tokens(self, value: int) -> None:
        self.forward.forward_tokens = value

    @property
    def threads(self) -> int:
        """torch threads this backend computes with (changes as the tuner learns, when ``threads`` is not set)."""
        self.load()
        return self._fixed_threads() or (self._tuner.current if self._tuner else available_threads())

    @property
    def start_text(self) -> str:
        self.load()
        return self._start_text

    @property
    def start_ids(self) -> list[int]:
        self.load()
        return self._start_ids

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tok

    def _fixed_threads(self) -> int | None:
        """The user's ``threads``; all CPUs when there is one or the model is not on the CPU; else None (measured)."""
        cpus = available_threads()
        return self.config["threads"] or (cpus if cpus == 1 or self.config["device"] != "cpu" else None)

    def _timed(self, tokens: int) -> AbstractContextManager:
        """Context for one forward pass: picks threads before it, records its speed after (when measured)."""
        if self._tuner is None or self._fixed_threads():
            return nullcontext()
        return self._tuner.measure(tokens)

    @contextmanager
    def _scoped(self) -> Iterator[None]:
        """Process-wide settings for one call (threads, transformers' verbosity), restored afterwards."""
        with torch_threads(self._fixed_threads()), quiet_transformers():
            yield

    # -- tokenization --------------------------------------------------------------------------
    def encode(self, text: str) -> tuple[list[int], list[int]]:
        """Token ids of ``text`` and each token's end character (no special tokens added)."""
        if not text:
            return [], []
        tok = self._tok if self._tok is not None else self.tokenizer
        if getattr(tok, "is_fast", False):
            enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
            return list(enc["input_ids"]), [e for _, e in enc["offset_mapping"]]
        ids = tok(text, add_special_tokens=False).input_ids
        ends = [len(tok.decode(ids[:i + 1])) for i in range(len(ids))]
        return ids, [min(e, len(text)) for e in ends]

    # -- the contract --------------------------------------------------------------------------
    def score(self, requests: Sequence[ScoreRequest]) -> list[TokenScores]:
        forward = self.forward
        seqs, conts = [], []
        for r in requests:
            ctx_ids, _ = self.encode(r.context)
            ids, ends = self.encode(r.continuation)
            seqs.append(self._start_ids + ctx_ids + ids)
            conts.append((len(seqs[-1]) - len(ids), ends, r.continuation))
        with self._scoped():
            if forward.tree_ok:
                logprobs = forward.tree_logprobs(group_by_prefix(seqs, share=self.config["share_prefix"]), seqs)
            else:
                logprobs = forward.plain_logprobs(seqs, split_head=forward.split_head)
        return [token_scores(lp[start:], ends, text) for lp, (start, ends, text) in zip(logprobs, conts)]

    def prompt_ids(self, prompt: Prompt) -> list[int]:
        """Token ids a prompt is given as: the chat template (assistant turn opened) or the joined texts."""
        tok = self.tokenizer
        if self.config["chat_template"] and getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(list(prompt.messages), add_generation_prompt=True, tokenize=False)
            return tok(text, add_special_tokens=False).input_ids
        text = "\n\n".join(m["content"] for m in prompt.messages)
        return self._start_ids + self.encode(text)[0]

    def complete(self, prompts: Sequence[Prompt]) -> list[Completion]:
        """Greedy answers, and each choice's P(answer) (:mod:`depthkit.backends.answers`)."""
        decoder = self.decoder
        prompts = list(prompts)
        encoded = [self.prompt_ids(p) for p in prompts]
        with self._scoped():
            out = decoder.complete(prompts, encoded)
            longer = [(i, c, decoder.choice_tokens(c)) for i, p in enumerate(prompts) for c in p.choices
                      if len(decoder.choice_tokens(c)) != 1]
            if longer:  # a choice of several tokens: the whole continuation, scored after the prompt
                seqs = [encoded[i] + ids for i, _, ids in longer]
                logprobs = self.forward.plain_logprobs(seqs, split_head=self.forward.split_head)
                for (i, c, ids), lp in zip(longer, logprobs):
                    out[i].choice_logprobs[c] = float(sum(lp[len(lp) - len(ids):])) if ids else 0.0
        return [Completion(c.text, normalise(c.choice_logprobs, p.choices) if c.choice_logprobs else None)
                for c, p in zip(out, prompts)]

    def close(self) -> None:
        self._forward = self._decoder = None
        self._tok = None


def token_scores(logprobs: list[float], ends: list[int], text: str) -> TokenScores:
    """Continuation tokens with offsets by the whitespace rule (a token starts where the previous ended)."""
    tokens: list[str] = []
    offsets: list[int] = []
    lps: list[float] = []
    prev = 0
    for lp, end in zip(logprobs, ends):
        end = max(end, prev)
        if end == prev and tokens:  # a byte piece that completes no character: join it to the previous token
            lps[-1] += lp
            continue
        tokens.append(text[prev:end])
        offsets.append(prev)
        lps.append(float(lp))
        prev = end
    if prev < len(text) and tokens:  # characters no offset covered (should not happen): keep texts complete
        tokens[-1] += text[prev:]
    return TokenScores(tuple(tokens), tuple(offsets), tuple(lps))


__all__ = ["HFBackend", "missing_torch", "quiet_transformers", "token_scores"]
