"""The ``hf`` backend: a transformers causal LM from a local folder or the Hugging Face cache.

Scoring is exact fp32 by default and fast on a CPU:

* every input is ``START + context + continuation`` (START configurable, see ``start_token``);
* requests that share a token prefix (the two members of a minimal pair, repeated sentences)
  are packed into one *prefix tree*: the shared tokens are computed once and each branch
  attends only to its own ancestors (a 4-D attention mask with tree position ids), so a
  pair costs about one sentence plus the differing tail instead of two sentences;
* trees are packed side by side into rows of ~128 tokens (block-diagonal mask) and rows are
  batched up to ``max_batch_tokens``, so there is almost no padding;
* the output layer runs only on positions whose next token is scored;
* the CPU thread count is measured, not assumed (:class:`ThreadTuner`), unless ``threads`` is set.

A model that does not take 4-D masks falls back to plain padded batches (checked once at
load time on a probe, so the fast path never changes a score).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext as _nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DepthkitError
from .base import Backend, Completion, Option, Prompt, ScoreRequest, TokenScores

MIN_SHARED_TOKENS = 2  # pack requests into one tree when they share at least this many tokens
MAX_TREE_TOKENS = 128  # ...and the tree stays this small (attention is quadratic in it)
ROW_TOKENS = 128  # trees are packed side by side into rows this long (less padding, little extra attention)
PROMPT_TREE_TOKENS = 512  # prompts share long instructions: bigger trees pay off there
DECODE_ROWS = 32  # prompts decoded together after their tree pass
PROBE = ["The author that the senators admire laughs.", "The author that the senators admire laugh.",
         "A dog barks."]


def available_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _missing_torch() -> str | None:
    import importlib.util

    for module in ("torch", "transformers"):
        if importlib.util.find_spec(module) is None:
            return f"needs {module}: pip install 'depthkit[hf]'"
    return None


@dataclass
class _Tree:
    """Token sequences merged on their common prefixes (nodes in creation order: parents first)."""

    tokens: list[int]
    parents: list[int]  # -1 for a root
    positions: list[int]
    paths: dict[int, list[int]]  # request index -> node of each of its tokens

    @classmethod
    def build(cls, sequences: dict[int, list[int]]) -> "_Tree":
        tree = cls([], [], [], {})
        children: list[dict[int, int]] = []
        roots: dict[int, int] = {}
        for index, seq in sequences.items():
            node, path = -1, []
            for token in seq:
                table = roots if node < 0 else children[node]
                nxt = table.get(token)
                if nxt is None:
                    nxt = len(tree.tokens)
                    tree.tokens.append(token)
                    tree.parents.append(node)
                    tree.positions.append(0 if node < 0 else tree.positions[node] + 1)
                    children.append({})
                    table[token] = nxt
                path.append(nxt)
                node = nxt
            tree.paths[index] = path
        return tree


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def group_by_prefix(sequences: list[list[int]], share: bool = True, min_shared: int = MIN_SHARED_TOKENS,
                    max_tokens: int = MAX_TREE_TOKENS) -> list[_Tree]:
    """Prefix trees over ``sequences`` (indices kept), sharing only where it pays."""
    order = sorted(range(len(sequences)), key=lambda i: sequences[i])
    groups: list[list[int]] = []
    size = 0
    for pos, i in enumerate(order):
        if share and groups:
            prev = sequences[order[pos - 1]]
            shared = _common_prefix(prev, sequences[i])
            new = len(sequences[i]) - shared
            if shared >= min_shared and size + new <= max_tokens:
                groups[-1].append(i)
                size += new
                continue
        groups.append([i])
        size = len(sequences[i])
    return [_Tree.build({i: sequences[i] for i in g}) for g in groups]


def _row_len(row: list[_Tree]) -> int:
    return sum(len(t.tokens) for t in row)


def budget_batches(lengths: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """``(start, stop)`` runs of consecutive entries (sorted by length) whose padded size
    (longest x count) stays within ``budget`` tokens; an entry longer than the budget goes alone."""
    runs = []
    start = 0
    while start < len(lengths):
        stop = start + 1
        while stop < len(lengths) and lengths[stop] * (stop + 1 - start) <= budget:
            stop += 1
        runs.append((start, stop))
        start = stop
    return runs


def pack_rows(trees: list[_Tree], width: int) -> list[list[_Tree]]:
    """First-fit-decreasing packing of trees into rows of ``width`` tokens, rows sorted by length."""
    rows: list[list[_Tree]] = []
    free: list[int] = []
    for tree in sorted(trees, key=lambda t: -len(t.tokens)):
        n = len(tree.tokens)
        for r, room in enumerate(free):
            if n <= room:
                rows[r].append(tree)
                free[r] -= n
                break
        else:
            rows.append([tree])
            free.append(max(width, n) - n)
    return sorted(rows, key=_row_len)


class ThreadTuner:
    """Chooses torch's CPU thread count while scoring, by measured tokens/s.

    On a shared CPU one thread can beat two by 2-5x (threads wait for each other) and the
    winner changes with the load. All CPUs are used first; the other choice is tried every
    ``EXPLORE``-th forward pass, and more often while the current choice runs well below its
    best speed (a sign of contention); the faster one (recent average) is kept.
    """

    EXPLORE = 20
    EXPLORE_SLOWED = 4
    SLOWED = 0.6

    def __init__(self, choices: tuple[int, ...]):
        self.choices = tuple(dict.fromkeys(choices))
        self.rate: dict[int, float] = {}
        self.peak: dict[int, float] = {}
        self.calls = 0

    def choose(self) -> int:
        self.calls += 1
        if not self.rate:
            return self.choices[-1]
        best = max(self.rate, key=self.rate.get)
        others = [c for c in self.choices if c != best]
        slowed = self.rate[best] < self.SLOWED * self.peak[best]
        if others and (self.calls % self.EXPLORE == 0 or (slowed and self.calls % self.EXPLORE_SLOWED == 0)):
            untried = [c for c in others if c not in self.rate]
            return (untried or others)[0]
        return best

    def reset(self) -> None:
        self.rate.clear()
        self.peak.clear()

    @contextmanager
    def measure(self, tokens: int):
        import torch

        threads = self.choose()
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        start = time.perf_counter()
        yield
        rate = tokens / max(time.perf_counter() - start, 1e-9)
        old = self.rate.get(threads)
        self.rate[threads] = rate if old is None else 0.5 * old + 0.5 * rate
        self.peak[threads] = max(self.peak.get(threads, 0.0), rate)


class HFBackend(Backend):
    name = "hf"
    description = "a transformers causal LM by hub id or local folder (fp32, prefix-shared batches)"
    requires = "torch and transformers (pip install 'depthkit[hf]'); the model in a local folder or the HF cache"
    default_batch_size = 128
    options = {
        "start_token": Option(str, None, "text before every input, e.g. <|endoftext|>; default: the tokenizer's "
                                         "BOS (else EOS) token; 'none' for nothing (first token then scores 0)"),
        "dtype": Option(str, "float32", "float32 (default: stable verdicts), bfloat16 or float16"),
        "chat_template": Option(bool, True, "prompts go through the tokenizer's chat template when it has one"),
        "offline": Option(bool, True, "never download (HF_HUB_OFFLINE=1); false lets transformers fetch the model",
                          affects_output=False),
        "threads": Option(int, None, "torch CPU threads (default: measured while scoring, 1 or all CPUs)",
                          affects_output=False),
        "share_prefix": Option(bool, True, "compute the shared prefix of a pair once", affects_output=False),
        "max_batch_tokens": Option(int, 1024, "padded tokens per forward pass", affects_output=False),
        "device": Option(str, "cpu", "torch device (cpu, cuda, mps)", affects_output=False),
    }

    def __init__(self, model: str | None = None, **options: Any):
        super().__init__(model, **options)
        if self.config["dtype"] not in ("float32", "bfloat16", "float16"):
            raise DepthkitError(f"option dtype={self.config['dtype']!r} is not float32, bfloat16 or float16",
                                fix="dtype=float32 keeps verdicts stable on CPU")
        if self.name == "hf" and not self.model:
            raise DepthkitError("the hf backend needs a model: hf:PATH_OR_HUB_ID",
                                fix="e.g. --model hf:/models/gpt2 or --model hf:HuggingFaceTB/SmolLM2-135M")
        self._model: Any = None
        self._tok: Any = None
        self._start_ids: list[int] = []
        self._start_text = ""
        self._tree_ok = True
        self._tree_complete: bool | None = None  # decided on the first complete() call
        self._split_head = True
        self.forward_tokens = 0  # tokens computed (padding excluded), for benchmarks
        self._tuner: ThreadTuner | None = None

    @classmethod
    def unavailable(cls) -> str | None:
        return _missing_torch()

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
        if self._model is not None:
            return
        problem = self.unavailable()
        if problem:
            raise DepthkitError(f"backend '{self.name}' {problem}", fix="install the extra, or use another --model")
        offline = self.config.get("offline", True)
        if offline:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        transformers.logging.set_verbosity_error()
        path = self.model_path()
        local = {"local_files_only": True} if offline else {}
        try:
            tok = AutoTokenizer.from_pretrained(path, **local)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, self.config["dtype"]), **local)
        except Exception as exc:  # transformers raises OSError, ValueError, TypeError, KeyError... for a bad model
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            if not isinstance(exc, (OSError, ValueError)) or not first:
                first = f"{exc.__class__.__name__}: {first}" if first else exc.__class__.__name__
            raise DepthkitError(f"cannot load model '{self.model}': {first}",
                                fix="give a local folder with config.json, weights and tokenizer files, or a hub id "
                                    "already in the Hugging Face cache (option offline=false allows downloading)") \
                from None
        model.to(self.config["device"]).eval()
        self._tok, self._model = tok, model
        start = self.config["start_token"]
        if start is None:
            start = tok.bos_token or tok.eos_token or ""
        self._start_text = "" if start.lower() == "none" else start
        self._start_ids = tok(self._start_text, add_special_tokens=False).input_ids if self._start_text else []
        self._pick_threads()
        self._check_fast_paths()

    @property
    def threads(self) -> int:
        """torch threads in use (changes as the tuner learns, when ``threads`` is not set)."""
        import torch

        self.load()
        return torch.get_num_threads()

    @property
    def start_text(self) -> str:
        self.load()
        return self._start_text

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tok

    def _pick_threads(self) -> int:
        """The user's ``threads``, else a :class:`ThreadTuner` over 1 thread and all CPUs."""
        import torch

        cpus = available_threads()
        fixed = self.config["threads"] or (cpus if cpus == 1 or self.config["device"] != "cpu" else None)
        if fixed:
            torch.set_num_threads(fixed)
            self._tuner = None
            return fixed
        self._tuner = ThreadTuner((1, cpus))
        return cpus

    def _timed(self, tokens: int):
        """Context for one forward pass: picks threads before it, records its speed after."""
        return self._tuner.measure(tokens) if self._tuner else _nullcontext()

    def _check_fast_paths(self) -> None:
        """Use the tree mask and the split output layer only where they reproduce the plain forward pass."""
        seqs = [self._start_ids + self._encode(t)[0] for t in PROBE]
        tol = 1e-3 if self.config["dtype"] == "float32" else 0.5  # half precision wobbles with batch shape
        plain = self._plain_logprobs(seqs, split_head=False)
        try:
            split = self._plain_logprobs(seqs, split_head=True)
            self._split_head = _close(plain, split, tol)
        except Exception:  # a model without the usual base_model / lm_head layout
            self._split_head = False
        try:
            tree = self._tree_logprobs(group_by_prefix(seqs, min_shared=1), seqs)
            self._tree_ok = _close(plain, tree, tol)
        except Exception:  # e.g. an attention implementation that rejects 4-D masks
            self._tree_ok = False
        self.forward_tokens = 0
        if self._tuner:  # the probes were warm-up passes: their speed says nothing
            self._tuner.reset()

    # -- tokenization --------------------------------------------------------------------------
    def _encode(self, text: str) -> tuple[list[int], list[int]]:
        """Token ids of ``text`` and each token's end character (no special tokens added)."""
        if not text:
            return [], []
        tok = self._tok
        if getattr(tok, "is_fast", False):
            enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
            return list(enc["input_ids"]), [e for _, e in enc["offset_mapping"]]
        ids = tok(text, add_special_tokens=False).input_ids
        ends = [len(tok.decode(ids[:i + 1])) for i in range(len(ids))]
        return ids, [min(e, len(text)) for e in ends]

    # -- scoring -------------------------------------------------------------------------------
    def score(self, requests: Sequence[ScoreRequest]) -> list[TokenScores]:
        self.load()
        seqs, conts = [], []
        for r in requests:
            ctx_ids, _ = self._encode(r.context)
            ids, ends = self._encode(r.continuation)
            seqs.append(self._start_ids + ctx_ids + ids)
            conts.append((len(seqs[-1]) - len(ids), ends, r.continuation))
        if self._tree_ok:
            trees = group_by_prefix(seqs, share=self.config["share_prefix"])
            logprobs = self._tree_logprobs(trees, seqs)
        else:
            logprobs = self._plain_logprobs(seqs, split_head=self._split_head)
        return [_token_scores(lp[start:], ends, text) for lp, (start, ends, text) in zip(logprobs, conts)]

    def _head(self, hidden: Any) -> Any:
        import torch

        logits = self._model.get_output_embeddings()(hidden).float()
        cap = getattr(self._model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return torch.log_softmax(logits, dim=-1)

    def _row_batches(self, rows: list[list[_Tree]]):
        """Consecutive rows (sorted by length) in groups of at most ``max_batch_tokens`` padded tokens."""
        for start, stop in budget_batches([_row_len(r) for r in rows], self.config["max_batch_tokens"]):
            yield rows[start:stop]

    def _layout(self, batch: list[list[_Tree]]) -> tuple[Any, Any, Any, list[list[int]]]:
        """Input ids, tree positions and the additive 4-D mask of a batch of packed rows, and each
        tree's offset in its row. A node sees its ancestors and itself; padding sees only itself."""
        import numpy as np
        import torch

        width = max(_row_len(r) for r in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        pos = np.zeros((len(batch), width), dtype=np.int64)
        allowed = np.zeros((len(batch), width, width), dtype=bool)
        offsets: list[list[int]] = []
        for r, row in enumerate(batch):
            offset, starts = 0, []
            for tree in row:
                n = len(tree.tokens)
                starts.append(offset)
                ids[r, offset:offset + n] = tree.tokens
                pos[r, offset:offset + n] = tree.positions
                for i, parent in enumerate(tree.parents):
                    if parent >= 0:
                        allowed[r, offset + i] = allowed[r, offset + parent]
                    allowed[r, offset + i, offset + i] = True
                offset += n
            for i in range(offset, width):
                allowed[r, i, i] = True
            offsets.append(starts)
        dtype = self._model.dtype
        mask = torch.zeros(allowed.shape, dtype=dtype)
        mask.masked_fill_(torch.from_numpy(~allowed), torch.finfo(dtype).min)
        return ids, pos, mask[:, None], offsets

    def _inputs(self, ids: Any, pos: Any, mask: Any) -> dict[str, Any]:
        import torch

        device = self.config["device"]
        return dict(input_ids=torch.from_numpy(ids).to(device), position_ids=torch.from_numpy(pos).to(device),
                    attention_mask=mask.to(device))

    def _logsoftmax_at(self, inputs: dict[str, Any], flat_positions: Any, **kw: Any) -> tuple[Any, Any]:
        """Log-softmax of the next-token distribution at the given flattened (row * width + col) positions."""
        import torch

        device = self.config["device"]
        if self._split_head:  # the output layer only where it is needed
            out = self._model.base_model(**inputs, **kw)
            hidden = out.last_hidden_state
            logsm = self._head(hidden.reshape(-1, hidden.shape[-1])[flat_positions.to(device)])
        else:
            out = self._model(**inputs, **kw)
            logits = out.logits.float()
            logsm = torch.log_softmax(logits.reshape(-1, logits.shape[-1])[flat_positions.to(device)], dim=-1)
        return logsm, getattr(out, "past_key_values", None)

    def _tree_logprobs(self, trees: list[_Tree], seqs: list[list[int]]) -> list[list[float]]:
        """Log-probability of every token of every sequence (0.0 for a first token without context).

        Trees are packed side by side into rows of about ``ROW_TOKENS`` tokens (a block-diagonal
        mask keeps them apart), and rows are batched up to ``max_batch_tokens``: almost no padding.
        """
        import numpy as np
        import torch

        device = self.config["device"]
        out: list[list[float]] = [[] for _ in seqs]
        for batch in self._row_batches(pack_rows(trees, ROW_TOKENS)):
            ids, pos, mask, offsets = self._layout(batch)
            width = ids.shape[1]
            scored_rows, children, parents = [], [], []
            for r, row in enumerate(batch):
                for tree, offset in zip(row, offsets[r]):
                    for i, parent in enumerate(tree.parents):
                        if parent >= 0:
                            scored_rows.append(r)
                            children.append(offset + i)
                            parents.append(offset + parent)
            node_lp = np.zeros(ids.shape, dtype=np.float64)
            if scored_rows:
                with torch.inference_mode(), self._timed(ids.size):
                    flat_parent = torch.tensor(scored_rows) * width + torch.tensor(parents)
                    unique, inverse = torch.unique(flat_parent, return_inverse=True)
                    targets = torch.from_numpy(ids[scored_rows, children])
                    logsm, _ = self._logsoftmax_at(self._inputs(ids, pos, mask), unique)
                    node_lp[scored_rows, children] = logsm[inverse.to(device), targets.to(device)].double().cpu().numpy()
            self.forward_tokens += sum(_row_len(r) for r in batch)
            for r, row in enumerate(batch):
                for tree, offset in zip(row, offsets[r]):
                    for index, path in tree.paths.items():
                        out[index] = node_lp[r, [offset + k for k in path]].tolist()
        return out

    def _plain_logprobs(self, seqs: list[list[int]], split_head: bool) -> list[list[float]]:
        """Reference path: one right-padded row per sequence, the model's own causal mask."""
        import torch

        device = self.config["device"]
        out: list[list[float]] = [[] for _ in seqs]
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        for start, stop in budget_batches([len(seqs[i]) for i in order], self.config["max_batch_tokens"]):
            chunk = order[start:stop]
            width = max(len(seqs[i]) for i in chunk)
            ids = torch.zeros((len(chunk), width), dtype=torch.long)
            attn = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, i in enumerate(chunk):
                ids[row, :len(seqs[i])] = torch.tensor(seqs[i])
                attn[row, :len(seqs[i])] = 1
            with torch.inference_mode(), self._timed(ids.numel()):
                if split_head:
                    hidden = self._model.base_model(input_ids=ids.to(device), attention_mask=attn.to(device)).last_hidden_state
                    logsm = self._head(hidden[:, :-1])
                else:
                    logits = self._model(input_ids=ids.to(device), attention_mask=attn.to(device)).logits.float()
                    logsm = torch.log_softmax(logits[:, :-1], dim=-1)
                lp = logsm.gather(-1, ids[:, 1:, None].to(device))[..., 0].double().cpu()
            self.forward_tokens += int(attn.sum())
            for row, i in enumerate(chunk):
                out[i] = [0.0] + lp[row, :len(seqs[i]) - 1].tolist() if seqs[i] else []
        return out

    # -- prompts -------------------------------------------------------------------------------
    def prompt_ids(self, prompt: Prompt) -> list[int]:
        """Token ids a prompt is given as: the chat template (assistant turn opened) or the joined texts."""
        self.load()
        tok = self._tok
        if self.config["chat_template"] and getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(list(prompt.messages), add_generation_prompt=True, tokenize=False)
            return tok(text, add_special_tokens=False).input_ids
        text = "\n\n".join(m["content"] for m in prompt.messages)
        return self._start_ids + self._encode(text)[0]

    def _choice_tokens(self, choice: str) -> list[int]:
        """First token of the answer written bare and with a leading space (both count)."""
        ids = []
        for variant in (choice, " " + choice):
            enc = self._encode(variant)[0]
            if enc and enc[0] not in ids:
                ids.append(enc[0])
        return ids

    def _stop_ids(self) -> set[int]:
        tok, model = self._tok, self._model
        ids = model.generation_config.eos_token_id
        stops = {i for i in ([ids] if not isinstance(ids, list) else ids) + [tok.eos_token_id] if i is not None}
        vocab = tok.get_vocab()
        for special in ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|endoftext|>"):
            if special in vocab:
                stops.add(vocab[special])
        return stops

    def _completion(self, prompt: Prompt, first_logsm: Any, new_tokens: list[int], stops: set[int]) -> Completion:
        import torch

        new_tokens = new_tokens[:prompt.max_tokens]
        cut = next((k for k, t in enumerate(new_tokens) if t in stops), len(new_tokens))
        text = self._tok.decode(new_tokens[:cut], skip_special_tokens=True).strip()
        choice_lp = None
        if prompt.choices:
            choice_lp = {c: float(torch.logsumexp(first_logsm[self._choice_tokens(c)], dim=0)) for c in prompt.choices}
        return Completion(text, choice_lp)

    def complete(self, prompts: Sequence[Prompt]) -> list[Completion]:
        """Greedy answers; choice log-probabilities from the first answer token's distribution.

        Prompts sharing a prefix (the instructions) are computed as one prefix tree, and each
        prompt then decodes from its own slice of the tree's key/value cache. Checked once
        against plain ``generate`` on the first prompts; any difference falls back to it.
        """
        self.load()
        prompts = list(prompts)
        encoded = [self.prompt_ids(p) for p in prompts]
        if self._tree_ok and self._tree_complete is None and prompts:
            k = min(2, len(prompts))
            try:
                tree = self._complete_tree(prompts[:k], encoded[:k])
                plain = self._complete_plain(prompts[:k], encoded[:k])
                tol = 1e-3 if self.config["dtype"] == "float32" else 0.5
                self._tree_complete = all(
                    a.text == b.text and (a.choice_logprobs or {}).keys() == (b.choice_logprobs or {}).keys()
                    and all(abs(a.choice_logprobs[c] - b.choice_logprobs[c]) <= tol for c in a.choice_logprobs or {})
                    for a, b in zip(tree, plain))
            except Exception:  # a model or cache layout the tree path does not handle
                self._tree_complete = False
        if self._tree_ok and self._tree_complete:
            return self._complete_tree(prompts, encoded)
        return self._complete_plain(prompts, encoded)

    def _complete_tree(self, prompts: list[Prompt], encoded: list[list[int]]) -> list[Completion]:
        import torch

        stops = self._stop_ids()
        out: list[Completion | None] = [None] * len(prompts)
        trees = group_by_prefix(encoded, max_tokens=PROMPT_TREE_TOKENS)
        for batch in self._row_batches(pack_rows(trees, PROMPT_TREE_TOKENS)):
            ids, pos, mask, offsets = self._layout(batch)
            width = ids.shape[1]
            members = [(index, r, [offset + k for k in path]) for r, row in enumerate(batch)
                       for tree, offset in zip(row, offsets[r]) for index, path in tree.paths.items()]
            leaves = torch.tensor([r * width + path[-1] for _, r, path in members])
            with torch.inference_mode(), self._timed(ids.size):
                first, cache = self._logsoftmax_at(self._inputs(ids, pos, mask), leaves, use_cache=True)
            first = first.float().cpu()
            self.forward_tokens += sum(_row_len(r) for r in batch)
            layers = _cache_layers(cache)
            max_new = max(prompts[i].max_tokens for i, _, _ in members)
            for start in range(0, len(members), DECODE_ROWS):
                group = members[start:start + DECODE_ROWS]
                rows = list(range(start, start + len(group)))
                tokens = self._greedy(group, first[rows], layers, max_new, stops)
                for (index, _, _), j, new in zip(group, rows, tokens):
                    out[index] = self._completion(prompts[index], first[j], new, stops)
        return [c for c in out if c is not None]

    def _greedy(self, members: list[tuple[int, int, list[int]]], first: Any, layers: list[tuple[Any, Any]],
                max_new: int, stops: set[int]) -> list[list[int]]:
        """Greedy decoding after the tree pass: each prompt's own keys/values, left-padded."""
        import torch
        from transformers import DynamicCache

        tokens = [[int(first[j].argmax())] for j in range(len(members))]
        done = [t[0] in stops for t in tokens]
        if max_new <= 1 or all(done):
            return tokens
        device = self.config["device"]
        lengths = [len(path) for _, _, path in members]
        width = max(lengths)
        cache = DynamicCache()
        for layer, (keys, values) in enumerate(layers):
            k = keys.new_zeros((len(members), keys.shape[1], width, keys.shape[3]))
            v = values.new_zeros((len(members), values.shape[1], width, values.shape[3]))
            for j, (_, r, path) in enumerate(members):
                idx = torch.tensor(path, device=keys.device)
                k[j, :, width - len(path):] = keys[r][:, idx]
                v[j, :, width - len(path):] = values[r][:, idx]
            cache.update(k, v, layer)
        attn = torch.zeros((len(members), width), dtype=torch.long)
        for j, n in enumerate(lengths):
            attn[j, width - n:] = 1
        position = torch.tensor(lengths)[:, None]
        for _ in range(max_new - 1):
            attn = torch.cat([attn, torch.ones((len(members), 1), dtype=torch.long)], dim=1)
            step = torch.tensor([t[-1] for t in tokens])[:, None]
            with torch.inference_mode():
                logits = self._model(input_ids=step.to(device), past_key_values=cache, attention_mask=attn.to(device),
                                     position_ids=position.to(device), use_cache=True).logits[:, -1]
            self.forward_tokens += len(members)
            position = position + 1
            best = logits.argmax(dim=-1).tolist()
            for j, t in enumerate(best):
                if not done[j]:
                    tokens[j].append(int(t))
                    done[j] = t in stops
            if all(done):
                break
        return tokens

    def _complete_plain(self, prompts: list[Prompt], encoded: list[list[int]]) -> list[Completion]:
        """Reference path: left-padded batches through transformers ``generate``."""
        import torch

        tok, model = self._tok, self._model
        device = self.config["device"]
        pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
        stops = self._stop_ids()
        out: list[Completion | None] = [None] * len(prompts)
        order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
        for start, stop in budget_batches([len(encoded[i]) for i in order], self.config["max_batch_tokens"]):
            chunk = order[start:stop]
            width = max(len(encoded[i]) for i in chunk)
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            attn = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, i in enumerate(chunk):  # left padding for generation
                ids[row, width - len(encoded[i]):] = torch.tensor(encoded[i])
                attn[row, width - len(encoded[i]):] = 1
            max_new = max(prompts[i].max_tokens for i in chunk)
            with torch.inference_mode():
                gen = model.generate(input_ids=ids.to(device), attention_mask=attn.to(device), do_sample=False,
                                     max_new_tokens=max_new, output_logits=True, return_dict_in_generate=True,
                                     pad_token_id=pad, eos_token_id=sorted(stops) or None, temperature=None,
                                     top_p=None, top_k=None)
                first = torch.log_softmax(gen.logits[0].float(), dim=-1).cpu()
            self.forward_tokens += int(attn.sum()) + len(chunk) * max_new
            for row, i in enumerate(chunk):
                out[i] = self._completion(prompts[i], first[row], gen.sequences[row, width:].tolist(), stops)
        return [c for c in out if c is not None]

    def close(self) -> None:
        self._model = None
        self._tok = None


def _cache_layers(cache: Any) -> list[tuple[Any, Any]]:
    """(keys, values) per layer, shaped (batch, heads, length, head_dim), across transformers versions."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    if hasattr(cache, "key_cache"):
        return list(zip(cache.key_cache, cache.value_cache))
    return [(k, v) for k, v in cache]


def _close(a: list[list[float]], b: list[list[float]], tol: float = 1e-3) -> bool:
    return all(len(x) == len(y) and all(abs(p - q) <= tol for p, q in zip(x, y)) for x, y in zip(a, b))


def _token_scores(logprobs: list[float], ends: list[int], text: str) -> TokenScores:
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


__all__ = ["HFBackend", "available_threads", "budget_batches", "group_by_prefix"]
