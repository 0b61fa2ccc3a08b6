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

from ..errors import InputError
from ..yamlfile import KeyLines, load_mapping, read_text
from .checks import check_compiled, check_rules
from .compile import compile_grammar
from .generable import check_generable
from .model import Design, Grammar, PairSpec, format_value
from .rules import RuleSource, feature_domain, parse_rules
from .shipped import resolve_grammar_path

TOP_LEVEL_KEYS = {
    "name", "description", "construction", "version", "start", "embedding", "clauses", "pair", "pairs",
    "critical", "agreement", "ptb_labels", "include", "rules", "lexicon", "max_words", "notes", "design",
    "may_repeat",
}
INCLUDED_KEYS = {"rules", "lexicon", "description", "notes"}
PAIR_KEYS = {"target", "flip", "values", "changes_length"}
AGREEMENT_KEYS = {"controller", "attractors"}
DESIGN_KEYS = {"sets", "controller", "attractors"}
SET_DESIGNS = ("ladder", "independent")
ATTRACTOR_CONDITIONS = ("match", "mismatch")
CRITICAL_CHOICES = ("target-to-end", "target", "{marker: FEATURE}")
REQUIRED_FIXES = {
    "name": "add `name: my-grammar` (letters, digits, dashes)",
    "embedding": "add `embedding: [RC]` listing the categories whose nesting counts as depth",
    "rules": "add `rules: |` followed by NLTK feature-CFG rules, one per line",
}


def load_grammar(name_or_path: str | Path) -> Grammar:
    """Load and validate a grammar by shipped name or file path.

    Raises :class:`~depthkit.errors.InputError` naming the file, line and fix for anything
    wrong in the file, :class:`~depthkit.errors.UsageError` for a name or path that is not a grammar.
    """
    path = resolve_grammar_path(name_or_path)
    data, key_lines, text = read_yaml(path)
    gfile = _GrammarFile(path, data, key_lines)
    try:
        grammar = gfile.build(text)
        check_rules(grammar)
        compiled = compile_grammar(grammar)
        check_compiled(compiled)
        check_generable(compiled, gfile.fail)
    except InputError as exc:
        if exc.path is not None and Path(exc.path).resolve() != path.resolve():  # an included file: name the includer
            line = key_lines.get("include", (None, None))[0]
            exc.message += f" (in a file included by {path}{f':{line}' if line else ''})"
        raise
    return grammar


def read_yaml(path: Path) -> tuple[dict, KeyLines, str]:
    """The file's top-level mapping, the line of each key, and its text (see :mod:`depthkit.yamlfile`)."""
    fix = "check indentation and quoting there; rule text goes in a block (`rules: |`)"
    text = read_text(path, "grammar file", fix="grammar files are plain-text YAML (see docs/grammars.md)")
    if not text.strip():
        raise InputError("the grammar file is empty", path=path,
                         fix="start from docs/grammars.md or copy a shipped grammar (`depthkit grammar list`)")
    data, key_lines = load_mapping(text, path, what="grammar file", fix=fix)
    return data, key_lines, text


def _shown(value: Any) -> str:
    """A value as an error shows it: short, with its YAML type."""
    kind = {list: "a list", dict: "a mapping", bool: "true/false", int: "a number", float: "a number",
            type(None): "nothing"}.get(type(value))
    text = repr(value) if not isinstance(value, (list, dict)) else ""
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{kind} {text}".strip() if kind else text


