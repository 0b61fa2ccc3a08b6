"""Grammar files: load, validate, and compile a feature grammar for exact-depth sampling.

A grammar file is YAML with NLTK feature-CFG rule text inside (see docs/grammars.md).
NLTK parses every rule line; this module adds what depthkit needs on top: embedding
categories, the minimal-pair recipe, agreement markers, rule weights and includes, and
checks all of it with errors that name the file, the line and the fix.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Union

import yaml

from .errors import DepthkitError

Value = Union[str, bool, int]

TOP_LEVEL_KEYS = {
    "name", "description", "construction", "version", "start", "embedding", "clauses", "pair",
    "critical", "agreement", "ptb_labels", "include", "rules", "lexicon", "max_words", "notes",
}
PAIR_KEYS = {"target", "flip", "values"}
AGREEMENT_KEYS = {"controller", "attractors"}
CRITICAL_CHOICES = ("target-to-end", "target")
ON_VALUES = (True, "yes", "+", "true", 1)
MAX_STATES = 50_000

_WEIGHT_RE = re.compile(r"@\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Var:
    """A feature variable such as ``?n``."""

    name: str

    def __repr__(self) -> str:
        return self.name


Spec = tuple[tuple[str, Any], ...]  # sorted (feature, value) pairs; value may be a Var


@dataclass(frozen=True)
class Symbol:
    """A nonterminal as written in a rule: category plus (possibly variable) features."""

    category: str
    spec: Spec = ()

    def __str__(self) -> str:
        if not self.spec:
            return self.category
        return f"{self.category}[{', '.join(f'{k}={_fmt(v)}' for k, v in self.spec)}]"


@dataclass(frozen=True)
class Rule:
    """One alternative of one rule line, with where it came from."""

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
    target: str  # marker feature on the node(s) whose feature is flipped
    flip: str  # the feature flipped
    values: tuple[tuple[Any, Any], ...]  # good value -> bad value


@dataclass(frozen=True)
class Grammar:
    """A validated grammar file. Build with :func:`load_grammar`."""

    name: str
    path: str
    sha256: str
    description: str
    construction: str
    start: str
    embedding: frozenset[str]
    clauses: frozenset[str]
    pair: PairSpec | None
    critical: str
    controller: str | None
    attractor_categories: frozenset[str]
    ptb_labels: tuple[tuple[str, str], ...]
    rules: tuple[Rule, ...]
    max_words: int | None = None
    includes: tuple[str, ...] = ()
    rule_text: str = field(default="", repr=False)

    @cached_property
    def compiled(self) -> "CompiledGrammar":
        return compile_grammar(self)

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


# --------------------------------------------------------------------------------------------
# Loading


def shipped_grammar_dirs() -> list[Path]:
    """Folders searched for grammar names: $DEPTHKIT_GRAMMARS, the repo's grammars/, the wheel's copy."""
    here = Path(__file__).resolve().parent
    dirs = [Path(p) for p in os.environ.get("DEPTHKIT_GRAMMARS", "").split(os.pathsep) if p]
    dirs += [here.parent / "grammars", here / "_grammars"]
    return [d for d in dirs if d.is_dir()]


def list_grammar_files() -> list[Path]:
    seen: dict[str, Path] = {}
    for folder in shipped_grammar_dirs():
        for path in sorted(folder.glob("*.yaml")):
            seen.setdefault(path.stem, path)
    return sorted(seen.values(), key=lambda p: p.stem)


def resolve_grammar_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists() or os.sep in str(name_or_path):
        if not path.exists():
            raise DepthkitError("grammar file not found", path=path,
                                fix="give a path to a .yaml grammar or a shipped name (`depthkit grammar list`)")
        if path.is_dir():
            raise DepthkitError("this is a folder, not a grammar file", path=path,
                                fix="give the .yaml file inside it")
        return path
    for candidate in list_grammar_files():
        if candidate.stem == str(name_or_path):
            return candidate
    names = [p.stem for p in list_grammar_files()]
    close = difflib.get_close_matches(str(name_or_path), names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise DepthkitError(f"no grammar named '{name_or_path}'",
                        fix=f"{hint}shipped grammars: {', '.join(names) or '(none found)'}; or give a file path")


def load_grammar(name_or_path: str | Path) -> Grammar:
    """Load and validate a grammar by shipped name or file path.

    Raises :class:`DepthkitError` naming the file, line and fix for anything wrong.
    """
    path = resolve_grammar_path(name_or_path)
    data, key_lines, text = _read_yaml(path)
    grammar = _build(path, data, key_lines, text)
    grammar.compiled  # validates reachability, productivity, recursion and the pair recipe
    return grammar


def _read_yaml(path: Path) -> tuple[dict, dict[str, tuple[int, int]], str]:
    raw = path.read_bytes()
    if not raw.strip():
        raise DepthkitError("the grammar file is empty", path=path,
                            fix="start from docs/grammars.md or copy a shipped grammar (`depthkit grammar list`)")
    if b"\x00" in raw:
        raise DepthkitError("this is a binary file, not a YAML grammar", path=path,
                            fix="grammar files are plain-text YAML (see docs/grammars.md)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DepthkitError(f"not UTF-8 text (byte {exc.start})", path=path, fix="save the file as UTF-8") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise DepthkitError(f"YAML syntax error: {problem}", path=path,
                            line=(mark.line + 1) if mark else None,
                            fix="check indentation and quoting there; rule text goes in a block (`rules: |`)") from None
    if not isinstance(data, dict):
        raise DepthkitError("a grammar file must be a YAML mapping (name:, start:, rules:, …)", path=path, line=1,
                            fix="see docs/grammars.md for the keys")
    key_lines: dict[str, tuple[int, int]] = {}
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            # (line of the key, line where a block scalar's text starts), 1-based
            first = vnode.start_mark.line + 1
            if isinstance(vnode, yaml.ScalarNode) and vnode.style in ("|", ">"):
                first += 1
            key_lines[str(knode.value)] = (knode.start_mark.line + 1, first)
    return data, key_lines, text


def _build(path: Path, data: dict, key_lines: dict[str, tuple[int, int]], text: str) -> Grammar:
    def line_of(key: str) -> int | None:
        return key_lines.get(key, (None, None))[0]

    def fail(message: str, key: str | None = None, fix: str | None = None, line: int | None = None):
        raise DepthkitError(message, path=path, line=line or (line_of(key) if key else None), fix=fix)

    for key in data:
        if key not in TOP_LEVEL_KEYS:
            close = difflib.get_close_matches(str(key), sorted(TOP_LEVEL_KEYS), n=1)
            fail(f"unknown key '{key}'", key,
                 fix=(f"did you mean '{close[0]}'? " if close else "") + f"valid keys: {', '.join(sorted(TOP_LEVEL_KEYS))}")
    for key in ("name", "embedding", "rules"):
        if key not in data:
            fail(f"missing required key '{key}'", None,
                 fix={"name": "add `name: my-grammar` (letters, digits, dashes)",
                      "embedding": "add `embedding: [RC]` listing the categories whose nesting counts as depth",
                      "rules": "add `rules: |` followed by NLTK feature-CFG rules, one per line"}[key])
    name = data["name"]
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        fail(f"name must be a simple identifier, got {name!r}", "name", fix="use letters, digits, '-', '_' (e.g. object-rc)")

    # Rule text from the file and its includes, each line tagged with its origin.
    sources: list[tuple[str, str, int]] = []  # (text, path, first line)
    includes: list[str] = []
    for key in ("rules", "lexicon"):
        if key in data:
            if not isinstance(data[key], str):
                fail(f"'{key}' must be a block of rule text", key, fix=f"write `{key}: |` and the rules indented below it")
            sources.append((data[key], str(path), key_lines[key][1]))
    inc = data.get("include", [])
    if isinstance(inc, str):
        inc = [inc]
    if not isinstance(inc, list):
        fail("'include' must be a list of file paths", "include", fix="e.g. `include: [shared/lexicon-en.yaml]`")
    for entry in inc:
        inc_path = (path.parent / str(entry)).resolve()
        if not inc_path.exists():
            fail(f"included file '{entry}' not found (looked at {inc_path})", "include",
                 fix="paths in include are relative to the grammar file")
        inc_data, inc_lines, _ = _read_yaml(inc_path)
        bad = set(inc_data) - {"rules", "lexicon", "description", "notes"}
        if bad:
            raise DepthkitError(f"an included file may only have rules/lexicon/description, found {sorted(bad)}",
                                path=inc_path, line=1, fix="move those keys into the grammar that includes it")
        for key in ("rules", "lexicon"):
            if key in inc_data:
                sources.append((str(inc_data[key]), str(inc_path), inc_lines[key][1]))
        includes.append(str(entry))

    rules, nltk_lines = _parse_rules(sources)
    if not rules:
        fail("no rules found", "rules", fix="write rules like `S -> NP VP`, one per line, under `rules: |`")

    start = data.get("start", "S")
    categories = {r.lhs.category for r in rules}
    if start not in categories:
        fail(f"start symbol '{start}' has no rule", "start",
             fix=f"add a rule `{start} -> …` or set start: to one of {', '.join(sorted(categories))}")

    embedding = data["embedding"]
    if isinstance(embedding, str):
        embedding = [embedding]
    if not isinstance(embedding, list) or not embedding:
        fail("'embedding' must be a non-empty list of categories", "embedding", fix="e.g. `embedding: [RC]`")
    for cat in embedding:
        if cat not in categories:
            close = difflib.get_close_matches(str(cat), sorted(categories), n=1)
            fail(f"embedding category '{cat}' has no rule", "embedding",
                 fix=(f"did you mean '{close[0]}'? " if close else "") + "list categories that appear on the left of a rule")
    clauses = data.get("clauses", None)
    clauses = set(embedding) | {start} if clauses is None else set(clauses)

    pair = None
    if "pair" in data and data["pair"] is not None:
        p = data["pair"]
        if not isinstance(p, dict):
            fail("'pair' must be a mapping with target: and flip:", "pair", fix="e.g. `pair: {target: TARGET, flip: NUM}`")
        for key in p:
            if key not in PAIR_KEYS:
                fail(f"unknown key 'pair.{key}'", "pair", fix=f"valid keys: {', '.join(sorted(PAIR_KEYS))}")
        if "target" not in p or "flip" not in p:
            fail("'pair' needs target: (the marker feature on the node to change) and flip: (the feature to flip)",
                 "pair", fix="e.g. `pair: {target: TARGET, flip: NUM}` with `IV[NUM=?n, TARGET=yes]` in a rule")
        values = p.get("values")
        domain = _feature_domain(rules, p["flip"])
        if values is None:
            if len(domain) != 2:
                fail(f"feature {p['flip']} takes {len(domain)} values ({', '.join(map(_fmt, domain)) or 'none'}), "
                     "so the flip is not obvious", "pair",
                     fix="add `values: {a: b, b: a}` under pair: saying which value replaces which")
            a, b = sorted(domain, key=str)
            values = {a: b, b: a}
        if not isinstance(values, dict):
            fail("'pair.values' must map each good value to its bad value", "pair", fix="e.g. `values: {sg: pl, pl: sg}`")
        pair = PairSpec(target=str(p["target"]), flip=str(p["flip"]),
                        values=tuple(sorted(((k, v) for k, v in values.items()), key=lambda kv: str(kv[0]))))

    critical = data.get("critical", "target-to-end")
    if critical not in CRITICAL_CHOICES:
        fail(f"critical must be one of {', '.join(CRITICAL_CHOICES)}, got {critical!r}", "critical",
             fix="target-to-end scores the changed word(s) and everything after them (recommended)")
    controller = None
    attractor_categories: list[str] = []
    if data.get("agreement"):
        ag = data["agreement"]
        if not isinstance(ag, dict) or "controller" not in ag or set(ag) - AGREEMENT_KEYS:
            fail("'agreement' must be `{controller: MARKER, attractors: [CATEGORY, ...]}`", "agreement",
                 fix="mark the agreement controller in a rule, e.g. `N[NUM=?n, CTRL=yes]`, and write "
                     "`agreement: {controller: CTRL, attractors: [N]}`")
        controller = str(ag["controller"])
        attractor_categories = ag.get("attractors", [])
        if isinstance(attractor_categories, str):
            attractor_categories = [attractor_categories]
        if not isinstance(attractor_categories, list):
            fail("'agreement.attractors' must be a list of noun categories", "agreement", fix="e.g. `attractors: [N, NL]`")
        for cat in attractor_categories:
            if cat not in categories:
                close = difflib.get_close_matches(str(cat), sorted(categories), n=1)
                fail(f"attractor category '{cat}' has no rule", "agreement",
                     fix=(f"did you mean '{close[0]}'? " if close else "")
                     + "list noun categories this grammar defines (" + ", ".join(sorted(categories)) + ")")
    ptb = data.get("ptb_labels", {}) or {}
    if not isinstance(ptb, dict):
        fail("'ptb_labels' must map categories to Penn Treebank labels", "ptb_labels", fix="e.g. `ptb_labels: {RC: SBAR}`")
    max_words = data.get("max_words")
    if max_words is not None and (not isinstance(max_words, int) or max_words < 1):
        fail("max_words must be a positive integer", "max_words", fix="e.g. `max_words: 40`")

    return Grammar(
        name=name, path=str(path), sha256=hashlib.sha256(text.encode()).hexdigest(),
        description=str(data.get("description", "")).strip(), construction=str(data.get("construction", name)),
        start=start, embedding=frozenset(embedding), clauses=frozenset(clauses), pair=pair, critical=critical,
        controller=controller, attractor_categories=frozenset(attractor_categories), ptb_labels=tuple(sorted((str(k), str(v)) for k, v in ptb.items())),
        rules=tuple(rules), max_words=max_words, includes=tuple(includes), rule_text="\n".join(nltk_lines),
    )


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside quotes and brackets."""
    parts, depth, quote, cur = [], 0, None, []
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            cur.append(ch)
            if ch == "\\" and i + 1 < len(text):
                cur.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            cur.append(ch)
        elif ch in "[(":
            depth += 1
            cur.append(ch)
        elif ch in "])":
            depth -= 1
            cur.append(ch)
        elif depth == 0 and text.startswith(sep, i):
            parts.append("".join(cur))
            cur = []
            i += len(sep)
            continue
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def _parse_rules(sources: list[tuple[str, str, int]]) -> tuple[list[Rule], list[str]]:
    from nltk.grammar import FeatureGrammar

    rules: list[Rule] = []
    nltk_lines: list[str] = []
    for text, path, first_line in sources:
        for offset, raw in enumerate(text.splitlines()):
            line_no = first_line + offset
            line = _strip_comment(raw).strip()
            if not line:
                continue
            if line.startswith("|"):
                raise DepthkitError("a rule line cannot start with '|'", path=path, line=line_no,
                                    fix="keep all alternatives of a rule on one line, or repeat the left side")
            halves = _split_top(line, "->")
            if len(halves) != 2:
                raise DepthkitError(f"not a rule: {line!r}", path=path, line=line_no,
                                    fix="write `LHS -> RHS`, e.g. `NP[NUM=?n] -> Det N[NUM=?n]`")
            lhs_text, rhs_text = halves
            alts, weights = [], []
            for alt in _split_top(rhs_text, "|"):
                m = _WEIGHT_RE.search(alt)
                weight = 1.0
                if m:
                    try:
                        weight = float(m.group(1))
                    except ValueError:
                        weight = -1.0
                    if not weight > 0:
                        raise DepthkitError(f"weight {m.group(1)!r} is not a positive number", path=path, line=line_no,
                                            fix="write weights as `@ 0.5` at the end of an alternative")
                    alt = alt[: m.start()]
                if not alt.strip():
                    raise DepthkitError("empty alternative (empty rules are not supported)", path=path, line=line_no,
                                        fix="remove the stray '|' or make the constituent optional with two rules")
                alts.append(alt.strip())
                weights.append(weight)
            clean = f"{lhs_text.strip()} -> {' | '.join(alts)}"
            try:
                prods = FeatureGrammar.fromstring(clean).productions()
            except Exception as exc:  # NLTK raises ValueError with a caret diagram
                msg = str(exc).replace("Unable to parse line 1: ", "").strip()
                raise DepthkitError(f"cannot parse rule: {msg}", path=path, line=line_no,
                                    fix="rules use NLTK feature-CFG notation: `NP[NUM=?n] -> Det N[NUM=?n]`, words in quotes") from None
            if len(prods) != len(alts):
                raise DepthkitError("could not match the alternatives of this line", path=path, line=line_no,
                                    fix="check quoting of '|' characters")
            for alt_i, (prod, weight) in enumerate(zip(prods, weights)):
                lhs = _symbol(prod.lhs(), path, line_no)
                rhs = tuple(_symbol(x, path, line_no) if not isinstance(x, str) else x for x in prod.rhs())
                for word in rhs:
                    if isinstance(word, str) and (not word.strip() or any(ch.isspace() for ch in word)):
                        raise DepthkitError(f"word {word!r} is empty or contains a space", path=path, line=line_no,
                                            fix="a quoted word is one token without spaces: write 'next' 'to' "
                                                "as two words")
                if not rhs:
                    raise DepthkitError("empty right-hand side", path=path, line=line_no,
                                        fix="every rule needs at least one symbol or word on its right")
                rules.append(Rule(index=len(rules), lhs=lhs, rhs=rhs, weight=weight, path=path, line=line_no,
                                  alt=alt_i, n_alts=len(alts)))
            nltk_lines.append(clean)
    return rules, nltk_lines


