"""Prompted tasks vs minimal pairs: items/s on the same items with the embedded SmolLM2, prefix KV cache on and off.

    .venv/bin/python bench/bench_prompted.py [--items 40] [--grammar object-rc] [--threads 1] [--rounds 1]

Generates items from a shipped grammar (depths 0-4), then, with one embedded backend (fp32,
fixed thread count), answers them as ``depthkit eval`` does (one backend call per
``default_batch_size`` requests, no call cache) with

* ``minimal-pair`` (two scored sentences per item),
* ``judgment`` with the hf backend's prefix KV cache (option ``prefix_cache=true``, the default:
  the instructions every prompt starts with are computed once and reused), and
* ``judgment`` without it (``prefix_cache=false``: the prefix tree of each batch),

in alternating rounds, and prints items/s (best round), computed tokens per item, the ratio
judgment / minimal-pair (target >= 0.5) and cached / uncached. It asserts that cached and uncached
give identical verdicts, answers and texts, and choice log-probabilities within a relative 1e-4.
Keep a run under 3 minutes on 2 shared cores (the default does).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings


def make_items(grammar: str, n_items: int, seed: int):
    import depthkit
    from depthkit.schema import Item

    g = depthkit.load_grammar(grammar)
    depths = 5
    items = [Item.from_dict(i.to_dict())
             for i in depthkit.generate(g, depths=f"0-{depths - 1}", per_depth=max(1, n_items // depths), seed=seed)]
    return [i for i in items if i.bad]


def answer(backend, task, items, batch: int) -> tuple[list, float, int]:
    """Responses per item (in order), seconds, computed tokens: the way evaluate() calls the backend."""
    call = backend.score if task.kind == "score" else backend.complete
    per_item = [task.requests(i) for i in items]
    flat = [r for reqs in per_item for r in reqs]
    backend.forward_tokens = 0
    start = time.perf_counter()
    responses = []
    for i in range(0, len(flat), batch):
        responses += call(flat[i:i + batch])
    seconds = time.perf_counter() - start
    out, at = [], 0
    for reqs in per_item:
        out.append(responses[at:at + len(reqs)])
        at += len(reqs)
    return out, seconds, backend.forward_tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=40, help="items (pairs) to answer")
    parser.add_argument("--grammar", default="object-rc", help="shipped grammar to generate them from")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (fixed: comparable rounds)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds")
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    os.environ["HF_HUB_OFFLINE"] = "1"
    from depthkit.backends import get_backend
    from depthkit.tasks import make_task

    items = make_items(args.grammar, args.items, args.seed)
    backend = get_backend("embedded", threads=args.threads)
    backend.load()
    batch = type(backend).default_batch_size
    pair, judgment = make_task("minimal-pair"), make_task("judgment")
    print(f"{len(items)} items from grammar {args.grammar} (depths 0-4), embedded SmolLM2-135M fp32, "
          f"{args.threads} thread(s), {batch} requests per call", flush=True)
    answer(backend, pair, items[:4], batch)  # warm-up (and the decoder's one-time exactness check)
    answer(backend, judgment, items[:4], batch)

    runs = {"minimal-pair": [], "judgment, prefix cache": [], "judgment, no prefix cache": []}
    tokens: dict[str, int] = {}
    results: dict[str, list] = {}
    for r in range(args.rounds):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for name in order:
            task = pair if name == "minimal-pair" else judgment
            backend.config["prefix_cache"] = name != "judgment, no prefix cache"
            responses, seconds, computed = answer(backend, task, items, batch)
            runs[name].append(seconds)
            tokens[name], results[name] = computed, responses
        print(f"  round {r + 1}: " + ", ".join(f"{n} {len(items) / s[-1]:.2f}" for n, s in runs.items()) + " items/s",
              flush=True)
    backend.config["prefix_cache"] = True

    print()
    print(f"{'how':<28}{'items/s':>9}{'computed tok/item':>19}")
    best = {n: min(s) for n, s in runs.items()}
    for name, seconds in best.items():
        print(f"{name:<28}{len(items) / seconds:>9.2f}{tokens[name] / len(items):>19.1f}")
    print()
    ratio = best["minimal-pair"] / best["judgment, prefix cache"]
    print(f"judgment / minimal-pair items/s: {ratio:.2f} with the prefix cache (target >= 0.50), "
          f"{best['minimal-pair'] / best['judgment, no prefix cache']:.2f} without")
    print(f"prefix cache speed-up on judgment: {best['judgment, no prefix cache'] / best['judgment, prefix cache']:.2f}x")

    cached, uncached = results["judgment, prefix cache"], results["judgment, no prefix cache"]
    verdicts_c = [judgment.verdict(i, r)[0] for i, r in zip(items, cached)]
    verdicts_u = [judgment.verdict(i, r)[0] for i, r in zip(items, uncached)]
    worst = 0.0
    same_text = True
    for rc, ru in zip(cached, uncached):
        for a, b in zip(rc, ru):
            same_text &= a.text == b.text
            for c, v in (a.choice_logprobs or {}).items():
                worst = max(worst, abs(v - b.choice_logprobs[c]) / max(abs(v), abs(b.choice_logprobs[c]), 1e-9))
    identical = verdicts_c == verdicts_u and same_text and worst <= 1e-4
    print(f"cached vs uncached: verdicts identical {verdicts_c == verdicts_u} ({len(items)} items), texts identical "
          f"{same_text}, max relative choice log-prob difference {worst:.1e}")
    assert identical, "the prefix cache changed an answer"
    return 0


if __name__ == "__main__":
    sys.exit(main())
