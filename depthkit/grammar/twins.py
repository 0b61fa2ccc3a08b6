"""Twin rules: which rule stands in for another when the pair's feature is flipped.

A twin of a rule is the same rule with new variable values, or the rule at the same
position of a line that differs only in the flipped feature (``IV[NUM=sg] -> 'laughs' |
'smiles'`` pairs with ``IV[NUM=pl] -> 'laugh' | 'smile'``). :mod:`.checks` uses these to
check the pair recipe; :mod:`depthkit.generation.pairs` uses them to build the bad twin.
"""

from __future__ import annotations

from typing import Any

from .compile import CompiledGrammar
from .model import GroundRule, PairSpec, Rule, State, Symbol


def flip_state(state: State, pair: PairSpec) -> State | None:
    """``state`` with its flip feature swapped, or None when it has no flippable value."""
    mapping = dict(pair.values)
    value = state.get(pair.flip)
    if value is None or value not in mapping:
        return None
    return State(state.category, tuple((k, mapping[v] if k == pair.flip else v) for k, v in state.spec))


def _strip(sym: Symbol | str, flip: str) -> Any:
    if isinstance(sym, str):
        return "*"
    return (sym.category, tuple((k, v) for k, v in sym.spec if k != flip))


def _pair_key(rule: Rule, flip: str) -> tuple:
    """What twins share: the rule's symbols without the flipped feature, and its position on its line."""
    return (_strip(rule.lhs, flip), tuple(_strip(x, flip) for x in rule.rhs), rule.alt, rule.n_alts)


def twin_rules(compiled: CompiledGrammar, ground: GroundRule, new_state: State,
               feature: str | None = None) -> list[GroundRule]:
    """Ground rules usable in place of ``ground`` under the requirement ``new_state``, best first.

    ``feature`` is the feature whose value changed (default: the pair's flip feature): twin lines may
    differ in it. Parse-only rules (weight 0) are never twins: generation does not produce them.
    """
    flip = feature if feature is not None else (compiled.grammar.pair.flip if compiled.grammar.pair else "")
    key = _pair_key(ground.rule, flip)
    old = dict(ground.binding)

    def score(g: GroundRule) -> tuple:
        agree = sum(1 for k, v in g.binding if old.get(k) == v)
        return (g.rule.index != ground.rule.index, -agree)

    candidates = [g for g in compiled.ground(new_state) if g.rule.weight > 0
                  and (g.rule.index == ground.rule.index or _pair_key(g.rule, flip) == key)]
    return sorted(candidates, key=score)


def uneven_twin_line(compiled: CompiledGrammar, rule: Rule, flip: str) -> Rule | None:
    """A rule of the same category and shape but another flip value, on a line with another length."""
    def shape(r: Rule) -> tuple:
        return (tuple((k, v) for k, v in r.lhs.spec if k != flip),
                tuple("*" if isinstance(x, str) else x.category for x in r.rhs))

    for other in compiled.by_category.get(rule.lhs.category, []):
        if other.line != rule.line and shape(other) == shape(rule) and other.n_alts != rule.n_alts \
                and dict(other.lhs.spec).get(flip) != dict(rule.lhs.spec).get(flip):
            return other
    return None


__all__ = ["flip_state", "twin_rules", "uneven_twin_line"]
