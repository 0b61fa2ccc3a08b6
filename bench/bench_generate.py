"""Generator speed: items/s per exact depth, and the speed-up over rejection sampling.

Run:  .venv/bin/python bench/bench_generate.py [--grammar object-rc] [--seconds 2]
      .venv/bin/python bench/bench_generate.py --part designs [--designs-grammars object-rc,pp-attractors]

Prints, from one run (``--part depth``, ``designs`` or ``all``):
  1. derivations/s and items/s (with pair, regions and metrics) at depths 1..12, and the cost
     per word relative to depth 1 (should stay roughly flat as depth grows);
  2. at depth 6, exact-depth sampling vs naive rejection sampling from the same weighted
     grammar (top-down PCFG draws, kept when depth == 6 and length <= the same bound): both
     draw from the grammar's distribution conditioned on depth and length bound;
  3. ms per item of a whole `depthkit generate` (depths 0-5, checks and all) with the ladder and
     the independent design, with and without controls, on a few shipped grammars, and the frames
     each rejected (ladders must not cost more than 2x per item). Wall time and CPU time: on a
     shared machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nltk import Tree  # noqa: E402

from depthkit.generation import Node, build_item, build_table  # noqa: E402
from depthkit.generation.metrics import embedding_depth  # noqa: E402
from depthkit.grammar import compile_grammar, load_grammar  # noqa: E402


def timed(fn, seconds: float) -> tuple[int, float, int]:
    """Call ``fn`` until ``seconds`` pass; returns (calls, elapsed, words produced)."""
    start = time.perf_counter()
    calls = words = 0
    while True:
        words += fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls, elapsed, words


class RejectionSampler:
    """Top-down sampling from the weighted grammar; a draw longer than ``max_words`` is abandoned."""

    def __init__(self, compiled, max_words: int):
        self.compiled = compiled
        self.max_words = max_words
        self.choices = {}
        for state, grounds in compiled.rules_for.items():
            weights = [g.rule.weight for g in grounds]
            total = sum(weights)
            self.choices[state] = (grounds, [w / total for w in weights])

    def draw(self, rng: random.Random):
        budget = [self.max_words]

        def expand(state):
            grounds, probs = self.choices[state]
            g = rng.choices(grounds, weights=probs)[0]
            kids = []
            for child in g.children:
                if isinstance(child, str):
                    budget[0] -= 1
                    if budget[0] < 0:
                        raise OverflowError
                    kids.append(child)
                else:
                    kids.append(expand(child))
            return Node(g, tuple(kids))

        try:
            return expand(self.compiled.root)
        except (OverflowError, RecursionError):
            return None


def designs(names: list[str], per_depth: int, seed: int) -> None:
    """Part 3: ms/item of a whole generation, ladder vs independent, without and with controls."""
    from depthkit.generation import make_options, run_generation

    print(f"\nwhole generation, depths 0-5, --per-depth {per_depth}, seed {seed} (table build and checks included):")
    print(f"{'grammar':<24} {'design':<12} {'controls':>8} {'items':>6} {'ms/item':>8} {'cpu ms/item':>11} "
          f"{'frames kept/drawn':>18}")
    for name in names:
        grammar = load_grammar(name)
        per: dict[tuple[str, bool], float] = {}
        for controls in (False, True):
            for design in ("ladder", "independent"):
                opts = make_options("0-5", per_depth, seed, controls=controls, design=design)
                w0, c0 = time.perf_counter(), time.process_time()
                gen = run_generation(grammar, opts)
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                n = len(gen.items)
                per[(design, controls)] = cpu / n
                print(f"{name:<24} {design:<12} {'yes' if controls else 'no':>8} {n:>6} {wall / n * 1e3:>8.1f} "
                      f"{cpu / n * 1e3:>11.1f} {gen.tally.kept:>8}/{gen.tally.drawn:<9}", flush=True)
        for controls in (False, True):
            ratio = per[("ladder", controls)] / per[("independent", controls)]
            print(f"{'':<24} ladder / independent CPU per item, controls {'yes' if controls else 'no'}: {ratio:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grammar", default="object-rc")
    ap.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    ap.add_argument("--max-depth", type=int, default=12)
    ap.add_argument("--rejection-depth", type=int, default=6)
    ap.add_argument("--part", choices=("depth", "designs", "all"), default="all")
    ap.add_argument("--designs-grammars", default="object-rc,pp-attractors,sentential-complements",
                    help="shipped grammars for part 3 (comma-separated)")
    ap.add_argument("--per-depth", type=int, default=20, help="items per depth in part 3")
    args = ap.parse_args()

    if args.part != "depth":
        designs(args.designs_grammars.split(","), args.per_depth, seed=3)
        if args.part == "designs":
            return
    grammar = load_grammar(args.grammar)
    compiled = compile_grammar(grammar)
    t0 = time.perf_counter()
    table = build_table(compiled, args.max_depth)
    build = time.perf_counter() - t0
    print(f"grammar {grammar.name}: DP table for depths 0..{args.max_depth}, up to {table.max_words} words, "
          f"built in {build:.2f} s (once per run)")
    print(f"{'depth':>5} {'words':>6} {'derivations/s':>14} {'items/s':>9} {'us/word':>8} {'vs depth 1':>10}")
    base = None
    for depth in range(1, args.max_depth + 1):
        lengths = table.lengths(depth)[:7]
        rng = random.Random(depth)
        n_draw, t_draw, w_draw = timed(lambda: len(table.sample(rng, depth, lengths[rng.randrange(len(lengths))]).words()),
                                       args.seconds / 2)
        rng = random.Random(depth)

        def full_item() -> int:
            node = table.sample(rng, depth, lengths[rng.randrange(len(lengths))])
            build_item(compiled, node, "bench", depth, "test")
            return len(node.words())

        n_item, t_item, w_item = timed(full_item, args.seconds / 2)
        per_word = t_item / w_item * 1e6
        base = base or per_word
        print(f"{depth:>5} {w_item / n_item:>6.1f} {n_draw / t_draw:>14.0f} {n_item / t_item:>9.0f} "
              f"{per_word:>8.1f} {per_word / base:>9.2f}x")

    depth = args.rejection_depth
    bound = table.lengths(depth)[0] + 12
    exact = build_table(compiled, depth, max_words=bound)
    lengths = exact.lengths(depth, max_words=bound)
    mass = [float(exact.counts(depth)[n]) for n in lengths]
    rng = random.Random(0)
    n_dp, t_dp, _ = timed(lambda: len(exact.sample(rng, depth, rng.choices(lengths, weights=mass)[0]).words()),
                          args.seconds)
    dp_rate = n_dp / t_dp

    sampler = RejectionSampler(compiled, bound)
    rng = random.Random(0)
    accepted = draws = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds * 3:
        node = sampler.draw(rng)
        draws += 1
        if node is not None and embedding_depth(Tree.fromstring(node.bracketed()), grammar.embedding) == depth:
            accepted += 1
    elapsed = time.perf_counter() - start
    rej_rate = accepted / elapsed
    print(f"\ndepth {depth}, length <= {bound} words, same weighted grammar and distribution:")
    print(f"  exact-depth sampler : {dp_rate:10.1f} items/s")
    print(f"  rejection sampling  : {rej_rate:10.2f} items/s ({accepted} accepted of {draws} draws, "
          f"acceptance {accepted / max(draws, 1):.2e})")
    if accepted:
        print(f"  speed-up            : {dp_rate / rej_rate:10.0f}x")
    else:
        print(f"  speed-up            : > {dp_rate * elapsed:.0f}x (rejection accepted nothing in {elapsed:.0f} s)")


if __name__ == "__main__":
    main()