def _symbol(fs, path: str, line: int) -> Symbol:
    from nltk.featstruct import Feature, FeatStruct
    from nltk.sem.logic import Variable

    category = None
    spec = []
    for key, value in fs.items():
        if isinstance(key, Feature):
            category = value
            continue
        if isinstance(value, FeatStruct):
            raise DepthkitError(f"feature {key} has a nested feature structure", path=path, line=line,
                                fix="depthkit supports flat features (NUM=sg, +CTRL); use one feature per property")
        if isinstance(value, Variable):
            value = Var(str(value.name))
        spec.append((str(key), value))
    if category is None or isinstance(category, Variable):
        raise DepthkitError(f"a symbol has no category: {fs}", path=path, line=line,
                            fix="every nonterminal needs a name before its features, e.g. NP[NUM=sg]")
    return Symbol(str(category), tuple(sorted(spec, key=lambda kv: kv[0])))


def _feature_domain(rules: list[Rule] | tuple[Rule, ...], feature: str) -> list[Any]:
    values = set()
    for rule in rules:
        for sym in (rule.lhs, *rule.rhs):
            if isinstance(sym, Symbol):
                for k, v in sym.spec:
                    if k == feature and not isinstance(v, Var):
                        values.add(v)
    return sorted(values, key=str)


