"""From a derivation to an item: sentence, bad twin, tree, regions, pair facts and metrics.

:func:`build_item` turns one sampled :class:`~.derivation.Node` into a
:class:`depthkit.schema.Item` (the items.jsonl record). Pure: the same node gives the same item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..grammar.compile import CompiledGrammar
from ..grammar.model import Grammar, PairSpec
from ..schema import Item, MemberSpans, PairFacts, Regions
from .derivation import Node, marked_spans, spans
from .metrics import tree_metrics
from .pairs import Fill, make_bad


@dataclass(frozen=True)
class Agreement:
    """Subject-verb facts of one derivation: the controller's word span, its distance to the target, attractors."""

    controller: tuple[int, int]
    sv_distance: int
    attractors: int


def build_item(compiled: CompiledGrammar, node: Node, item_id: str, depth: int, kind: str,
               control_of: str | None = None, *, pair: PairSpec | None = None, set_id: str | None = None,
               condition: dict[str, Any] | None = None, fill: Fill | None = None) -> Item:
    """The item for ``node``, sampled at exact embedding ``depth`` (``kind`` is "test" or "control").

    ``pair`` is the pair type to make (default: the grammar's first); ``fill`` draws new material for
    a length-changing pair; ``set_id`` and ``condition`` are recorded as given.
    """
    from nltk import Tree  # nltk is slow to import; only building items needs it

    grammar = compiled.grammar
    pair = pair or grammar.pair
    words = node.words()
    tree_text = node.bracketed()
    metrics = tree_metrics(Tree.fromstring(tree_text), grammar.embedding, grammar.clauses)
    if metrics["embedding_depth"] != depth:  # the sampler's guarantee; a failure here is a depthkit bug
        raise AssertionError(f"sampled depth {metrics['embedding_depth']} != requested {depth}: {tree_text}")
    bad_words = None
    regions = Regions()
    pair_facts = None
    if pair is not None:
        bad_node, targets = make_bad(compiled, node, pair, fill)
        bad_words = bad_node.words()
        bad_spans = [(s, e) for _, s, e in marked_spans(bad_node, pair.target)]
        tg, tb = _cover([(s, e) for _, s, e in targets]), _cover(bad_spans)
        target = MemberSpans(good=tg, bad=tb)
        if grammar.critical == "target-to-end":
            critical = MemberSpans(good=[tg[0], len(words)], bad=[tb[0], len(bad_words)])
        elif grammar.critical == "marker":
            critical = _marker_region(grammar, node, bad_node) or target
        else:
            critical = target
        good_value = targets[0][0].ground.node.get(pair.flip)
        pair_facts = PairFacts(feature=pair.flip, good_value=good_value, bad_value=dict(pair.values).get(good_value),
                               type=pair.type)
        facts = agreement(grammar, node, tg[0], pair) if grammar.controller else None
        if facts is not None:
            metrics.update(sv_distance=facts.sv_distance, attractors=facts.attractors)
        regions = Regions(target=target, critical=critical,
                          controller=list(facts.controller) if facts is not None else None)
    return Item(id=item_id, grammar=grammar.name, construction=grammar.construction, kind=kind,
                control_of=control_of, depth=depth, good=" ".join(words),
                bad=" ".join(bad_words) if bad_words is not None else None, tree=tree_text, regions=regions,
                pair=pair_facts, frame=node.frame_id(), metrics=metrics, set_id=set_id, condition=condition)


def _marker_region(grammar: Grammar, good: Node, bad: Node) -> MemberSpans | None:
    """The words of the nodes carrying the grammar's critical marker, in each member (None if either has none)."""
    spans_good = [(s, e) for _, s, e in marked_spans(good, grammar.critical_marker)]
    spans_bad = [(s, e) for _, s, e in marked_spans(bad, grammar.critical_marker)]
    if not spans_good or not spans_bad:
        return None
    return MemberSpans(good=_cover(spans_good), bad=_cover(spans_bad))


def _cover(word_spans: list[tuple[int, int]]) -> list[int]:
    """The smallest span covering all of ``word_spans``."""
    return [min(s for s, _ in word_spans), max(e for _, e in word_spans)]


def target_start(grammar: Grammar, node: Node) -> int:
    """The first word of the pair's marked node(s) in ``node``."""
    return min(s for _, s, _ in marked_spans(node, grammar.pair.target))


def agreement(grammar: Grammar, node: Node, target_start: int, pair: PairSpec | None = None) -> Agreement | None:
    """Subject-verb distance and attractor count for agreement grammars (None without a controller).

    The distance runs from the controller's last word (its head) to ``target_start``.
    Attractors are the words between the two whose category is in ``agreement.attractors``
    (default: the controller head's own category) and whose value of the flipped feature
    differs from the controller's.
    """
    pair = pair or grammar.pair
    if not grammar.controller or pair is None:
        return None
    ctrl = marked_spans(node, grammar.controller, lowest=True)
    if not ctrl:
        return None
    ctrl_node, s, e = ctrl[0]
    head = e - 1
    preterminals = [(n, s2) for n, s2, e2 in spans(node) if e2 - s2 == 1 and all(isinstance(c, str) for c in n.children)]
    flip = pair.flip
    head_pt = next((n for n, s2 in preterminals if s2 == head), None)
    value = ctrl_node.ground.node.get(flip)
    attractors = 0
    if head_pt is not None:
        for n, s2 in preterminals:
            if head < s2 < target_start and n.label in (grammar.attractor_categories or {head_pt.label}):
                v = n.ground.node.get(flip)
                if v is not None and v != value:
                    attractors += 1
    return Agreement(controller=(s, e), sv_distance=target_start - head, attractors=attractors)


__all__ = ["Agreement", "agreement", "build_item", "target_start"]
