"""What `depthkit grammar check` reports about a valid grammar (pure).

The derivation counts come from the sampler's table (:mod:`depthkit.generation.sampling`), so
this module sits above both packages and is not imported by ``depthkit.grammar`` itself.
"""

from __future__ import annotations

from typing import Any

from ..generation.sampling import DepthTable
from .compile import compile_grammar
from .model import Grammar, format_value, is_on

LINT_FRAMES = 20  # frames drawn per depth by the stimulus check


def grammar_facts(grammar: Grammar, max_depth: int = 8, max_words: int = 30) -> dict[str, Any]:
    """Sizes, reachable depths, and uniform derivation counts per depth and length."""
    compiled = compile_grammar(grammar)
    table = DepthTable(compiled, max_depth, max_words, weighted=False)
    depths = []
    for d in range(max_depth + 1):
        row = table.counts(d)
        lengths = [n for n in range(1, max_words + 1) if row[n] > 0]
        depths.append({
            "depth": d,
            "reachable": bool(lengths),
            "min_words": lengths[0] if lengths else None,
            "derivations_by_length": {str(n): float(row[n]) for n in lengths},
            "derivations_total": float(row.sum()),
        })
    lexical = [r for r in grammar.rules if r.is_lexical]
    words = {w for r in lexical for w in r.rhs}
    pair = None
    pairs = []
    for p in grammar.pair_types:
        targets = sorted({str(s) for s in compiled.order if is_on(s.get(p.target))})
        pairs.append({"type": p.type, "target": p.target, "flip": p.flip, "changes_length": p.changes_length,
                      "values": {format_value(k): format_value(v) for k, v in p.values}, "marked_nodes": targets})
    pair = pairs[0] if pairs else None
    return {
        "name": grammar.name,
        "path": grammar.path,
        "construction": grammar.construction,
        "sha256": grammar.sha256,
        "start": grammar.start,
        "embedding": sorted(grammar.embedding),
        "productive": True,  # load_grammar raised otherwise
        "rules": len(grammar.rules) - len(lexical),
        "lexical_rules": len(lexical),
        "distinct_words": len(words),
        "categories": sorted(grammar.categories),
        "ground_states": len(compiled.order),
        "weighted": any(r.weight != 1.0 for r in grammar.rules),
        "pair": pair,
        "pairs": pairs,
        "agreement_controller": grammar.controller,
        "critical": grammar.critical if grammar.critical != "marker" else f"marker {grammar.critical_marker}",
        "design": {"sets": grammar.design.sets, "controller": [format_value(v) for v in grammar.design.controller],
                   "attractors": list(grammar.design.attractors)},
        "may_repeat": sorted(grammar.may_repeat),
        "ptb_labels": dict(grammar.ptb_labels),
        "includes": list(grammar.includes),
        "max_words_counted": max_words,
        "depths": depths,
    }


def stimulus_check(grammar: Grammar, depths: list[int], frames: int = LINT_FRAMES, seed: int = 0) -> dict[str, Any]:
    """Draw ``frames`` frames per depth as `depthkit generate` would and count what its checks reject.

    Per depth: frames drawn and kept, and per reason (another reading at another depth, a bad member the
    grammar accepts, a repeated word, no ladder step, a condition the grammar forbids) the count, the rate
    and one example sentence. The ``ladder`` entry says how many frames at the deepest depth gave a
    complete ladder (every rung, every condition).
    """
    from ..generation.items import Options, _window
    from ..generation.sampling import build_table
    from ..generation.sets import SetMaker, SetPlan, Tally

    compiled = compile_grammar(grammar)
    table = build_table(compiled, max(depths))
    maker = SetMaker(compiled, table)
    opts = Options(depths=tuple(depths))
    lengths = {d: _window(table, d, opts) for d in depths}
    out: dict[str, Any] = {"frames_per_depth": frames, "depths": []}
    for d in depths:
        tally = Tally()
        maker.make(SetPlan("independent", (d,), frames, seed, lengths), tally)
        rejected = tally.rejected.get(d, {})
        out["depths"].append({
            "depth": d, "drawn": tally.drawn, "kept": tally.kept,
            "rejected": {r: {"count": c, "rate": round(c / tally.drawn, 3) if tally.drawn else None,
                             "example": tally.examples.get((d, r))} for r, c in sorted(rejected.items())},
        })
    if len(depths) > 1:
        tally = Tally()
        maker.make(SetPlan("ladder", tuple(depths), frames, seed, lengths), tally)
        out["ladder"] = {"drawn": tally.drawn, "kept": tally.kept, "rejected": tally.to_record()}
    return out


