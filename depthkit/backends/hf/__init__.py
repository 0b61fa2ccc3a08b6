"""The ``hf`` backend: a transformers causal LM, exact fp32 by default and fast on a CPU.

* every input is ``START + context + continuation`` (START configurable, see ``start_token``);
* requests that share a token prefix (the two members of a minimal pair, repeated sentences)
  are packed into one *prefix tree*: the shared tokens are computed once and each branch
  attends only to its own ancestors (a 4-D attention mask with tree position ids), so a
  pair costs about one sentence plus the differing tail instead of two sentences
  (:mod:`.packing`, :mod:`.forward`);
* trees are packed side by side into rows of ~128 tokens (block-diagonal mask) and rows are
  batched up to ``max_batch_tokens``, so there is almost no padding;
* the output layer runs only on positions whose next token is scored;
* prompts share their instructions the same way and decode from their slice of the tree's
  key/value cache (:mod:`.decode`);
* the CPU thread count is measured, not assumed (:mod:`.threads`), unless ``threads`` is set.

A model that does not take 4-D masks falls back to plain padded batches (checked once at
load time on a probe, so the fast path never changes a score). The backend itself (options,
loading, the contract) is :mod:`.backend`.
"""

from __future__ import annotations

from .backend import HFBackend, missing_torch

__all__ = ["HFBackend", "missing_torch"]
