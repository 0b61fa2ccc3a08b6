"""The validation passes a grammar goes through, each with an error naming the file, the line and the fix.

:func:`check_rules` runs on the rules as written (before grounding): every category used is
defined, and no required feature value clashes with every rule of its category.
:func:`check_compiled` runs on the grounded grammar: the embedding categories can nest, no
unary cycles, and the pair recipe finds a marked node with a twin for every marked word.
Reachability and productivity are found while grounding (:mod:`.compile`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from ..errors import InputError
from .compile import CompiledGrammar, rules_by_category
from .model import Grammar, GroundRule, PairSpec, Rule, Spec, State, Symbol, Var, format_value, is_on
from .twins import flip_state, twin_rules, uneven_twin_line


def check_rules(grammar: Grammar) -> None:
    """Checks on the written rules: categories defined, no feature clash."""
    by_cat = rules_by_category(grammar)
    check_defined(grammar, by_cat)
    check_clashes(grammar, by_cat)


def check_compiled(compiled: CompiledGrammar) -> None:
    """Checks on the grounded grammar: embedding recursion, unary cycles, the pair recipe."""
    check_embedding_recursion(compiled)
    check_unary_cycles(compiled)
    for pair in compiled.grammar.pair_types:
        check_pair(compiled, pair)


def check_defined(grammar: Grammar, by_cat: dict[str, list[Rule]]) -> None:
    """Every category on a right-hand side has a rule."""
    for rule in grammar.rules:
        for sym in rule.rhs:
            if isinstance(sym, Symbol) and sym.category not in by_cat:
                close = difflib.get_close_matches(sym.category, sorted(by_cat), n=1)
                raise InputError(
                    f"'{sym.category}' is used in `{rule}` but no rule defines it", path=rule.path, line=rule.line,
                    fix=(f"did you mean '{close[0]}'? " if close else "") + f"add a rule `{sym.category} -> …` or a lexicon entry")


def _compatible(a: Spec, b: Spec) -> bool:
    """Whether two written specs can unify (variables match anything)."""
    bd = dict(b)
    return all(k not in bd or isinstance(v, Var) or isinstance(bd[k], Var) or bd[k] == v for k, v in a)


def check_clashes(grammar: Grammar, by_cat: dict[str, list[Rule]]) -> None:
    """Every symbol a rule requires unifies with some rule of its category, as written.

    Values that reach a symbol through a variable are not followed here: a requirement
    like ``NP[NUM=du]`` against ``NP[NUM=?n] -> N[NUM=?n]`` with no dual noun is a dead
    branch found while grounding (the start symbol then derives nothing).
    """
    for rule in grammar.rules:
        for sym in rule.rhs:
            if isinstance(sym, Symbol) and not any(_compatible(sym.spec, r.lhs.spec) for r in by_cat[sym.category]):
                offered = sorted({str(r.lhs) for r in by_cat[sym.category]})
                raise InputError(
                    f"feature clash: `{rule}` requires {sym} but no rule for {sym.category} fits it "
                    f"(rules give: {'; '.join(offered)})", path=rule.path, line=rule.line,
                    fix="make the feature values agree, or add the missing rule or lexicon entry")


def check_embedding_recursion(compiled: CompiledGrammar) -> None:
    """Depth above 1 needs an embedding node that can contain another one."""
    grammar, rules_for = compiled.grammar, compiled.rules_for

    def below(state: State) -> set[State]:
        seen: set[State] = set()
        stack = [c for g in rules_for[state] for c in g.children if isinstance(c, State)]
        while stack:
            s = stack.pop()
            if s not in seen:
                seen.add(s)
                stack.extend(c for g in rules_for[s] for c in g.children if isinstance(c, State))
        return seen

    embedding_states = [s for s in compiled.order if s.category in grammar.embedding]
    if not any(t.category in grammar.embedding for s in embedding_states for t in below(s)):
        cats = ", ".join(sorted(grammar.embedding))
        rule = next(r for r in grammar.rules if r.lhs.category in grammar.embedding)
        raise InputError(f"embedding category {cats} never contains another embedding node, so depth stops at 1",
                         path=rule.path, line=rule.line,
                         fix=f"let {cats} contain itself somewhere below it (e.g. an RC inside the RC's noun phrase)")


def check_unary_cycles(compiled: CompiledGrammar) -> None:
    """Unary cycles (A -> B -> A) give infinitely many derivations of the same words."""
    rules_for = compiled.rules_for
    unary = {s: [g.children[0] for g in gs if len(g.children) == 1 and isinstance(g.children[0], State)]
             for s, gs in rules_for.items()}
    color: dict[State, int] = {}

    def visit(s: State, stack: list[State]) -> None:
        color[s] = 1
        for t in unary.get(s, []):
            if color.get(t) == 1:
                cycle = stack[stack.index(t):] + [t] if t in stack else [s, t]
                rule = rules_for[s][0].rule
                raise InputError("unary cycle " + " -> ".join(x.category for x in cycle)
                                 + ": the same words would have infinitely many trees", path=rule.path, line=rule.line,
                                 fix="remove one of the single-symbol rules in that cycle")
            if color.get(t) is None:
                visit(t, stack + [t])
        color[s] = 2

    for s in list(unary):
        if color.get(s) is None:
            visit(s, [s])


def check_pair(compiled: CompiledGrammar, pair: PairSpec | None = None) -> None:
    """A reachable node carries the pair's marker, its flip value flips, and every marked rule has a twin,
    all the way down: every rule below a marked node that the flip can reach has its twin too (what
    `depthkit generate` will need, so `grammar check` refuses what generate would refuse)."""
    grammar = compiled.grammar
    pair = pair or grammar.pair
    assert pair is not None
    key = "pairs" if grammar.pairs and pair.name else "pair"
    memo: dict[tuple[int, State], None] = {}
    for g in _marked_grounds(compiled, pair):
        if g.node.get(pair.flip) is None:
            raise InputError(f"pair: the marked node {g.node} has no {pair.flip} feature to flip",
                             path=g.rule.path, line=g.rule.line,
                             fix=f"give the marked node a {pair.flip} value (e.g. {pair.flip}=?n)")
        flipped = flip_state(g.node, pair)
        if flipped is None:
            raise InputError(f"pair: {pair.flip}={format_value(g.node.get(pair.flip))} has no flip in the recipe's "
                             "values", path=grammar.path, field=key, fix="add it to values:")
        _check_twins(compiled, g, flipped, pair, memo)


def _check_twins(compiled: CompiledGrammar, g: GroundRule, new_state: State, pair: PairSpec,
                 memo: dict[tuple[int, State], None]) -> None:
    """``g`` can be re-derived under ``new_state`` (and so can every child whose requirement changes)."""
    if new_state == g.state or (id(g), new_state) in memo:
        return
    memo[(id(g), new_state)] = None
    twins = twin_rules(compiled, g, new_state, pair.flip)
    if not twins:
        if pair.changes_length and not g.rule.is_lexical and any(x.rule.weight > 0 for x in compiled.ground(new_state)):
            return  # re-derived with a rule of another shape (see generation.pairs)
        uneven = uneven_twin_line(compiled, g.rule, pair.flip)
        if uneven is not None:
            raise InputError(
                f"pair: twin lines differ in length: this line has {g.rule.n_alts} alternatives, its "
                f"{pair.flip} twin at {uneven.where} has {uneven.n_alts}", path=g.rule.path, line=g.rule.line,
                fix="twin lines must list the same number of words in the same order")
        raise InputError(
            f"pair: `{g.rule}` has no twin for {new_state}", path=g.rule.path, line=g.rule.line,
            fix="add the matching entry at the same position in the twin line "
                f"(e.g. the {pair.flip}={format_value(new_state.get(pair.flip, '?'))} line of {g.rule.lhs.category})"
                + ("; or set `changes_length: true` in the recipe if the flip may change the words' number"
                   if not g.rule.is_lexical else ""))
    twin = twins[0]
    for old, new in zip(g.children, twin.children):
        if isinstance(old, str) or isinstance(new, str):
            if isinstance(old, str) != isinstance(new, str):
                raise InputError(f"pair: twin `{twin.rule}` does not have the shape of `{g.rule}`",
                                 path=twin.rule.path, line=twin.rule.line,
                                 fix="twin lines must have the same symbols in the same order")
            continue
        if old != new:
            for child in compiled.ground(old):
                if child.rule.weight > 0:
                    _check_twins(compiled, child, new, pair, memo)


def _marked_grounds(compiled: CompiledGrammar, pair: PairSpec) -> Iterator[GroundRule]:
    """The ground rules whose node carries the pair's marker, state by state in discovery order."""
    marked = [s for s in compiled.order if is_on(s.get(pair.target))]
    if not marked:
        marked_nodes = [g for gs in compiled.rules_for.values() for g in gs if is_on(g.node.get(pair.target))]
        if not marked_nodes:
            raise InputError(
                f"pair: no reachable node carries the marker {pair.target}", path=compiled.grammar.path, field="pair",
                fix=f"mark the node to change in a rule, e.g. `VP[NUM=?n] -> IV[NUM=?n, {pair.target}=yes]`")
        marked = sorted({g.state for g in marked_nodes}, key=compiled.order.index)
    for state in marked:
        for g in compiled.rules_for[state]:
            if is_on(g.node.get(pair.target)):
                yield g


__all__ = ["check_clashes", "check_compiled", "check_defined", "check_embedding_recursion", "check_pair",
           "check_rules", "check_unary_cycles"]
