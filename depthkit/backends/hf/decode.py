"""Greedy answers to prompts, with the log-probability of each choice's first token as the first answer token.

The instructions prompts share are computed once and kept (:mod:`.prefix`, option ``prefix_cache``);
the rest of the prompts sharing a prefix are computed as prefix trees after it, and each prompt
then decodes from its own slice of the key/value cache. The first call checks each fast path against
plain ``generate`` on its first prompts; a path that differs is not used again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..base import Completion, Prompt
from .forward import TreeForward
from .packing import PROMPT_TREE_TOKENS, ROW_TOKENS, budget_batches, group_by_prefix, pack_rows, row_len
from .prefix import Prefix, PrefixCache, split_by_prefix

DECODE_ROWS = 64  # answers decoded together (each step reads every weight: more rows per step is cheaper)
STOP_TOKENS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|endoftext|>")


class PromptDecoder:
    """Answers prompts (already token ids) with a loaded model: tree path when it is exact, else ``generate``."""

    def __init__(self, forward: TreeForward, tokenizer: Any, encode: Callable[[str], tuple[list[int], list[int]]]):
        self.forward = forward
        self.tok = tokenizer
        self.encode = encode
        self.exact: dict[bool, bool] = {}  # fast path (with the prefix cache or not) -> exact here; decided once
        self.prefixes = PrefixCache(self.compute_prefix)

    def complete(self, prompts: list[Prompt], encoded: list[list[int]]) -> list[Completion]:
        """Answers by the fastest path shown exact on this model: prefix cache, else prefix tree, else ``generate``."""
        if not prompts:
            return []
        cached = bool(self.forward.config.get("prefix_cache", True))
        if self.forward.tree_ok:
            for mode in ((True, False) if cached else (False,)):
                if mode not in self.exact:
                    self.exact[mode] = self.check(prompts, encoded, mode)
                if self.exact[mode]:
                    return self.complete_fast(prompts, encoded, mode)
        return self.complete_plain(prompts, encoded)

    @property
    def tree_ok(self) -> bool | None:
        """Whether the tree path (without the prefix cache) was shown exact (None: not checked yet)."""
        return self.exact.get(False, self.exact.get(True))

    def check(self, prompts: list[Prompt], encoded: list[list[int]], cached: bool) -> bool:
        """The fast path gives plain ``generate``'s texts and choice log-probabilities on the first prompts."""
        k = min(2, len(prompts))
        try:
            fast = self.complete_fast(prompts[:k], encoded[:k], cached)
            plain = self.complete_plain(prompts[:k], encoded[:k])
        except Exception:  # a model or cache layout the fast paths do not handle
            self.prefixes.clear()
            return False
        tol = self.forward.tolerance
        return all(a.text == b.text and (a.choice_logprobs or {}).keys() == (b.choice_logprobs or {}).keys()
                   and all(abs(a.choice_logprobs[c] - b.choice_logprobs[c]) <= tol for c in a.choice_logprobs or {})
                   for a, b in zip(fast, plain))

    def complete_fast(self, prompts: list[Prompt], encoded: list[list[int]], cached: bool) -> list[Completion]:
        """Prefix trees; with ``cached``, the prefix each group of prompts shares comes from the prefix cache."""
        if not cached:
            return self.complete_tree(prompts, encoded)
        out: list[Completion | None] = [None] * len(prompts)
        for tokens, group in split_by_prefix(encoded, self.prefixes.known):
            prefix = self.prefixes.get(tokens) if tokens else None
            for i, answer in zip(group, self.complete_tree([prompts[i] for i in group], [encoded[i] for i in group],
                                                           prefix)):
                out[i] = answer
        return [c for c in out if c is not None]

    def compute_prefix(self, tokens: tuple[int, ...]) -> list[tuple[Any, Any]]:
        """Keys and values of a prefix (batch 1, the model's own causal mask)."""
        import torch

        fwd = self.forward
        ids = torch.tensor([list(tokens)], device=fwd.config["device"])
        with torch.inference_mode(), fwd.timed(len(tokens)):
            out = fwd.model.base_model(input_ids=ids, use_cache=True)
        fwd.forward_tokens += len(tokens)
        return [(k.clone(), v.clone()) for k, v in cache_layers(out.past_key_values)]

    def choice_tokens(self, choice: str) -> list[int]:
        """The token ids of an answer choice exactly as written (P(answer): depthkit.backends.answers)."""
        return list(self.encode(choice)[0])

    def stop_ids(self) -> set[int]:
        tok, model = self.tok, self.forward.model
        ids = model.generation_config.eos_token_id
        stops = {i for i in ([ids] if not isinstance(ids, list) else ids) + [tok.eos_token_id] if i is not None}
        vocab = tok.get_vocab()
        for special in STOP_TOKENS:
            if special in vocab:
                stops.add(vocab[special])
        return stops

    def completion(self, prompt: Prompt, first_logsm: Any, new_tokens: list[int], stops: set[int]) -> Completion:
        import torch

        new_tokens = new_tokens[:prompt.max_tokens]
        cut = next((k for k, t in enumerate(new_tokens) if t in stops), len(new_tokens))
        text = self.tok.decode(new_tokens[:cut], skip_special_tokens=True).strip()
        choice_lp = None
        if prompt.choices:  # first tokens here; later tokens of longer choices: HFBackend.complete adds them
            choice_lp = {c: float(first_logsm[self.choice_tokens(c)[0]]) if self.choice_tokens(c) else 0.0
                         for c in prompt.choices}
        return Completion(text, choice_lp)

    def complete_tree(self, prompts: list[Prompt], encoded: list[list[int]],
                      prefix: Prefix | None = None) -> list[Completion]:
        """Prompts as prefix trees packed in rows; after a cached ``prefix`` (which every prompt starts with),
        only the rest of each prompt is computed, attending to the prefix's keys and values. Answers that
        go on after their first token are decoded together, up to ``DECODE_ROWS`` at a time across
        batches (a decoding step reads all the weights whatever the number of rows)."""
        import torch

        fwd = self.forward
        stops = self.stop_ids()
        out: list[Completion | None] = [None] * len(prompts)
        pending = _Pending()
        n = len(prefix.tokens) if prefix else 0
        before = list(range(n))  # the prefix's positions in each row's cache
        width = ROW_TOKENS if prefix else PROMPT_TREE_TOKENS  # no long instructions inside the trees: small rows
        trees = group_by_prefix([e[n:] for e in encoded], max_tokens=width)
        for batch in fwd.row_batches(pack_rows(trees, width)):
            ids, pos, mask, offsets = fwd.layout(batch)
            cols = ids.shape[1]
            extra: dict[str, Any] = {}
            if prefix:  # every node also sees the whole prefix
                pos = pos + n
                mask = torch.cat([mask.new_zeros((*mask.shape[:-1], n)), mask], dim=-1)
                extra["past_key_values"] = prefix.past(len(batch))
            members = [(index, r, [offset + k for k in path]) for r, row in enumerate(batch)
                       for tree, offset in zip(row, offsets[r]) for index, path in tree.paths.items()]
            leaves = torch.tensor([r * cols + path[-1] for _, r, path in members])
            with torch.inference_mode(), fwd.timed(ids.size):
                first, cache = fwd.logsoftmax_at(fwd.inputs(ids, pos, mask), leaves, use_cache=True, **extra)
            first = first.float().cpu()
            fwd.forward_tokens += sum(row_len(r) for r in batch)
            going = []
            for j, (index, r, path) in enumerate(members):
                token = int(first[j].argmax())
                if token in stops or prompts[index].max_tokens <= 1:
                    out[index] = self.completion(prompts[index], first[j], [token], stops)
                else:
                    going.append((index, r, before + [n + k for k in path], first[j], token))
            if going:
                pending.add(going, cache_layers(cache), self.forward.config["device"])
            if len(pending.entries) >= DECODE_ROWS:
                self.flush(pending, prompts, out, stops)
        self.flush(pending, prompts, out, stops)
        return [c for c in out if c is not None]

    def flush(self, pending: "_Pending", prompts: list[Prompt], out: list[Completion | None], stops: set[int]) -> None:
        """Decode every pending answer together and fill in their completions."""
        if not pending.entries:
            return
        max_new = max(prompts[index].max_tokens for index, _, _ in pending.entries)
        kv, lengths = pending.take()
        tokens = self.greedy(kv, lengths, [[token] for _, _, token in pending.entries], max_new, stops)
        for (index, first, _), new in zip(pending.entries, tokens):
            out[index] = self.completion(prompts[index], first, new, stops)
        pending.entries.clear()

    def greedy(self, kv: list[tuple[Any, Any]], lengths: list[int], tokens: list[list[int]], max_new: int,
               stops: set[int]) -> list[list[int]]:
        """Greedy decoding from each prompt's own keys/values (left-padded to a common width, per layer),
        after its first answer token; an answer that reaches a stop token leaves the batch."""
        import torch
        from transformers import DynamicCache

        fwd = self.forward
        device = fwd.config["device"]
        width = kv[0][0].shape[2]
        attn = torch.zeros((len(lengths), width), dtype=torch.long)
        for a, n in enumerate(lengths):
            attn[a, width - n:] = 1
        position = torch.tensor(lengths)[:, None]
        active = list(range(len(lengths)))
        for _ in range(max_new - 1):
            cache = DynamicCache()
            for layer, (k, v) in enumerate(kv):
                cache.update(k, v, layer)
            attn = torch.cat([attn, torch.ones((len(active), 1), dtype=torch.long)], dim=1)
            step = torch.tensor([tokens[j][-1] for j in active])[:, None]
            with torch.inference_mode():
                out = fwd.model(input_ids=step.to(device), past_key_values=cache, attention_mask=attn.to(device),
                                position_ids=position.to(device), use_cache=True)
            fwd.forward_tokens += len(active)
            keep = []
            for a, (j, t) in enumerate(zip(active, out.logits[:, -1].argmax(dim=-1).tolist())):
                tokens[j].append(int(t))
                if t not in stops:
                    keep.append(a)
            if not keep:
                break
            kv = cache_layers(out.past_key_values)
            if len(keep) < len(active):  # finished answers leave the batch
                sel = torch.tensor(keep)
                kv = [(k[sel.to(k.device)], v[sel.to(v.device)]) for k, v in kv]
                attn, position = attn[sel], position[sel]
                active = [active[a] for a in keep]
            position = position + 1
        return tokens

    def complete_plain(self, prompts: Sequence[Prompt], encoded: list[list[int]]) -> list[Completion]:
        """Reference path: left-padded batches through transformers ``generate``."""
        import torch

        tok, model, fwd = self.tok, self.forward.model, self.forward
        device = fwd.config["device"]
        pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
        stops = self.stop_ids()
        out: list[Completion | None] = [None] * len(prompts)
        order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
        for start, stop in budget_batches([len(encoded[i]) for i in order], fwd.config["max_batch_tokens"]):
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
            fwd.forward_tokens += int(attn.sum()) + len(chunk) * max_new
            for row, i in enumerate(chunk):
                out[i] = self.completion(prompts[i], first[row], gen.sequences[row, width:].tolist(), stops)
        return [c for c in out if c is not None]


