"""What `depthkit grammar check` reports about a valid grammar (pure).

The derivation counts come from the sampler's table (:mod:`depthkit.generation.sampling`), so
this module sits above both packages and is not imported by ``depthkit.grammar`` itself.
"""

from __future__ import annotations

from typing import Any

from ..generation.sampling import DepthTable
from .compile import compile_grammar
from .model import Grammar, is_on


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
    if grammar.pair:
        targets = sorted({str(s) for s in compiled.order if is_on(s.get(grammar.pair.target))})
        pair = {"target": grammar.pair.target, "flip": grammar.pair.flip,
                "values": {str(k): str(v) for k, v in grammar.pair.values}, "marked_nodes": targets}
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
        "agreement_controller": grammar.controller,
        "critical": grammar.critical,
        "ptb_labels": dict(grammar.ptb_labels),
        "includes": list(grammar.includes),
        "max_words_counted": max_words,
        "depths": depths,
    }


def format_facts(facts: dict[str, Any]) -> str:
    """A human-readable summary of :func:`grammar_facts`."""
    lines = [
        f"{facts['name']}: OK ({facts['path']})",
        f"  construction: {facts['construction']}",
        f"  start {facts['start']}; embedding categories: {', '.join(facts['embedding'])}",
        f"  {facts['rules']} phrase rules, {facts['lexical_rules']} lexical rules, {facts['distinct_words']} distinct words, "
        f"{facts['ground_states']} feature-grounded states" + ("; weighted" if facts["weighted"] else ""),
    ]
    if facts["pair"]:
        p = facts["pair"]
        lines.append(f"  minimal pair: flip {p['flip']} ({', '.join(f'{k}->{v}' for k, v in p['values'].items())}) "
                     f"at nodes marked {p['target']}")
    else:
        lines.append("  minimal pair: none (no `pair:`); items will have bad = null")
    if facts["agreement_controller"]:
        lines.append(f"  agreement controller marked {facts['agreement_controller']} (sv_distance and attractors computed)")
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
    return "\n".join(lines)
