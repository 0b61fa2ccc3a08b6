"""What a grammar is made of: symbols, rules, ground states and the validated :class:`Grammar`.

All frozen dataclasses, no behaviour beyond small accessors. :mod:`.load` builds a
:class:`Grammar` from a file; :mod:`.compile` grounds it into :class:`GroundRule` s per
:class:`State` for the sampler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Union

Value = Union[str, bool, int]  # a feature value as written: sg, pl, yes, +, 3

ON_VALUES = (True, "yes", "+", "true", 1)  # marker values meaning "this node is marked"


@dataclass(frozen=True)
class Var:
    """A feature variable such as ``?n``."""

    name: str

    def __repr__(self) -> str:
        return self.name


Spec = tuple[tuple[str, Any], ...]  # sorted (feature, value) pairs; value may be a Var


def format_value(value: Any) -> str:
    """A feature value as the rule text writes it (``True`` is ``+``, ``False`` is ``-``)."""
    if value is True:
        return "+"
    if value is False:
        return "-"
    return str(value)


def is_on(value: Any) -> bool:
    """Whether a marker feature's value means "this node is marked"."""
    return value in ON_VALUES


@dataclass(frozen=True)
class Symbol:
    """A nonterminal as written in a rule: category plus (possibly variable) features."""

    category: str
    spec: Spec = ()

    def __str__(self) -> str:
        if not self.spec:
            return self.category
        return f"{self.category}[{', '.join(f'{k}={format_value(v)}' for k, v in self.spec)}]"


@dataclass(frozen=True)
class Rule:
    """One alternative of one rule line, with where it came from.

    ``alt`` is the alternative's position on its line and ``n_alts`` how many the line has:
    minimal-pair twins are matched by position (see :mod:`.twins`).
    """

    index: int
    lhs: Symbol
    rhs: tuple[Union[Symbol, str], ...]  # str = a terminal word
    weight: float
    path: str
    line: int
    alt: int
    n_alts: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def is_lexical(self) -> bool:
        return all(isinstance(x, str) for x in self.rhs)

    def __str__(self) -> str:
        rhs = " ".join(str(x) if isinstance(x, Symbol) else repr(x) for x in self.rhs)
        return f"{self.lhs} -> {rhs}"


@dataclass(frozen=True)
class State:
    """A ground nonterminal: a category with fully known (non-variable) feature values."""

    category: str
    spec: Spec = ()

    def get(self, feature: str, default: Any = None) -> Any:
        for k, v in self.spec:
            if k == feature:
                return v
        return default

    def __str__(self) -> str:
        return str(Symbol(self.category, self.spec))


@dataclass(frozen=True)
class GroundRule:
    """A rule with its variables bound, used at a node whose parent asked for ``state``.

    ``node`` is the node's full feature set (the parent's requirement merged with the
    rule's left side); ``children`` are ground states or terminal words.
    """

    rule: Rule
    state: State
    node: State
    children: tuple[Union[State, str], ...]
    binding: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class PairSpec:
    """One minimal-pair recipe: flip feature ``flip`` at nodes marked ``target``.

    ``name`` is the pair type items record (``pair.type``); a grammar may define several
    (number and gender, say), and every item is made with one of them.
    """

    target: str  # marker feature on the node(s) whose feature is flipped
    flip: str  # the feature flipped
    values: tuple[tuple[Any, Any], ...]  # good value -> bad value
    name: str = ""
    changes_length: bool = False  # the flipped node may take a rule of another shape (filled gap vs gap)

    @property
    def type(self) -> str:
        return self.name or self.flip.lower()


@dataclass(frozen=True)
class Design:
    """How a grammar's item sets are built (``design:`` in the file; `depthkit generate` may override).

    ``sets``: ``ladder`` realises one lexical frame at every requested depth (the deeper sentence is the
    shallower one with one more embedding); ``independent`` draws each depth on its own. ``controller``:
    the values of the pair's feature the agreement controller takes, balanced within every set (empty:
    every value the grammar allows). ``attractors``: the attractor conditions crossed with them
    (``match``: every attractor has the controller's value; ``mismatch``: none has).
    """

    sets: str = "independent"
    controller: tuple[Any, ...] = ()
    attractors: tuple[str, ...] = ("match", "mismatch")


@dataclass(frozen=True)
class Grammar:
    """A validated grammar file. Build with :func:`depthkit.grammar.load_grammar`.

    Every rule's categories are defined, the start symbol derives sentences, the embedding
    categories nest and the pair recipe has a twin for every marked word; the grounded form
    the sampler uses comes from :func:`depthkit.grammar.compile_grammar`.
    """

    name: str
    path: str
    sha256: str
    description: str
    construction: str
    start: str
    embedding: frozenset[str]
    clauses: frozenset[str]
    pair: PairSpec | None  # the first (or only) pair type
    critical: str  # target-to-end, target, or marker (the nodes carrying critical_marker)
    controller: str | None
    attractor_categories: frozenset[str]
    ptb_labels: tuple[tuple[str, str], ...]
    rules: tuple[Rule, ...]
    max_words: int | None = None
    includes: tuple[str, ...] = ()
    rule_text: str = field(default="", repr=False)
    pairs: tuple[PairSpec, ...] = ()  # every pair type (pairs[0] is pair)
    critical_marker: str | None = None
    may_repeat: frozenset[str] = frozenset()  # categories whose words may occur twice in one sentence
    design: Design = Design()

    @property
    def pair_types(self) -> tuple[PairSpec, ...]:
        return self.pairs or ((self.pair,) if self.pair is not None else ())

    def pair_named(self, name: str) -> PairSpec:
        return next(p for p in self.pair_types if p.type == name)

    @cached_property
    def nltk_grammar(self):
        """The same rules as an ``nltk.grammar.FeatureGrammar`` (for chart parsing)."""
        from nltk.grammar import FeatureGrammar

        return FeatureGrammar.fromstring(self.rule_text)

    @property
    def categories(self) -> set[str]:
        return {r.lhs.category for r in self.rules}

    def ptb_label(self, category: str) -> str:
        return dict(self.ptb_labels).get(category, category)


__all__ = ["Design", "GroundRule", "Grammar", "ON_VALUES", "PairSpec", "Rule", "Spec", "State", "Symbol", "Value", "Var",
           "format_value", "is_on"]