def format_stimulus_check(check: dict[str, Any]) -> str:
    """:func:`stimulus_check` as lines a linguist reads."""
    lines = [f"  stimulus check ({check['frames_per_depth']} frames per depth, drawn as `depthkit generate` does):"]
    for d in check["depths"]:
        share = f"{d['kept']}/{d['drawn']} kept" if d["drawn"] else "nothing drawn"
        lines.append(f"    depth {d['depth']}: {share}")
        for reason, r in d["rejected"].items():
            lines.append(f"      {reason}: {r['count']} ({r['rate']:.0%}), e.g. \"{r['example']}\"")
    if "ladder" in check:
        lad = check["ladder"]
        lines.append(f"    ladders over all these depths: {lad['kept']}/{lad['drawn']} frames gave a complete ladder")
    return "\n".join(lines)


def format_facts(facts: dict[str, Any]) -> str:
    """A human-readable summary of :func:`grammar_facts`."""
    lines = [
        f"{facts['name']}: OK ({facts['path']})",
        f"  construction: {facts['construction']}",
        f"  start {facts['start']}; embedding categories: {', '.join(facts['embedding'])}",
        f"  {facts['rules']} phrase rules, {facts['lexical_rules']} lexical rules, {facts['distinct_words']} distinct words, "
        f"{facts['ground_states']} feature-grounded states" + ("; weighted" if facts["weighted"] else ""),
    ]
    for p in facts["pairs"]:
        lines.append(f"  minimal pair '{p['type']}': flip {p['flip']} "
                     f"({', '.join(f'{k}->{v}' for k, v in p['values'].items())}) at nodes marked {p['target']}"
                     + (" (may change length)" if p["changes_length"] else ""))
    if not facts["pairs"]:
        lines.append("  minimal pair: none (no `pair:`); items will have bad = null")
    if facts["agreement_controller"]:
        lines.append(f"  agreement controller marked {facts['agreement_controller']} (sv_distance and attractors computed)")
    design = facts["design"]
    lines.append(f"  design: {design['sets']} sets; controller values "
                 f"{', '.join(design['controller']) or 'all the pair flips'}; attractors {', '.join(design['attractors'])}")
    reach = [d["depth"] for d in facts["depths"] if d["reachable"]]
    lines.append(f"  reachable depths within {facts['max_words_counted']} words: "
                 f"{', '.join(map(str, reach)) or 'none'}")
    lines.append("  depth  min_words  derivations: all lengths | by length (words=count), shortest first")
    for d in facts["depths"]:
        if d["reachable"]:
            by_length = "  ".join(f"{n}={c:.3g}" for n, c in list(d["derivations_by_length"].items())[:6])
            more = " …" if len(d["derivations_by_length"]) > 6 else ""
            lines.append(f"  {d['depth']:>5}  {d['min_words']:>9}  {d['derivations_total']:>10.3g} | {by_length}{more}")
        else:
            lines.append(f"  {d['depth']:>5}  {'-':>9}  unreachable within the word limit")
    lines.append("  (uniform counts: every derivation counted once, rule weights ignored; --json for all lengths)")
    if facts.get("stimulus_check"):
        lines.append(format_stimulus_check(facts["stimulus_check"]))
    return "\n".join(lines)
