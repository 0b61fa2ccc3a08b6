"""Grammar files: YAML with NLTK feature-CFG rule text inside (see docs/grammars.md).

:func:`load_grammar` reads the file and its includes (remembering the line of every key),
checks the keys, parses the rules (:mod:`.rules`), then runs the validation passes
(:mod:`.checks`) around the grounding (:mod:`.compile`). Anything wrong is an
:class:`~depthkit.errors.InputError` naming the file, the line and the fix.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from typing import Any, NoReturn

import yaml

from ..errors import InputError
from .checks import check_compiled, check_rules
from .compile import compile_grammar
from .model import Grammar, PairSpec, format_value
from .rules import RuleSource, feature_domain, parse_rules
from .shipped import resolve_grammar_path

TOP_LEVEL_KEYS = {
    "name", "description", "construction", "version", "start", "embedding", "clauses", "pair",
    "critical", "agreement", "ptb_labels", "include", "rules", "lexicon", "max_words", "notes",
}
INCLUDED_KEYS = {"rules", "lexicon", "description", "notes"}
PAIR_KEYS = {"target", "flip", "values"}
AGREEMENT_KEYS = {"controller", "attractors"}
CRITICAL_CHOICES = ("target-to-end", "target")
REQUIRED_FIXES = {
    "name": "add `name: my-grammar` (letters, digits, dashes)",
    "embedding": "add `embedding: [RC]` listing the categories whose nesting counts as depth",
    "rules": "add `rules: |` followed by NLTK feature-CFG rules, one per line",
}

KeyLines = dict[str, tuple[int, int]]  # key -> (line of the key, line where its block text starts), 1-based


def load_grammar(name_or_path: str | Path) -> Grammar:
    """Load and validate a grammar by shipped name or file path.

    Raises :class:`~depthkit.errors.InputError` naming the file, line and fix for anything
    wrong in the file, :class:`~depthkit.errors.UsageError` for a name or path that is not a grammar.
    """
    path = resolve_grammar_path(name_or_path)
    data, key_lines, text = read_yaml(path)
    grammar = _GrammarFile(path, data, key_lines).build(text)
    check_rules(grammar)
    check_compiled(compile_grammar(grammar))
    return grammar


def read_yaml(path: Path) -> tuple[dict, KeyLines, str]:
    """The file's top-level mapping, the line of each key, and its text."""
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("the grammar file is empty", path=path,
                         fix="start from docs/grammars.md or copy a shipped grammar (`depthkit grammar list`)")
    if b"\x00" in raw:
        raise InputError("this is a binary file, not a YAML grammar", path=path,
                         fix="grammar files are plain-text YAML (see docs/grammars.md)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=path, fix="save the file as UTF-8") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"YAML syntax error: {problem}", path=path, line=(mark.line + 1) if mark else None,
                         fix="check indentation and quoting there; rule text goes in a block (`rules: |`)") from None
    if not isinstance(data, dict):
        raise InputError("a grammar file must be a YAML mapping (name:, start:, rules:, …)", path=path, line=1,
                         fix="see docs/grammars.md for the keys")
    key_lines: KeyLines = {}
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            first = vnode.start_mark.line + 1
            if isinstance(vnode, yaml.ScalarNode) and vnode.style in ("|", ">"):
                first += 1
            key_lines[str(knode.value)] = (knode.start_mark.line + 1, first)
    return data, key_lines, text