def _fmt(v: Any) -> str:
    if v is True:
        return "+"
    if v is False:
        return "-"
    return str(v)


def is_on(value: Any) -> bool:
    """Whether a marker feature's value means "this node is marked"."""
    return value in ON_VALUES


# --------------------------------------------------------------------------------------------
# Compilation: ground the feature grammar into a CFG over fully specified states


@dataclass
class CompiledGrammar:
    """The grammar as ground rules per state, reachable from the start symbol."""

    grammar: Grammar
    root: State
    rules_for: dict[State, list[GroundRule]]
    order: list[State]  # discovery order (deterministic)
    by_category: dict[str, list[Rule]]
    domains: dict[str, list[Any]]

    def is_embedding(self, state: State) -> bool:
        return state.category in self.grammar.embedding

    def ground(self, state: State) -> list[GroundRule]:
        """Ground rules for any requirement, also one the start symbol never reaches (pair twins)."""
        if state not in self.rules_for:
            grounds: list[GroundRule] = []
            for rule in self.by_category.get(state.category, []):
                grounds.extend(_expand(state, rule, self.domains))
            return grounds
        return self.rules_for[state]


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


def _expand(state: State, rule: Rule, domains: dict[str, list[Any]]) -> list[GroundRule]:
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


def compile_grammar(grammar: Grammar) -> CompiledGrammar:
    """Ground the grammar from its start symbol and check it can be sampled.

    Checks: every category used is defined; categories defined in the grammar file are
    reachable; every reachable requirement has a rule; every state can finish (no
    recursion that never terminates); no unary cycles; the embedding categories are used
    and can nest; the pair recipe matches a node and every marked word has a twin.
    """
    path = grammar.path
    by_cat: dict[str, list[Rule]] = defaultdict(list)
    for rule in grammar.rules:
        by_cat[rule.lhs.category].append(rule)
    for rule in grammar.rules:
        for sym in rule.rhs:
            if isinstance(sym, Symbol) and sym.category not in by_cat:
                close = difflib.get_close_matches(sym.category, sorted(by_cat), n=1)
                raise DepthkitError(
                    f"'{sym.category}' is used in `{rule}` but no rule defines it", path=rule.path, line=rule.line,
                    fix=(f"did you mean '{close[0]}'? " if close else "") + f"add a rule `{sym.category} -> …` or a lexicon entry")
    domains: dict[str, list[Any]] = {}
    for rule in grammar.rules:
        for sym in (rule.lhs, *rule.rhs):
            if isinstance(sym, Symbol):
                for k, v in sym.spec:
                    if not isinstance(v, Var) and v not in domains.setdefault(k, []):
                        domains[k].append(v)
    for k in domains:
        domains[k].sort(key=str)

    _check_clashes(grammar, by_cat)
    root = State(grammar.start)
    rules_for: dict[State, list[GroundRule]] = {}
    order: list[State] = []
    queue = [root]
    while queue:
        state = queue.pop(0)
        if state in rules_for:
            continue
        grounds: list[GroundRule] = []
        for rule in by_cat[state.category]:
            grounds.extend(_expand(state, rule, domains))
        # A requirement no rule fits (e.g. Coord[NUM=sg] when coordinations are plural) is a
        # dead branch of a feature variable, not an error: it simply has no derivations.
        rules_for[state] = grounds
        order.append(state)
        if len(rules_for) > MAX_STATES:
            raise DepthkitError(f"the grammar grounds to more than {MAX_STATES} feature combinations", path=path,
                                fix="use fewer free feature variables, or fewer values per feature")
        for g in grounds:
            for child in g.children:
                if isinstance(child, State) and child not in rules_for:
                    queue.append(child)

    reached = {s.category for s in rules_for}
    for rule in grammar.rules:
        if rule.path == grammar.path and rule.lhs.category not in reached:
            raise DepthkitError(f"'{rule.lhs.category}' is defined but can never be reached from start symbol "
                                f"'{grammar.start}'", path=rule.path, line=rule.line,
                                fix=f"use {rule.lhs.category} in a rule reachable from {grammar.start}, or delete this rule")
    for cat in sorted(grammar.embedding):
        if cat not in reached:
            raise DepthkitError(f"embedding category '{cat}' is never reached from '{grammar.start}'", path=path,
                                fix="list in embedding: a category that the rules actually use")

    # Productivity: which states can derive a finite string?
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
    for category in sorted({s.category for s in order}, key=lambda c: [s.category for s in order].index(c)):
        if category != grammar.start and not any(s in productive for s in order if s.category == category):
            rule = by_cat[category][0]
            raise DepthkitError(
                f"{category} can never finish: every rule for it uses a symbol that never ends in words "
                f"(recursion that never terminates)", path=rule.path, line=rule.line,
                fix=f"give {category} a way out: a rule that does not lead back to {category}")
    if root not in productive:
        raise DepthkitError(f"the start symbol {grammar.start} derives no sentence", path=path,
                            fix="check the feature values required by the start rules")
    # Drop dead branches so the sampler and the pair twins only see usable rules.
    for state in order:
        rules_for[state] = [g for g in rules_for[state]
                            if all(isinstance(c, str) or c in productive for c in g.children)]
    order = [s for s in order if s in productive]
    rules_for = {s: rules_for[s] for s in order}
    _check_embedding_recursion(grammar, rules_for, order)
    # Unary cycles (A -> B -> A) give infinitely many derivations of the same words.
    unary = {s: [g.children[0] for g in gs if len(g.children) == 1 and isinstance(g.children[0], State)]
             for s, gs in rules_for.items()}
    _check_unary_cycles(unary, rules_for)

    compiled = CompiledGrammar(grammar=grammar, root=root, rules_for=rules_for, order=order,
                                by_category=dict(by_cat), domains=domains)
    if grammar.pair is not None:
        _check_pair(compiled)
    return compiled


