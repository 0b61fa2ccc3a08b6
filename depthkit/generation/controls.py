"""Matched controls: a depth-0 item as close as the grammar allows to a test item.

Closest means: the same word count (else the nearest reachable one), then the same
subject-verb distance, then the same number of attractors. Candidates are drawn from the
exact-depth sampler with an RNG seeded by the item id, so a control does not depend on the
other items of the run.
"""

from __future__ import annotations

import random

from ..errors import UsageError
from ..schema import Item
from .builder import agreement, build_item, target_start
from .derivation import Node
from .sampling import DepthTable

CONTROL_CANDIDATES = 400  # most candidates drawn for one control
CONTROL_PATIENCE = 80  # stop after this many draws without a better match


def matched_control(table: DepthTable, item: Item, seed: int) -> Item:
    """A depth-0 item matched to ``item`` in word count and (for agreement) subject-verb distance.

    Its ``match`` records the differences left (control minus item) in ``n_words`` and, for
    agreement grammars, ``sv_distance`` and ``attractors``.
    """
    grammar = table.compiled.grammar
    rng = random.Random(f"{seed}/{grammar.name}/control/{item.id}")
    n = item.metrics["n_words"]
    lengths = table.lengths(0)
    if not lengths:
        raise UsageError(f"grammar '{grammar.name}' has no depth-0 sentences for controls", path=grammar.path,
                         fix="controls need depth-0 sentences; drop --controls for this grammar")
    length = min(lengths, key=lambda m: (abs(m - n), m))
    want_sv = item.metrics.get("sv_distance")
    want_attractors = item.metrics.get("attractors", 0)
    # Rank candidates by |subject-verb distance difference|, then |attractor difference|;
    # ties go to the first drawn. Only the winner is turned into a full item.
    best: tuple[tuple[int, int], Node] | None = None
    since_better = 0
    for _ in range(CONTROL_CANDIDATES):
        node = table.sample(rng, 0, length)
        score = (0, 0)
        if want_sv is not None:
            facts = agreement(grammar, node, target_start(grammar, node))
            sv, attractors = (facts.sv_distance, facts.attractors) if facts is not None else (0, 0)
            score = (abs(sv - want_sv), abs(attractors - want_attractors))
        since_better += 1
        if best is None or score < best[0]:
            best, since_better = (score, node), 0
        if score == (0, 0) or since_better >= CONTROL_PATIENCE:
            break
    assert best is not None
    control = build_item(table.compiled, best[1], f"{item.id}/control", 0, "control", item.id)
    match = {"n_words": control.metrics["n_words"] - n}
    if want_sv is not None:
        match["sv_distance"] = control.metrics.get("sv_distance", 0) - want_sv
        match["attractors"] = control.metrics.get("attractors", 0) - want_attractors
    return control.model_copy(update={"match": match})


__all__ = ["CONTROL_CANDIDATES", "CONTROL_PATIENCE", "matched_control"]