def _close_hint(word: Any, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


class _GrammarFile:
    """One grammar file's YAML data on its way to a :class:`Grammar`; errors point at the key's line."""

    def __init__(self, path: Path, data: dict, key_lines: KeyLines):
        self.path, self.data, self.key_lines = path, data, key_lines
        self.includes: list[str] = []  # as written, filled by _rule_sources
        self.rules: list = []  # parsed, filled by build

    def fail(self, message: str, key: str | None = None, fix: str | None = None) -> NoReturn:
        line = self.key_lines.get(key, (None, None))[0] if key else None
        raise InputError(message, path=self.path, line=line, fix=fix, field=key)

    def build(self, text: str) -> Grammar:
        data = self.data
        self._check_keys()
        name = data["name"]
        rules, nltk_lines = parse_rules(self._rule_sources())
        self.rules = rules
        if not rules:
            self.fail("no rules found", "rules", fix="write rules like `S -> NP VP`, one per line, under `rules: |`")
        categories = {r.lhs.category for r in rules}
        start = data.get("start", "S")
        if not isinstance(start, str):
            self.fail(f"'start' must be one category name, got {_shown(start)}", "start", fix="e.g. `start: S`")
        if start not in categories:
            self.fail(f"start symbol '{start}' has no rule", "start",
                      fix=f"add a rule `{start} -> …` or set start: to one of {', '.join(sorted(categories))}")
        embedding = self._embedding(categories)
        clauses = data.get("clauses", None)
        clauses = set(embedding) | {start} if clauses is None else set(self._categories("clauses", categories))
        for key in ("description", "construction", "notes"):
            if key in data and not isinstance(data[key], str):
                self.fail(f"'{key}' must be text, got {_shown(data[key])}", key,
                          fix=f"write `{key}: some words` (quote it if it has a colon)")
        if "version" in data and (isinstance(data["version"], bool) or not isinstance(data["version"], (int, str))):
            self.fail(f"'version' must be a number or text, got {_shown(data['version'])}", "version", fix="e.g. `version: 2`")
        pairs = self._pairs(rules)
        critical, critical_marker = self._critical()
        controller, attractors = self._agreement(categories)
        may_repeat = self._categories("may_repeat", categories)
        design = self._design(pairs)
        ptb = data.get("ptb_labels", {}) or {}
        if not isinstance(ptb, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in ptb.items()):
            self.fail("'ptb_labels' must map categories to Penn Treebank labels", "ptb_labels",
                      fix="e.g. `ptb_labels: {RC: SBAR}`")
        max_words = data.get("max_words")
        if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1):
            self.fail(f"max_words must be a positive integer, got {_shown(max_words)}", "max_words",
                      fix="e.g. `max_words: 40`")
        return Grammar(
            name=name, path=str(self.path), sha256=hashlib.sha256(text.encode()).hexdigest(),
            description=str(data.get("description", "")).strip(), construction=str(data.get("construction", name)),
            start=start, embedding=frozenset(embedding), clauses=frozenset(clauses),
            pair=pairs[0] if pairs else None, critical=critical,
            controller=controller, attractor_categories=frozenset(attractors),
            ptb_labels=tuple(sorted((str(k), str(v)) for k, v in ptb.items())),
            rules=tuple(rules), max_words=max_words, includes=tuple(self.includes), rule_text="\n".join(nltk_lines),
            pairs=tuple(pairs), critical_marker=critical_marker, may_repeat=frozenset(may_repeat), design=design,
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
            if not isinstance(entry, str) or not entry.strip():
                self.fail(f"'include' lists {_shown(entry)}, which is not a file path", "include",
                          fix="e.g. `include: [shared/lexicon-en.yaml]`")
            inc_path = (self.path.parent / entry).resolve()
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
                    if not isinstance(inc_data[key], str):
                        raise InputError(f"'{key}' must be a block of rule text", path=inc_path,
                                         line=inc_lines[key][0], field=key,
                                         fix=f"write `{key}: |` and the rules indented below it")
                    sources.append((inc_data[key], str(inc_path), inc_lines[key][1]))
            self.includes.append(str(entry))
        return sources

    def _embedding(self, categories: set[str]) -> list[str]:
        embedding = self.data["embedding"]
        if isinstance(embedding, str):
            embedding = [embedding]
        if not isinstance(embedding, list) or not embedding:
            self.fail("'embedding' must be a non-empty list of categories", "embedding", fix="e.g. `embedding: [RC]`")
        for cat in embedding:
            if not isinstance(cat, str):
                self.fail(f"'embedding' lists {_shown(cat)}, which is not a category name", "embedding",
                          fix="e.g. `embedding: [RC]`")
            if cat not in categories:
                self.fail(f"embedding category '{cat}' has no rule", "embedding",
                          fix=_close_hint(cat, sorted(categories)) + "list categories that appear on the left of a rule")
        return embedding

    def _pairs(self, rules: list) -> list[PairSpec]:
        """The pair types: ``pair:`` (one) or ``pairs:`` (a mapping of named recipes)."""
        if "pair" in self.data and "pairs" in self.data:
            self.fail("give either `pair:` (one recipe) or `pairs:` (named recipes), not both", "pairs",
                      fix="move the recipe of `pair:` into `pairs:` under a name, e.g. `pairs: {number: {...}}`")
        if self.data.get("pair") is not None:
            return [self._pair(self.data["pair"], rules, "pair", "")]
        named = self.data.get("pairs")
        if named is None:
            return []
        if not isinstance(named, dict) or not named:
            self.fail("'pairs' must map a name to each recipe", "pairs",
                      fix="e.g. `pairs: {number: {target: TARGET, flip: NUM}, gender: {target: TARGET, flip: GEN}}`")
        out = []
        for name, recipe in named.items():
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
                self.fail(f"pair type name {name!r} is not a simple name", "pairs", fix="use e.g. number, gender")
            out.append(self._pair(recipe, rules, "pairs", name))
        return out

    def _pair(self, p: Any, rules: list, key: str, name: str) -> PairSpec:
        where = f"{key}.{name}" if name else key
        if not isinstance(p, dict):
            self.fail(f"'{where}' must be a mapping with target: and flip:", key,
                      fix="e.g. `pair: {target: TARGET, flip: NUM}`")
        for k in p:
            if k not in PAIR_KEYS:
                self.fail(f"unknown key '{where}.{k}'", key,
                          fix=_close_hint(k, sorted(PAIR_KEYS)) + f"valid keys: {', '.join(sorted(PAIR_KEYS))}")
        if "target" not in p or "flip" not in p:
            self.fail(f"'{where}' needs target: (the marker feature on the node to change) and flip: (the feature to "
                      "flip)", key, fix="e.g. `pair: {target: TARGET, flip: NUM}` with `IV[NUM=?n, TARGET=yes]` in a rule")
        for k in ("target", "flip"):
            if not isinstance(p[k], str) or not p[k].strip():
                self.fail(f"'{where}.{k}' must be a feature name, got {p[k]!r}", key, fix="e.g. `flip: NUM`")
        values = p.get("values")
        domain = feature_domain(rules, p["flip"])
        if values is None:
            if len(domain) != 2:
                self.fail(f"feature {p['flip']} takes {len(domain)} values "
                          f"({', '.join(map(format_value, domain)) or 'none'}), so the flip is not obvious", key,
                          fix=f"add `values: {{a: b, b: a}}` under {where}: saying which value replaces which")
            a, b = sorted(domain, key=str)
            values = {a: b, b: a}
        if not isinstance(values, dict) or not values:
            self.fail(f"'{where}.values' must map each good value to its bad value", key,
                      fix="e.g. `values: {sg: pl, pl: sg}`")
        for good, bad in values.items():
            for v in (good, bad):
                if v not in domain:
                    self.fail(f"'{where}.values' names {format_value(v)!r}, which {p['flip']} never takes in the rules "
                              f"(it takes {', '.join(map(format_value, domain)) or 'no value'})", key,
                              fix="list values the rules use")
        changes_length = p.get("changes_length", False)
        if not isinstance(changes_length, bool):
            self.fail(f"'{where}.changes_length' must be true or false", key,
                      fix="true lets the flipped phrase take a rule of another shape (filled gap vs gap)")
        return PairSpec(target=p["target"], flip=p["flip"],
                        values=tuple(sorted(((k, v) for k, v in values.items()), key=lambda kv: str(kv[0]))), name=name,
                        changes_length=changes_length)

    def _critical(self) -> tuple[str, str | None]:
        """The critical region: a named choice, or ``{marker: FEATURE}`` (the words of the marked nodes)."""
        critical = self.data.get("critical", "target-to-end")
        if isinstance(critical, dict):
            if set(critical) != {"marker"} or not isinstance(critical["marker"], str):
                self.fail("'critical' as a mapping must be `{marker: FEATURE}`", "critical",
                          fix="e.g. `critical: {marker: CRIT}` with `Adv[CRIT=yes]` in the rule after the gap")
            if not self._feature_used(critical["marker"]):
                self.fail(f"critical marker {critical['marker']} is on no symbol of the rules", "critical",
                          fix=f"mark the critical words' node in a rule, e.g. `Adv[{critical['marker']}=yes]`")
            return "marker", critical["marker"]
        if critical not in ("target-to-end", "target"):
            self.fail(f"critical must be one of {', '.join(CRITICAL_CHOICES)}, got {critical!r}", "critical",
                      fix="target-to-end scores the changed word(s) and everything after them (recommended)")
        return critical, None

    def _feature_used(self, feature: str) -> bool:
        return any(k == feature for r in self.rules for sym in (r.lhs, *r.rhs) if not isinstance(sym, str)
                   for k, _ in sym.spec)

    def _categories(self, key: str, categories: set[str]) -> list[str]:
        value = self.data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            self.fail(f"'{key}' must be a list of category names, got {_shown(value)}", key, fix=f"e.g. `{key}: [Det, Comp]`")
        for cat in value:
            if cat not in categories:
                self.fail(f"'{key}' names '{cat}', which has no rule", key,
                          fix=_close_hint(cat, sorted(categories)) + "list categories this grammar defines")
        return value

    def _design(self, pairs: list[PairSpec]) -> Design:
        """How item sets are built by default (see :class:`~.model.Design`)."""
        d = self.data.get("design")
        if d is None:
            return Design()
        if not isinstance(d, dict):
            self.fail("'design' must be a mapping", "design",
                      fix="e.g. `design: {sets: ladder, controller: [sg, pl], attractors: [match, mismatch]}`")
        for k in d:
            if k not in DESIGN_KEYS:
                self.fail(f"unknown key 'design.{k}'", "design",
                          fix=_close_hint(k, sorted(DESIGN_KEYS)) + f"valid keys: {', '.join(sorted(DESIGN_KEYS))}")
        sets = d.get("sets", "independent")
        if sets not in SET_DESIGNS:
            self.fail(f"design.sets must be one of {', '.join(SET_DESIGNS)}, got {sets!r}", "design",
                      fix="ladder: one lexical frame at every depth (recommended); independent: new words per depth")
        controller = d.get("controller", [])
        if not isinstance(controller, list):
            self.fail("design.controller must be a list of values", "design", fix="e.g. `controller: [sg, pl]`")
        if controller and not pairs:
            self.fail("design.controller needs a pair recipe (`pair:`)", "design", fix="add `pair:` or drop it")
        if controller:
            domain = {v for p in pairs for v, _ in p.values}
            for v in controller:
                if v not in domain:
                    self.fail(f"design.controller value {format_value(v)!r} is not a value the pair flips "
                              f"({', '.join(sorted(map(format_value, domain)))})", "design", fix="list those values")
        attractors = d.get("attractors", list(ATTRACTOR_CONDITIONS))
        if not isinstance(attractors, list) or any(a not in ATTRACTOR_CONDITIONS for a in attractors):
            self.fail(f"design.attractors must list conditions from {', '.join(ATTRACTOR_CONDITIONS)}", "design",
                      fix="e.g. `attractors: [match, mismatch]`, or `[mismatch]` when matching attractors make "
                          "items ambiguous")
        return Design(sets=sets, controller=tuple(controller), attractors=tuple(dict.fromkeys(attractors)))

    def _agreement(self, categories: set[str]) -> tuple[str | None, list[str]]:
        """The controller marker and the attractor categories (None, [] without ``agreement:``)."""
        ag = self.data.get("agreement")
        if not ag:
            return None, []
        if not isinstance(ag, dict) or "controller" not in ag or set(ag) - AGREEMENT_KEYS:
            self.fail("'agreement' must be `{controller: MARKER, attractors: [CATEGORY, ...]}`", "agreement",
                      fix="mark the agreement controller in a rule, e.g. `N[NUM=?n, CTRL=yes]`, and write "
                          "`agreement: {controller: CTRL, attractors: [N]}`")
        if not isinstance(ag["controller"], str) or not ag["controller"].strip():
            self.fail(f"'agreement.controller' must be a feature name, got {_shown(ag['controller'])}", "agreement",
                      fix="e.g. `agreement: {controller: CTRL}` with `N[NUM=?n, CTRL=yes]` in a rule")
        if not self._feature_used(ag["controller"]):
            self.fail(f"agreement controller marker {ag['controller']} is on no symbol of the rules", "agreement",
                      fix=f"mark the controller in a rule, e.g. `N[NUM=?n, {ag['controller']}=yes]`, or fix the name")
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


__all__ = ["AGREEMENT_KEYS", "ATTRACTOR_CONDITIONS", "CRITICAL_CHOICES", "DESIGN_KEYS", "SET_DESIGNS", "PAIR_KEYS", "TOP_LEVEL_KEYS", "load_grammar", "read_yaml"]