def _uneven_twin_line(compiled: CompiledGrammar, rule: Rule, flip: str) -> Rule | None:
    """A rule of the same category and shape but another flip value, on a line with another length."""
    def shape(r: Rule) -> tuple:
        return (tuple((k, v) for k, v in r.lhs.spec if k != flip), tuple("*" if isinstance(x, str) else x.category
                                                                          for x in r.rhs))
    for other in compiled.by_category.get(rule.lhs.category, []):
        if other.line != rule.line and shape(other) == shape(rule) and other.n_alts != rule.n_alts \
                and dict(other.lhs.spec).get(flip) != dict(rule.lhs.spec).get(flip):
            return other
    return None


def _compatible(a: Spec, b: Spec) -> bool:
    """Whether two written specs can unify (variables match anything)."""
    bd = dict(b)
    return all(k not in bd or isinstance(v, Var) or isinstance(bd[k], Var) or bd[k] == v for k, v in a)


def _check_clashes(grammar: Grammar, by_cat: dict[str, list[Rule]]) -> None:
    for rule in grammar.rules:
        for sym in rule.rhs:
            if isinstance(sym, Symbol) and not any(_compatible(sym.spec, r.lhs.spec) for r in by_cat[sym.category]):
                offered = sorted({str(r.lhs) for r in by_cat[sym.category]})
                raise DepthkitError(
                    f"feature clash: `{rule}` requires {sym} but no rule for {sym.category} fits it "
                    f"(rules give: {'; '.join(offered)})", path=rule.path, line=rule.line,
                    fix="make the feature values agree, or add the missing rule or lexicon entry")


