"""Compilation: ground a feature grammar into a CFG over fully specified states.

Starting from the start symbol, every requirement a parent puts on a child (a
:class:`~.model.State`) gets the ground rules that fit it (variables bound by unification).
States that cannot reach a finite string are dropped, so the sampler only sees usable rules.
Errors raised here are the ones the grounding itself finds: too many feature combinations,
a rule unreachable from the start symbol, a category that can never finish. The other
validation passes live in :mod:`.checks`.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NoReturn

from ..errors import InputError
from .model import Grammar, GroundRule, Rule, Spec, State, Symbol, Var

MAX_STATES = 500  # shipped grammars: under 30
MAX_COMBINATIONS = 1_000  # feature-value combinations one rule may ground to for one requirement (shipped: <= 2)
MAX_GROUND_RULES = 2_000  # ground rules in all (shipped grammars: a few hundred)


@dataclass
class CompiledGrammar:
    """The grammar as ground rules per state, reachable from the start symbol and productive."""

    grammar: Grammar
    root: State
    rules_for: dict[State, list[GroundRule]]
    order: list[State]  # discovery order (deterministic)
    by_category: dict[str, list[Rule]]
    domains: dict[str, list[Any]]  # feature -> its constant values, sorted by text

    def is_embedding(self, state: State) -> bool:
        return state.category in self.grammar.embedding

    def ground(self, state: State) -> list[GroundRule]:
        """Ground rules for any requirement, also one the start symbol never reaches (pair twins)."""
        if state not in self.rules_for:
            grounds: list[GroundRule] = []
            for rule in self.by_category.get(state.category, []):
                grounds.extend(expand(state, rule, self.domains))
            return grounds
        return self.rules_for[state]


def rules_by_category(grammar: Grammar) -> dict[str, list[Rule]]:
    """The rules for each category, in file order."""
    by_cat: dict[str, list[Rule]] = defaultdict(list)
    for rule in grammar.rules:
        by_cat[rule.lhs.category].append(rule)
    return by_cat


def feature_domains(grammar: Grammar) -> dict[str, list[Any]]:
    """Each feature's constant values anywhere in the rules, sorted by their text."""
    domains: dict[str, list[Any]] = {}
    for rule in grammar.rules:
        for sym in (rule.lhs, *rule.rhs):
            if isinstance(sym, Symbol):
                for k, v in sym.spec:
                    if not isinstance(v, Var) and v not in domains.setdefault(k, []):
                        domains[k].append(v)
    for k in domains:
        domains[k].sort(key=str)
    return domains


def compile_grammar(grammar: Grammar) -> CompiledGrammar:
    """Ground ``grammar`` from its start symbol and keep what can finish.

    Expects rules whose categories are all defined (:func:`.checks.check_rules`); raises
    :class:`InputError` when the grammar grounds to too many states, a category defined in
    the grammar file is unreachable, an embedding category is never reached, a category can
    never finish, or the start symbol derives nothing.
    """
    by_cat = rules_by_category(grammar)
    domains = feature_domains(grammar)
    root = State(grammar.start)
    rules_for, order = _ground_from(root, grammar, by_cat, domains)
    productive = _productive(rules_for)
    _check_productive(grammar, root, order, productive, by_cat)  # first: a rule that never ends strands others
    _check_reached(grammar, rules_for)
    # Drop dead branches so the sampler and the pair twins only see usable rules.
    for state in order:
        rules_for[state] = [g for g in rules_for[state]
                            if all(isinstance(c, str) or c in productive for c in g.children)]
    order = [s for s in order if s in productive]
    rules_for = {s: rules_for[s] for s in order}
    return CompiledGrammar(grammar=grammar, root=root, rules_for=rules_for, order=order,
                           by_category=dict(by_cat), domains=domains)


def _ground_from(root: State, grammar: Grammar, by_cat: dict[str, list[Rule]],
                 domains: dict[str, list[Any]]) -> tuple[dict[State, list[GroundRule]], list[State]]:
    """Breadth-first: the ground rules of every state reachable from ``root``, and the discovery order."""
    rules_for: dict[State, list[GroundRule]] = {}
    order: list[State] = []
    queue = [root]
    n_ground = 0
    while queue:
        state = queue.pop(0)
        if state in rules_for:
            continue
        grounds: list[GroundRule] = []
        for rule in by_cat[state.category]:
            grounds.extend(expand(state, rule, domains))
        # A requirement no rule fits (e.g. Coord[NUM=sg] when coordinations are plural) is a
        # dead branch of a feature variable, not an error: it simply has no derivations.
        rules_for[state] = grounds
        order.append(state)
        n_ground += len(grounds)
        if len(rules_for) > MAX_STATES or n_ground > MAX_GROUND_RULES:
            _too_many(rules_for, n_ground)
        for g in grounds:
            for child in g.children:
                if isinstance(child, State) and child not in rules_for:
                    queue.append(child)
    return rules_for, order


def _too_many(rules_for: dict[State, list[GroundRule]], n_ground: int) -> NoReturn:
    """Grounding stops: name the rule whose groundings grew most and by how much."""
    per_rule: dict[Rule, int] = defaultdict(int)
    for grounds in rules_for.values():
        for g in grounds:
            per_rule[g.rule] += 1
    rule, count = max(per_rule.items(), key=lambda kv: kv[1]) if per_rule else (None, 0)
    what = (f"{len(rules_for):,} feature combinations (states), more than the {MAX_STATES:,} allowed"
            if len(rules_for) > MAX_STATES else f"{n_ground:,} ground rules, more than the {MAX_GROUND_RULES:,} allowed")
    culprit = f"; rule `{rule}` alone grounds to {count:,} of them" if rule is not None else ""
    raise InputError(f"the grammar grounds to {what}{culprit}", path=rule.path if rule else None,
                     line=rule.line if rule else None,
                     fix="use fewer free feature variables (each ?var shared by sisters multiplies the combinations), "
                         "or fewer values per feature")