class _Pending:
    """Answers waiting to be decoded: (prompt index, first-token log-softmax, first token) and, per layer,
    their keys/values gathered from the tree pass (left-padded chunks, one per forward batch)."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, Any, int]] = []
        self.chunks: list[tuple[list[tuple[Any, Any]], list[int]]] = []

    def add(self, going: list[tuple[int, int, list[int], Any, int]], layers: list[tuple[Any, Any]], device: str) -> None:
        import torch

        lengths = [len(path) for _, _, path, _, _ in going]
        width = max(lengths)
        rows = torch.tensor([r for _, r, _, _, _ in going], device=device)
        where = torch.zeros((len(going), width), dtype=torch.long)
        for a, (_, _, path, _, _) in enumerate(going):
            where[a, width - len(path):] = torch.tensor(path)  # padding gathers position 0: masked out
        where = where.to(device)
        kv = [(k[rows[:, None], :, where].transpose(1, 2), v[rows[:, None], :, where].transpose(1, 2))
              for k, v in layers]
        self.chunks.append((kv, lengths))
        self.entries += [(index, first, token) for index, _, _, first, token in going]

    def take(self) -> tuple[list[tuple[Any, Any]], list[int]]:
        """Keys/values per layer of every pending answer, left-padded to one width, and their lengths."""
        import torch
        import torch.nn.functional as F

        width = max(max(lengths) for _, lengths in self.chunks)
        layers = []
        for layer in range(len(self.chunks[0][0])):
            ks = [F.pad(kv[layer][0], (0, 0, width - kv[layer][0].shape[2], 0)) for kv, _ in self.chunks]
            vs = [F.pad(kv[layer][1], (0, 0, width - kv[layer][1].shape[2], 0)) for kv, _ in self.chunks]
            layers.append((torch.cat(ks), torch.cat(vs)))
        lengths = [n for _, chunk in self.chunks for n in chunk]
        self.chunks.clear()
        return layers, lengths


def cache_layers(cache: Any) -> list[tuple[Any, Any]]:
    """(keys, values) per layer, shaped (batch, heads, length, head_dim), across transformers versions."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    if hasattr(cache, "key_cache"):
        return list(zip(cache.key_cache, cache.value_cache))
    return [(k, v) for k, v in cache]


__all__ = ["DECODE_ROWS", "PromptDecoder", "cache_layers"]