def _check_embedding_recursion(grammar: Grammar, rules_for: dict[State, list[GroundRule]], order: list[State]) -> None:
    """Depth above 1 needs an embedding node that can contain another one."""
    def below(state: State) -> set[State]:
        seen: set[State] = set()
        stack = [c for g in rules_for[state] for c in g.children if isinstance(c, State)]
        while stack:
            s = stack.pop()
            if s not in seen:
                seen.add(s)
                stack.extend(c for g in rules_for[s] for c in g.children if isinstance(c, State))
        return seen

    embedding_states = [s for s in order if s.category in grammar.embedding]
    if not any(t.category in grammar.embedding for s in embedding_states for t in below(s)):
        cats = ", ".join(sorted(grammar.embedding))
        rule = next(r for r in grammar.rules if r.lhs.category in grammar.embedding)
        raise DepthkitError(f"embedding category {cats} never contains another embedding node, so depth stops at 1",
                            path=rule.path, line=rule.line,
                            fix=f"let {cats} contain itself somewhere below it (e.g. an RC inside the RC's noun phrase)")


def _check_unary_cycles(unary: dict[State, list[State]], rules_for: dict[State, list[GroundRule]]) -> None:
    color: dict[State, int] = {}

    def visit(s: State, stack: list[State]) -> None:
        color[s] = 1
        for t in unary.get(s, []):
            if color.get(t) == 1:
                cycle = stack[stack.index(t):] + [t] if t in stack else [s, t]
                rule = rules_for[s][0].rule
                raise DepthkitError("unary cycle " + " -> ".join(x.category for x in cycle)
                                    + ": the same words would have infinitely many trees", path=rule.path, line=rule.line,
                                    fix="remove one of the single-symbol rules in that cycle")
            if color.get(t) is None:
                visit(t, stack + [t])
        color[s] = 2

    for s in list(unary):
        if color.get(s) is None:
            visit(s, [s])