def _close_hint(word: Any, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


class _GrammarFile:
    """One grammar file's YAML data on its way to a :class:`Grammar`; errors point at the key's line."""

    def __init__(self, path: Path, data: dict, key_lines: KeyLines):
        self.path, self.data, self.key_lines = path, data, key_lines
        self.includes: list[str] = []  # as written, filled by _rule_sources

    def fail(self, message: str, key: str | None = None, fix: str | None = None) -> NoReturn:
        line = self.key_lines.get(key, (None, None))[0] if key else None
        raise InputError(message, path=self.path, line=line, fix=fix, field=key)

    def build(self, text: str) -> Grammar:
        data = self.data
        self._check_keys()
        name = data["name"]
        rules, nltk_lines = parse_rules(self._rule_sources())
        if not rules:
            self.fail("no rules found", "rules", fix="write rules like `S -> NP VP`, one per line, under `rules: |`")
        categories = {r.lhs.category for r in rules}
        start = data.get("start", "S")
        if start not in categories:
            self.fail(f"start symbol '{start}' has no rule", "start",
                      fix=f"add a rule `{start} -> …` or set start: to one of {', '.join(sorted(categories))}")
        embedding = self._embedding(categories)
        clauses = data.get("clauses", None)
        clauses = set(embedding) | {start} if clauses is None else set(clauses)
        pair = self._pair(rules)
        critical = data.get("critical", "target-to-end")
        if critical not in CRITICAL_CHOICES:
            self.fail(f"critical must be one of {', '.join(CRITICAL_CHOICES)}, got {critical!r}", "critical",
                      fix="target-to-end scores the changed word(s) and everything after them (recommended)")
        controller, attractors = self._agreement(categories)
        ptb = data.get("ptb_labels", {}) or {}
        if not isinstance(ptb, dict):
            self.fail("'ptb_labels' must map categories to Penn Treebank labels", "ptb_labels",
                      fix="e.g. `ptb_labels: {RC: SBAR}`")
        max_words = data.get("max_words")
        if max_words is not None and (not isinstance(max_words, int) or max_words < 1):
            self.fail("max_words must be a positive integer", "max_words", fix="e.g. `max_words: 40`")
        return Grammar(
            name=name, path=str(self.path), sha256=hashlib.sha256(text.encode()).hexdigest(),
            description=str(data.get("description", "")).strip(), construction=str(data.get("construction", name)),
            start=start, embedding=frozenset(embedding), clauses=frozenset(clauses), pair=pair, critical=critical,
            controller=controller, attractor_categories=frozenset(attractors),
            ptb_labels=tuple(sorted((str(k), str(v)) for k, v in ptb.items())),
            rules=tuple(rules), max_words=max_words, includes=tuple(self.includes), rule_text="\n".join(nltk_lines),
        )

    def _check_keys(self) -> None:
        for key in self.data:
            if key not in TOP_LEVEL_KEYS:
                self.fail(f"unknown key '{key}'", key, fix=_close_hint(key, sorted(TOP_LEVEL_KEYS))
                          + f"valid keys: {', '.join(sorted(TOP_LEVEL_KEYS))}")
        for key in ("name", "embedding", "rules"):
            if key not in self.data:
                self.fail(f"missing required key '{key}'", None, fix=REQUIRED_FIXES[key])
        name = self.data["name"]
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            self.fail(f"name must be a simple identifier, got {name!r}", "name",
                      fix="use letters, digits, '-', '_' (e.g. object-rc)")

    def _rule_sources(self) -> list[RuleSource]:
        """Rule text from the file and its includes, each tagged with its file and first line."""
        sources: list[RuleSource] = []
        for key in ("rules", "lexicon"):
            if key in self.data:
                if not isinstance(self.data[key], str):
                    self.fail(f"'{key}' must be a block of rule text", key,
                              fix=f"write `{key}: |` and the rules indented below it")
                sources.append((self.data[key], str(self.path), self.key_lines[key][1]))
        inc = self.data.get("include", [])
        if isinstance(inc, str):
            inc = [inc]
        if not isinstance(inc, list):
            self.fail("'include' must be a list of file paths", "include", fix="e.g. `include: [shared/lexicon-en.yaml]`")
        for entry in inc:
            inc_path = (self.path.parent / str(entry)).resolve()
            if not inc_path.exists():
                self.fail(f"included file '{entry}' not found (looked at {inc_path})", "include",
                          fix="paths in include are relative to the grammar file")
            inc_data, inc_lines, _ = read_yaml(inc_path)
            bad = set(inc_data) - INCLUDED_KEYS
            if bad:
                raise InputError(f"an included file may only have rules/lexicon/description, found {sorted(bad)}",
                                 path=inc_path, line=1, fix="move those keys into the grammar that includes it")
            for key in ("rules", "lexicon"):
                if key in inc_data:
                    sources.append((str(inc_data[key]), str(inc_path), inc_lines[key][1]))
            self.includes.append(str(entry))
        return sources

    def _embedding(self, categories: set[str]) -> list[str]:
        embedding = self.data["embedding"]
        if isinstance(embedding, str):
            embedding = [embedding]
        if not isinstance(embedding, list) or not embedding:
            self.fail("'embedding' must be a non-empty list of categories", "embedding", fix="e.g. `embedding: [RC]`")
        for cat in embedding:
            if cat not in categories:
                self.fail(f"embedding category '{cat}' has no rule", "embedding",
                          fix=_close_hint(cat, sorted(categories)) + "list categories that appear on the left of a rule")
        return embedding

    def _pair(self, rules: list) -> PairSpec | None:
        p = self.data.get("pair")
        if p is None:
            return None
        if not isinstance(p, dict):
            self.fail("'pair' must be a mapping with target: and flip:", "pair",
                      fix="e.g. `pair: {target: TARGET, flip: NUM}`")
        for key in p:
            if key not in PAIR_KEYS:
                self.fail(f"unknown key 'pair.{key}'", "pair", fix=f"valid keys: {', '.join(sorted(PAIR_KEYS))}")
        if "target" not in p or "flip" not in p:
            self.fail("'pair' needs target: (the marker feature on the node to change) and flip: (the feature to flip)",
                      "pair", fix="e.g. `pair: {target: TARGET, flip: NUM}` with `IV[NUM=?n, TARGET=yes]` in a rule")
        values = p.get("values")
        domain = feature_domain(rules, p["flip"])
        if values is None:
            if len(domain) != 2:
                self.fail(f"feature {p['flip']} takes {len(domain)} values "
                          f"({', '.join(map(format_value, domain)) or 'none'}), so the flip is not obvious", "pair",
                          fix="add `values: {a: b, b: a}` under pair: saying which value replaces which")
            a, b = sorted(domain, key=str)
            values = {a: b, b: a}
        if not isinstance(values, dict):
            self.fail("'pair.values' must map each good value to its bad value", "pair",
                      fix="e.g. `values: {sg: pl, pl: sg}`")
        return PairSpec(target=str(p["target"]), flip=str(p["flip"]),
                        values=tuple(sorted(((k, v) for k, v in values.items()), key=lambda kv: str(kv[0]))))

    def _agreement(self, categories: set[str]) -> tuple[str | None, list[str]]:
        """The controller marker and the attractor categories (None, [] without ``agreement:``)."""
        ag = self.data.get("agreement")
        if not ag:
            return None, []
        if not isinstance(ag, dict) or "controller" not in ag or set(ag) - AGREEMENT_KEYS:
            self.fail("'agreement' must be `{controller: MARKER, attractors: [CATEGORY, ...]}`", "agreement",
                      fix="mark the agreement controller in a rule, e.g. `N[NUM=?n, CTRL=yes]`, and write "
                          "`agreement: {controller: CTRL, attractors: [N]}`")
        attractors = ag.get("attractors", [])
        if isinstance(attractors, str):
            attractors = [attractors]
        if not isinstance(attractors, list):
            self.fail("'agreement.attractors' must be a list of noun categories", "agreement",
                      fix="e.g. `attractors: [N, NL]`")
        for cat in attractors:
            if cat not in categories:
                self.fail(f"attractor category '{cat}' has no rule", "agreement",
                          fix=_close_hint(cat, sorted(categories))
                          + "list noun categories this grammar defines (" + ", ".join(sorted(categories)) + ")")
        return str(ag["controller"]), attractors


__all__ = ["AGREEMENT_KEYS", "CRITICAL_CHOICES", "PAIR_KEYS", "TOP_LEVEL_KEYS", "load_grammar", "read_yaml"]