def _check_reached(grammar: Grammar, rules_for: dict[State, list[GroundRule]]) -> None:
    reached = {s.category for s in rules_for}
    for rule in grammar.rules:
        if rule.path == grammar.path and rule.lhs.category not in reached:
            raise InputError(f"'{rule.lhs.category}' is defined but can never be reached from start symbol "
                             f"'{grammar.start}'", path=rule.path, line=rule.line,
                             fix=f"use {rule.lhs.category} in a rule reachable from {grammar.start}, or delete this rule")
    for cat in sorted(grammar.embedding):
        if cat not in reached:
            raise InputError(f"embedding category '{cat}' is never reached from '{grammar.start}'", path=grammar.path,
                             field="embedding", fix="list in embedding: a category that the rules actually use")


def _productive(rules_for: dict[State, list[GroundRule]]) -> set[State]:
    """The states that can derive a finite string."""
    productive: set[State] = set()
    changed = True
    while changed:
        changed = False
        for state, grounds in rules_for.items():
            if state in productive:
                continue
            if any(all(isinstance(c, str) or c in productive for c in g.children) for g in grounds):
                productive.add(state)
                changed = True
    return productive


def _check_productive(grammar: Grammar, root: State, order: list[State], productive: set[State],
                      by_cat: dict[str, list[Rule]]) -> None:
    categories = list(dict.fromkeys(s.category for s in order))  # in discovery order
    for category in categories:
        if category != grammar.start and not any(s in productive for s in order if s.category == category):
            rule = by_cat[category][0]
            raise InputError(
                f"{category} can never finish: every rule for it uses a symbol that never ends in words "
                f"(recursion that never terminates)", path=rule.path, line=rule.line,
                fix=f"give {category} a way out: a rule that does not lead back to {category}")
    if root not in productive:
        raise InputError(f"the start symbol {grammar.start} derives no sentence", path=grammar.path,
                         fix="check the feature values required by the start rules")


# --------------------------------------------------------------------------------------------
# Unification of a requirement with a rule


def _merge(state_spec: Spec, lhs_spec: Spec, binding: dict[str, Any]) -> tuple[Spec, bool]:
    merged = dict(state_spec)
    for k, v in lhs_spec:
        if isinstance(v, Var):
            if v.name not in binding:  # left unbound: the node does not constrain it
                continue
            v = binding[v.name]
        if k in merged and merged[k] != v:
            return (), False
        merged[k] = v
    return tuple(sorted(merged.items(), key=lambda kv: kv[0])), True


def _ground(sym: Symbol, binding: dict[str, Any]) -> State:
    return State(sym.category, tuple((k, binding[v.name] if isinstance(v, Var) else v) for k, v in sym.spec
                                     if not isinstance(v, Var) or v.name in binding))


def expand(state: State, rule: Rule, domains: dict[str, list[Any]]) -> list[GroundRule]:
    """All groundings of ``rule`` compatible with the requirement ``state``."""
    fixed: dict[str, Any] = {}
    have = dict(state.spec)
    for k, v in rule.lhs.spec:
        if isinstance(v, Var):
            if k in have:
                if v.name in fixed and fixed[v.name] != have[k]:
                    return []
                fixed[v.name] = have[k]
        elif k in have and have[k] != v:
            return []
    # A variable the requirement leaves open is enumerated only when it links two
    # right-hand symbols (agreement between sisters); otherwise it stays unbound, as in
    # unification, so an unconstrained feature never doubles the derivations.
    rhs_uses: dict[str, int] = defaultdict(int)
    for sym in rule.rhs:
        if isinstance(sym, Symbol):
            for _, v in sym.spec:
                if isinstance(v, Var):
                    rhs_uses[v.name] += 1
    free: dict[str, list[Any]] = {}
    for sym in (rule.lhs, *rule.rhs):
        if isinstance(sym, Symbol):
            for k, v in sym.spec:
                if isinstance(v, Var) and v.name not in fixed and rhs_uses[v.name] >= 2:
                    free.setdefault(v.name, [])
                    for value in domains.get(k, []):
                        if value not in free[v.name]:
                            free[v.name].append(value)
    names = sorted(free)
    n_combinations = 1
    for n in names:
        n_combinations *= max(1, len(free[n]))
    if n_combinations > MAX_COMBINATIONS:
        sizes = " x ".join(f"{len(free[n])} ({n})" for n in names)
        raise InputError(f"rule `{rule}` links {len(names)} free feature variables across its right side: "
                         f"{sizes} = {n_combinations:,} feature-value combinations, more than the "
                         f"{MAX_COMBINATIONS:,} allowed", path=rule.path, line=rule.line,
                         fix="let fewer variables link sisters (each shared ?var multiplies the combinations), "
                             "or give those features fewer values")
    out = []
    for combo in itertools.product(*(free[n] for n in names)):
        binding = dict(fixed)
        binding.update(zip(names, combo))
        node_spec, ok = _merge(state.spec, rule.lhs.spec, binding)
        if not ok:
            continue
        children = tuple(_ground(x, binding) if isinstance(x, Symbol) else x for x in rule.rhs)
        out.append(GroundRule(rule=rule, state=state, node=State(state.category, node_spec), children=children,
                              binding=tuple(sorted(binding.items()))))
    return out


__all__ = ["CompiledGrammar", "MAX_COMBINATIONS", "MAX_GROUND_RULES", "MAX_STATES", "compile_grammar", "expand", "feature_domains", "rules_by_category"]
