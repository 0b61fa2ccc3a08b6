"""Forward passes of a loaded causal LM: packed prefix trees (fast path) and plain padded rows (reference).

The fast path packs :class:`~.packing.PrefixTree` s side by side into rows with a 4-D attention mask
(a node sees its ancestors and itself) and tree position ids, and runs the output layer only on the
positions whose next token is scored. :meth:`TreeForward.check_fast_paths` compares it with the
plain forward pass on a probe once, so the fast path never changes a score.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from .packing import ROW_TOKENS, PrefixTree, budget_batches, group_by_prefix, pack_rows, row_len


class TreeForward:
    """Log-probabilities from a causal LM, over prefix trees or plain rows.

    ``config`` is the backend's live option dict (``device``, ``dtype``, ``max_batch_tokens`` are
    read at each call); every forward pass runs inside ``timed(tokens)`` (the thread choice and
    its speed measurement). ``forward_tokens`` counts the tokens computed (padding excluded).
    """

    def __init__(self, model: Any, config: dict[str, Any], timed: Callable[[int], AbstractContextManager]):
        self.model = model
        self.config = config
        self.timed = timed
        self.split_head = True  # run the output layer only where needed
        self.tree_ok = True  # the model takes 4-D masks and reproduces the plain pass
        self.forward_tokens = 0

    @property
    def tolerance(self) -> float:
        """How far a fast path may differ from the plain one (half precision wobbles with batch shape)."""
        return 1e-3 if self.config["dtype"] == "float32" else 0.5

    def check_fast_paths(self, probe: list[list[int]]) -> None:
        """Use the tree mask and the split output layer only where they reproduce the plain forward pass."""
        plain = self.plain_logprobs(probe, split_head=False)
        try:
            self.split_head = close(plain, self.plain_logprobs(probe, split_head=True), self.tolerance)
        except Exception:  # a model without the usual base_model / lm_head layout
            self.split_head = False
        try:
            self.tree_ok = close(plain, self.tree_logprobs(group_by_prefix(probe, min_shared=1), probe), self.tolerance)
        except Exception:  # e.g. an attention implementation that rejects 4-D masks
            self.tree_ok = False
        self.forward_tokens = 0

    def head(self, hidden: Any) -> Any:
        """Log-softmax of the output layer over hidden states (with the model's logit soft-capping)."""
        import torch

        logits = self.model.get_output_embeddings()(hidden).float()
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return torch.log_softmax(logits, dim=-1)

    def row_batches(self, rows: list[list[PrefixTree]]) -> Iterator[list[list[PrefixTree]]]:
        """Consecutive rows (sorted by length) in groups of at most ``max_batch_tokens`` padded tokens."""
        for start, stop in budget_batches([row_len(r) for r in rows], self.config["max_batch_tokens"]):
            yield rows[start:stop]

    def layout(self, batch: list[list[PrefixTree]]) -> tuple[Any, Any, Any, list[list[int]]]:
        """Input ids, tree positions and the additive 4-D mask of a batch of packed rows, and each
        tree's offset in its row. A node sees its ancestors and itself; padding sees only itself."""
        import numpy as np
        import torch

        width = max(row_len(r) for r in batch)
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
        dtype = self.model.dtype
        mask = torch.zeros(allowed.shape, dtype=dtype)
        mask.masked_fill_(torch.from_numpy(~allowed), torch.finfo(dtype).min)
        return ids, pos, mask[:, None], offsets

    def inputs(self, ids: Any, pos: Any, mask: Any) -> dict[str, Any]:
        import torch

        device = self.config["device"]
        return dict(input_ids=torch.from_numpy(ids).to(device), position_ids=torch.from_numpy(pos).to(device),
                    attention_mask=mask.to(device))

    def logsoftmax_at(self, inputs: dict[str, Any], flat_positions: Any, **kw: Any) -> tuple[Any, Any]:
        """Log-softmax of the next-token distribution at the given flattened (row * width + col) positions,
        and the key/value cache when ``use_cache=True`` is passed."""
        import torch

        device = self.config["device"]
        if self.split_head:  # the output layer only where it is needed
            out = self.model.base_model(**inputs, **kw)
            hidden = out.last_hidden_state
            logsm = self.head(hidden.reshape(-1, hidden.shape[-1])[flat_positions.to(device)])
        else:
            out = self.model(**inputs, **kw)
            logits = out.logits.float()
            logsm = torch.log_softmax(logits.reshape(-1, logits.shape[-1])[flat_positions.to(device)], dim=-1)
        return logsm, getattr(out, "past_key_values", None)

    def tree_logprobs(self, trees: list[PrefixTree], seqs: list[list[int]]) -> list[list[float]]:
        """Log-probability of every token of every sequence (0.0 for a first token without context).

        Trees are packed side by side into rows of about ``ROW_TOKENS`` tokens (a block-diagonal
        mask keeps them apart), and rows are batched up to ``max_batch_tokens``: almost no padding.
        """
        import numpy as np
        import torch

        device = self.config["device"]
        out: list[list[float]] = [[] for _ in seqs]
        for batch in self.row_batches(pack_rows(trees, ROW_TOKENS)):
            ids, pos, mask, offsets = self.layout(batch)
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
                with torch.inference_mode(), self.timed(ids.size):
                    flat_parent = torch.tensor(scored_rows) * width + torch.tensor(parents)
                    unique, inverse = torch.unique(flat_parent, return_inverse=True)
                    targets = torch.from_numpy(ids[scored_rows, children])
                    logsm, _ = self.logsoftmax_at(self.inputs(ids, pos, mask), unique)
                    node_lp[scored_rows, children] = logsm[inverse.to(device), targets.to(device)].double().cpu().numpy()
            self.forward_tokens += sum(row_len(r) for r in batch)
            for r, row in enumerate(batch):
                for tree, offset in zip(row, offsets[r]):
                    for index, path in tree.paths.items():
                        out[index] = node_lp[r, [offset + k for k in path]].tolist()
        return out

    def plain_logprobs(self, seqs: list[list[int]], split_head: bool) -> list[list[float]]:
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
            with torch.inference_mode(), self.timed(ids.numel()):
                if split_head:
                    hidden = self.model.base_model(input_ids=ids.to(device),
                                                   attention_mask=attn.to(device)).last_hidden_state
                    logsm = self.head(hidden[:, :-1])
                else:
                    logits = self.model(input_ids=ids.to(device), attention_mask=attn.to(device)).logits.float()
                    logsm = torch.log_softmax(logits[:, :-1], dim=-1)
                lp = logsm.gather(-1, ids[:, 1:, None].to(device))[..., 0].double().cpu()
            self.forward_tokens += int(attn.sum())
            for row, i in enumerate(chunk):
                out[i] = [0.0] + lp[row, :len(seqs[i]) - 1].tolist() if seqs[i] else []
        return out


def close(a: list[list[float]], b: list[list[float]], tol: float = 1e-3) -> bool:
    return all(len(x) == len(y) and all(abs(p - q) <= tol for p, q in zip(x, y)) for x, y in zip(a, b))


__all__ = ["TreeForward", "close"]