def _check_pair(compiled: CompiledGrammar) -> None:
    from .pairs import flip_state, twin_rules  # local: pairs imports this module

    grammar = compiled.grammar
    pair = grammar.pair
    marked = [s for s in compiled.order if is_on(s.get(pair.target))]
    if not marked:
        marked_nodes = [g for gs in compiled.rules_for.values() for g in gs if is_on(g.node.get(pair.target))]
        if not marked_nodes:
            raise DepthkitError(
                f"pair: no reachable node carries the marker {pair.target}", path=grammar.path,
                fix=f"mark the node to change in a rule, e.g. `VP[NUM=?n] -> IV[NUM=?n, {pair.target}=yes]`")
        marked = sorted({g.state for g in marked_nodes}, key=compiled.order.index)
    for state in marked:
        for g in compiled.rules_for[state]:
            if not is_on(g.node.get(pair.target)):
                continue
            if g.node.get(pair.flip) is None:
                raise DepthkitError(f"pair: the marked node {g.node} has no {pair.flip} feature to flip",
                                    path=g.rule.path, line=g.rule.line,
                                    fix=f"give the marked node a {pair.flip} value (e.g. {pair.flip}=?n)")
            flipped = flip_state(g.node, pair)
            if flipped is None:
                raise DepthkitError(f"pair: {pair.flip}={_fmt(g.node.get(pair.flip))} has no flip in pair.values",
                                    path=grammar.path, fix="add it to pair.values")
            if not twin_rules(compiled, g, flipped):
                uneven = _uneven_twin_line(compiled, g.rule, pair.flip)
                if uneven is not None:
                    raise DepthkitError(
                        f"pair: twin lines differ in length: this line has {g.rule.n_alts} alternatives, its "
                        f"{pair.flip} twin at {uneven.where} has {uneven.n_alts}", path=g.rule.path, line=g.rule.line,
                        fix="twin lines must list the same number of words in the same order")
                raise DepthkitError(
                    f"pair: `{g.rule}` has no twin with {pair.flip}={_fmt(flipped.get(pair.flip))}",
                    path=g.rule.path, line=g.rule.line,
                    fix="add the matching entry at the same position in the twin line "
                        f"(e.g. the {pair.flip}={_fmt(flipped.get(pair.flip))} line of {g.rule.lhs.category})")
