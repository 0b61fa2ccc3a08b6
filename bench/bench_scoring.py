"""Scoring speed: depthkit's hf backend vs minicons, same SmolLM2-135M weights, same pairs, one run.

    .venv/bin/python bench/bench_scoring.py [--pairs 200] [--grammar object-rc] [--threads 1,2] [--rounds 3]

Scores the good and bad member of every minimal pair (generated from a shipped grammar)
with the embedded SmolLM2-135M (fp32, ``<|endoftext|>`` start token) through

* minicons ``IncrementalLMScorer.sequence_score`` (the peer psycholinguists use), and
* depthkit's ``HFBackend.score`` called as ``depthkit eval`` calls it (prefix-shared,
  length-sorted, packed batches), and the whole ``depthkit.evaluation.evaluate`` run
  (cache and judgments included),

at each thread count, in alternating rounds. Reports the best round of each (other processes
only ever slow a round down) and the median of the per-round ratios; sentences/s, whether the
verdicts (sum of log-probs, good > bad) are identical, and tokens/s against the ~700 tokens/s
fp32 ceiling of this CPU class (MODELS.md). Figures on a shared machine are noisy: compare the
columns of one run, not runs with each other.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

CEILING = 700.0  # fp32 tokens/s on 2 threads (MODELS.md: ~191 GFLOP/s / ~0.27 GFLOP per token)


def make_pairs(grammar: str, n_pairs: int, seed: int, design: str | None = None):
    import depthkit
    from depthkit.schema import Item

    g = depthkit.load_grammar(grammar)
    depths = 5
    extra = {"design": design} if design else {}
    items = [Item.from_dict(i.to_dict()) for i in depthkit.generate(g, depths=f"0-{depths - 1}",
                                                                     per_depth=max(1, n_pairs // depths), seed=seed, **extra)]
    return [i for i in items if i.bad]


def sharing_table(backend, requests, per_item: int, batch: int) -> list[tuple[str, float]]:
    """Computed tokens per scored token (start token not scored) when prefixes are shared by nothing,
    within each item's pair, across the items of each backend call (what the hf backend does), and
    across the whole run at once (the bound a cross-call cache could reach). Pure token counting."""
    from depthkit.backends.hf.packing import group_by_prefix

    seqs = [backend.start_ids + backend.encode(r.continuation)[0] for r in requests]
    scored = sum(len(s) - len(backend.start_ids) for s in seqs)

    def computed(groups: list[list[list[int]]], **kw) -> int:
        return sum(len(t.tokens) for g in groups for t in group_by_prefix(g, **kw))

    items = [seqs[i:i + per_item] for i in range(0, len(seqs), per_item)]
    calls = [seqs[i:i + batch] for i in range(0, len(seqs), batch)]
    return [("no sharing", computed([seqs], share=False) / scored),
            ("within each pair (before)", computed(items, max_tokens=10 ** 6) / scored),
            (f"across items of a call of {batch} (hf backend)", computed(calls) / scored),
            ("across the whole run (bound)", computed([seqs], min_shared=1, max_tokens=10 ** 6) / scored)]


def run_minicons(scorer, sentences: list[str], batch: int) -> tuple[list[float], float]:
    out: list[float] = []
    start = time.perf_counter()
    for i in range(0, len(sentences), batch):
        out += scorer.sequence_score(sentences[i:i + batch], bos_token=True, reduction=lambda x: x.sum(0).item())
    return out, time.perf_counter() - start


def run_depthkit(backend, requests, batch: int) -> tuple[list[float], float, int]:
    backend.forward_tokens = 0
    out: list[float] = []
    start = time.perf_counter()
    for i in range(0, len(requests), batch):
        out += [s.total for s in backend.score(requests[i:i + batch])]
    return out, time.perf_counter() - start, backend.forward_tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=200, help="minimal pairs to score (2 sentences each)")
    parser.add_argument("--grammar", default="object-rc", help="shipped grammar to generate them from")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--design", default=None, choices=("ladder", "independent"),
                        help="stimulus design (default: the grammar's); ladders share more prefixes across items")
    parser.add_argument("--threads", default="1,2", help="torch thread counts to compare at")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per thread count")
    parser.add_argument("--minicons-batch", type=int, default=16, help="minicons batch size (MODELS.md: 16 and 64 tie)")
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from minicons import scorer as mc
    from transformers import AutoModelForCausalLM, AutoTokenizer
    import transformers

    from depthkit.backends import get_backend
    from depthkit.backends.embedded import START_TOKEN, ensure_converted
    from depthkit.evaluation import evaluate
    from depthkit.store import write_jsonl
    from depthkit.tasks import minimal_pair_requests

    transformers.logging.set_verbosity_error()
    items = make_pairs(args.grammar, args.pairs, args.seed, args.design)
    requests = [r for item in items for r in minimal_pair_requests(item)]
    sentences = [r.continuation for r in requests]
    path = ensure_converted()

    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(path, bos_token=START_TOKEN, add_bos_token=False)
    scorer = mc.IncrementalLMScorer(model, tokenizer=tok, device="cpu")
    backend = get_backend("embedded", threads=1)
    backend.load()
    batch = type(backend).default_batch_size
    n_tokens = sum(len(tok(s, add_special_tokens=False).input_ids) + 1 for s in sentences)  # + start token
    print(f"{len(items)} pairs = {len(sentences)} sentences from grammar {args.grammar} (depths 0-4), "
          f"{n_tokens} tokens with the start token ({n_tokens / len(sentences):.1f} per sentence); "
          f"SmolLM2-135M fp32, start token {START_TOKEN}", flush=True)

    # warm-up and a correctness check on the MODELS.md reference pair
    ref = ["The doctor that the boys know smiles.", "The doctor that the boys know smile."]
    mc_ref, _ = run_minicons(scorer, ref, 2)
    dk_ref, _, _ = run_depthkit(backend, [type(requests[0])("", s) for s in ref], 2)
    print(f"reference pair: minicons {mc_ref[0]:.3f} / {mc_ref[1]:.3f}, depthkit {dk_ref[0]:.3f} / {dk_ref[1]:.3f} "
          "(MODELS.md: -53.892 / -53.695)", flush=True)
    run_minicons(scorer, sentences[:32], args.minicons_batch)
    run_depthkit(backend, requests[:64], batch)

    rows = []  # (method, threads, best seconds, computed tokens)
    paired: dict[int, float] = {}  # median over rounds of the ratio within a round
    mc_scores = dk_scores = None
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)  # minicons runs with torch's global count
        backend.config["threads"] = threads  # depthkit sets its own for each call
        times: dict[str, list[float]] = {"minicons": [], "depthkit": []}
        computed = 0
        for r in range(args.rounds):  # alternate who goes first: load on a shared machine drifts
            for who in (("minicons", "depthkit") if r % 2 == 0 else ("depthkit", "minicons")):
                if who == "minicons":
                    mc_scores, seconds = run_minicons(scorer, sentences, args.minicons_batch)
                else:
                    dk_scores, seconds, computed = run_depthkit(backend, requests, batch)
                times[who].append(seconds)
            print(f"  threads {threads} round {r + 1}: minicons {len(sentences) / times['minicons'][-1]:5.1f}, "
                  f"depthkit {len(sentences) / times['depthkit'][-1]:5.1f} sentences/s", flush=True)
        # the least disturbed round of each (other processes only ever slow a round down)
        rows.append(("minicons sequence_score", threads, min(times["minicons"]), n_tokens))
        rows.append(("depthkit hf backend", threads, min(times["depthkit"]), computed))
        paired[threads] = statistics.median(m / d for m, d in zip(times["minicons"], times["depthkit"]))

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "items"
        write_jsonl(folder / "items.jsonl", (i.to_dict() for i in items))
        auto = get_backend("embedded")
        auto.load()
        start = time.perf_counter()
        evaluate(folder, auto, ("minimal-pair",), Path(tmp) / "run", progress=False)
        e2e = time.perf_counter() - start
        e2e_threads = auto.threads

    verdict_mc = [mc_scores[i] > mc_scores[i + 1] for i in range(0, len(sentences), 2)]
    verdict_dk = [dk_scores[i] > dk_scores[i + 1] for i in range(0, len(sentences), 2)]
    diff = max(abs(a - b) for a, b in zip(mc_scores, dk_scores))
    print()
    print(f"{'method':<28}{'threads':>8}{'sent/s':>9}{'scored tok/s':>14}{'computed tok/s':>16}{'% of 700':>10}")
    for name, threads, seconds, computed in rows:
        sps = len(sentences) / seconds
        print(f"{name:<28}{threads:>8}{sps:>9.1f}{n_tokens / seconds:>14.0f}{computed / seconds:>16.0f}"
              f"{100 * computed / seconds / CEILING:>9.0f}%")
    print(f"{'depthkit evaluate (e2e)':<28}{'auto:' + str(e2e_threads):>8}{len(sentences) / e2e:>9.1f}{n_tokens / e2e:>14.0f}"
          f"{'':>16}{'':>10}")
    print()
    for threads in sorted({r[1] for r in rows}):
        mc_s = next(r[2] for r in rows if r[1] == threads and r[0].startswith("minicons"))
        dk_s = next(r[2] for r in rows if r[1] == threads and r[0].startswith("depthkit"))
        print(f"ratio depthkit / minicons at {threads} thread(s): {mc_s / dk_s:.2f}x best rounds, "
              f"{paired[threads]:.2f}x median of the per-round ratios")
    best_mc = min(r[2] for r in rows if r[0].startswith("minicons"))
    best_dk = min(r[2] for r in rows if r[0].startswith("depthkit"))
    print(f"ratio best vs best: {best_mc / best_dk:.2f}x (target >= 2x); end-to-end evaluate vs best minicons: "
          f"{best_mc / e2e:.2f}x")
    print(f"verdicts identical: {verdict_mc == verdict_dk} ({sum(a == b for a, b in zip(verdict_mc, verdict_dk))}"
          f"/{len(verdict_mc)} pairs; max |score difference| {diff:.1e} nats; accuracy by sum "
          f"{sum(verdict_dk) / len(verdict_dk):.3f})")
    print("computed tokens per scored token (prefix sharing):")
    for name, ratio in sharing_table(backend, requests, 2, batch):
        print(f"  {name:<44}{ratio:6.3f}")
    print(f"  measured in the timed runs (hf backend)            {computed / (n_tokens - len(sentences)):6.3f}")
    return 0 if verdict_mc == verdict_dk else 1


if __name__ == "__main__":
    sys.exit(main())
