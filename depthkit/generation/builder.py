"""From a derivation to an item: sentence, bad twin, tree, regions, pair facts and metrics.

:func:`build_item` turns one sampled :class:`~.derivation.Node` into a
:class:`depthkit.schema.Item` (the items.jsonl record). Pure: the same node gives the same item.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..grammar.compile import CompiledGrammar
from ..grammar.model import Grammar
from ..schema import Item, MemberSpans, PairFacts, Regions
from .derivation import Node, marked_spans, spans
from .metrics import tree_metrics
from .pairs import make_bad


@dataclass(frozen=True)
class Agreement:
    """Subject-verb facts of one derivation: the controller's word span, its distance to the target, attractors."""

    controller: tuple[int, int]
    sv_distance: int
    attractors: int


def build_item(compiled: CompiledGrammar, node: Node, item_id: str, depth: int, kind: str,
               control_of: str | None = None) -> Item:
    """The item for ``node``, sampled at exact embedding ``depth`` (``kind`` is "test" or "control")."""
    from nltk import Tree  # nltk is slow to import; only building items needs it

    grammar = compiled.grammar
    words = node.words()
    tree_text = node.bracketed()
    metrics = tree_metrics(Tree.fromstring(tree_text), grammar.embedding, grammar.clauses)
    if metrics["embedding_depth"] != depth:  # the sampler's guarantee; a failure here is a depthkit bug
        raise AssertionError(f"sampled depth {metrics['embedding_depth']} != requested {depth}: {tree_text}")
    bad_words = None
    regions = Regions()
    pair_facts = None
    if grammar.pair is not None:
        bad_node, targets = make_bad(compiled, node)
        bad_words = bad_node.words()
        bad_spans = [(s, e) for _, s, e in marked_spans(bad_node, grammar.pair.target)]
        tg, tb = _cover([(s, e) for _, s, e in targets]), _cover(bad_spans)
        target = MemberSpans(good=tg, bad=tb)
        if grammar.critical == "target-to-end":
            critical = MemberSpans(good=[tg[0], len(words)], bad=[tb[0], len(bad_words)])
        else:
            critical = target
        good_value = targets[0][0].ground.node.get(grammar.pair.flip)
        pair_facts = PairFacts(feature=grammar.pair.flip, good_value=good_value,
                               bad_value=dict(grammar.pair.values).get(good_value))
        facts = agreement(grammar, node, tg[0]) if grammar.controller else None
        if facts is not None:
            metrics.update(sv_distance=facts.sv_distance, attractors=facts.attractors)
        regions = Regions(target=target, critical=critical,
                          controller=list(facts.controller) if facts is not None else None)
    return Item(id=item_id, grammar=grammar.name, construction=grammar.construction, kind=kind,
                control_of=control_of, depth=depth, good=" ".join(words),
                bad=" ".join(bad_words) if bad_words is not None else None, tree=tree_text, regions=regions,
                pair=pair_facts, frame=node.frame_id(), metrics=metrics)


def _cover(word_spans: list[tuple[int, int]]) -> list[int]:
    """The smallest span covering all of ``word_spans``."""
    return [min(s for s, _ in word_spans), max(e for _, e in word_spans)]


def target_start(grammar: Grammar, node: Node) -> int:
    """The first word of the pair's marked node(s) in ``node``."""
    return min(s for _, s, _ in marked_spans(node, grammar.pair.target))


def agreement(grammar: Grammar, node: Node, target_start: int) -> Agreement | None:
    """Subject-verb distance and attractor count for agreement grammars (None without a controller).

    The distance runs from the controller's last word (its head) to ``target_start``.
    Attractors are the words between the two whose category is in ``agreement.attractors``
    (default: the controller head's own category) and whose value of the flipped feature
    differs from the controller's.
    """
    if not grammar.controller or grammar.pair is None:
        return None
    ctrl = marked_spans(node, grammar.controller, lowest=True)
    if not ctrl:
        return None
    ctrl_node, s, e = ctrl[0]
    head = e - 1
    preterminals = [(n, s2) for n, s2, e2 in spans(node) if e2 - s2 == 1 and all(isinstance(c, str) for c in n.children)]
    flip = grammar.pair.flip
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
