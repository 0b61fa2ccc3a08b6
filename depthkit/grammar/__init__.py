"""Grammars: load, validate and compile a feature grammar for exact-depth sampling.

=============  ==========================================================================
module         concept
=============  ==========================================================================
``model``      the records: Grammar, Rule, Symbol, State, GroundRule, PairSpec, Var
``shipped``    finding a grammar by shipped name or path
``load``       YAML reading, includes, key lines -> a validated Grammar
``rules``      rule-text parsing (NLTK feature-CFG lines, weights)
``compile``    grounding into states, reachability, productivity
``twins``      which rule stands in for another when the pair's feature flips
``checks``     the validation passes (clashes, recursion, unary cycles, pair recipe)
``facts``      what `depthkit grammar check` reports (imported on its own: it counts with the sampler)
=============  ==========================================================================
"""

from __future__ import annotations

from .compile import CompiledGrammar, compile_grammar
from .load import load_grammar
from .model import GroundRule, Grammar, PairSpec, Rule, Spec, State, Symbol, Value, Var, format_value, is_on
from .shipped import list_grammar_files, resolve_grammar_path, shipped_grammar_dirs
from .twins import flip_state, twin_rules

__all__ = [
    "CompiledGrammar", "Grammar", "GroundRule", "PairSpec", "Rule", "Spec", "State", "Symbol", "Value", "Var",
    "compile_grammar", "flip_state", "format_value", "is_on", "list_grammar_files", "load_grammar",
    "resolve_grammar_path", "shipped_grammar_dirs", "twin_rules",
]
