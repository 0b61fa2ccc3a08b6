"""Rule text: NLTK feature-CFG lines with depthkit's additions (``@ weight``, one line per twin set).

NLTK parses each line; this module strips comments and weights first, keeps every
alternative's line and position, and turns NLTK's feature structures into flat
:class:`~.model.Symbol` s (nested features are refused).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InputError
from .model import Rule, Symbol, Var

WEIGHT_RE = re.compile(r"@\s*(\S+)\s*$")

RuleSource = tuple[str, str, int]  # (rule text, file path, line number of its first line)


def parse_rules(sources: list[RuleSource]) -> tuple[list[Rule], list[str]]:
    """The rules of every source, numbered in order, and the cleaned lines as NLTK reads them."""
    rules: list[Rule] = []
    nltk_lines: list[str] = []
    for text, path, first_line in sources:
        for offset, raw in enumerate(text.splitlines()):
            line_no = first_line + offset
            line = strip_comment(raw).strip()
            if not line:
                continue
            clean, line_rules = _parse_line(line, path, line_no, first_index=len(rules))
            rules.extend(line_rules)
            nltk_lines.append(clean)
    return rules, nltk_lines


def _parse_line(line: str, path: str, line_no: int, *, first_index: int) -> tuple[str, list[Rule]]:
    """One rule line -> (the line without weights, its alternatives as rules)."""
    from nltk.grammar import FeatureGrammar

    if line.startswith("|"):
        raise InputError("a rule line cannot start with '|'", path=path, line=line_no,
                         fix="keep all alternatives of a rule on one line, or repeat the left side")
    halves = split_top(line, "->")
    if len(halves) != 2:
        raise InputError(f"not a rule: {line!r}", path=path, line=line_no,
                         fix="write `LHS -> RHS`, e.g. `NP[NUM=?n] -> Det N[NUM=?n]`")
    lhs_text, rhs_text = halves
    alts, weights = [], []
    for alt in split_top(rhs_text, "|"):
        alt, weight = _split_weight(alt, path, line_no)
        if not alt.strip():
            raise InputError("empty alternative (empty rules are not supported)", path=path, line=line_no,
                             fix="remove the stray '|' or make the constituent optional with two rules")
        alts.append(alt.strip())
        weights.append(weight)
    clean = f"{lhs_text.strip()} -> {' | '.join(alts)}"
    try:
        prods = FeatureGrammar.fromstring(clean).productions()
    except Exception as exc:  # NLTK raises ValueError with a caret diagram
        msg = str(exc).replace("Unable to parse line 1: ", "").strip()
        raise InputError(f"cannot parse rule: {msg}", path=path, line=line_no,
                         fix="rules use NLTK feature-CFG notation: `NP[NUM=?n] -> Det N[NUM=?n]`, words in quotes") from None
    if len(prods) != len(alts):
        raise InputError("could not match the alternatives of this line", path=path, line=line_no,
                         fix="check quoting of '|' characters")
    rules = []
    for alt_i, (prod, weight) in enumerate(zip(prods, weights)):
        lhs = _symbol(prod.lhs(), path, line_no)
        rhs = tuple(_symbol(x, path, line_no) if not isinstance(x, str) else x for x in prod.rhs())
        for word in rhs:
            if isinstance(word, str):
                check_word(word, path, line_no)
        if not rhs:
            raise InputError("empty right-hand side", path=path, line=line_no,
                             fix="every rule needs at least one symbol or word on its right")
        rules.append(Rule(index=first_index + len(rules), lhs=lhs, rhs=rhs, weight=weight, path=path, line=line_no,
                          alt=alt_i, n_alts=len(alts)))
    return clean, rules


def check_word(word: str, path: str, line_no: int) -> None:
    """A word the items can carry: one token, visible, and no bracket of the tree notation."""
    import unicodedata

    if not word.strip() or any(ch.isspace() for ch in word):
        raise InputError(f"word {word!r} is empty or contains a space", path=path, line=line_no,
                         fix="a quoted word is one token without spaces: write 'next' 'to' as two words")
    if "(" in word or ")" in word:
        raise InputError(f"word {word!r} contains a bracket, which the items' trees use for their structure "
                         "(`(NP (Det the) (N cat))`)", path=path, line=line_no,
                         fix="leave '(' and ')' out of words (write -LRB- / -RRB- as Penn Treebank does)")
    hidden = [ch for ch in word if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")]
    if hidden:
        raise InputError(f"word {word!r} contains an invisible or control character (U+{ord(hidden[0]):04X})",
                         path=path, line=line_no, fix="retype the word with visible characters only")


MIN_WEIGHT, MAX_WEIGHT = 1e-9, 1e9  # beyond these, products of weights under- or overflow the counts


def _split_weight(alt: str, path: str, line_no: int) -> tuple[str, float]:
    """An alternative without its trailing ``@ weight``, and the weight (1.0 when none).

    ``@ 0`` marks a parse-only alternative: never generated, but the chart parsers (generate's validity
    check, verify) see it, so a grammar can describe readings it must not produce (see docs/grammars.md).
    """
    m = WEIGHT_RE.search(alt)
    if not m or split_top(alt[: m.start()] + "|", "|")[-1] != "":  # an '@' inside a quoted word is no weight
        return alt, 1.0
    try:
        weight = float(m.group(1))
    except ValueError:
        raise InputError(f"weight {m.group(1)!r} is not a number", path=path, line=line_no,
                         fix="write weights as `@ 0.5` at the end of an alternative (`@ 0`: parse-only)") from None
    if weight != 0 and not MIN_WEIGHT <= weight <= MAX_WEIGHT:
        raise InputError(f"weight {m.group(1)!r} is not 0 or a number between {MIN_WEIGHT:g} and {MAX_WEIGHT:g}",
                         path=path, line=line_no,
                         fix="write weights as `@ 0.5` at the end of an alternative (`@ 0`: parse-only)")
    return alt[: m.start()], weight


def split_top(text: str, sep: str) -> list[str]:
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


def strip_comment(line: str) -> str:
    """The line without a ``#`` comment (a ``#`` inside quotes is a word)."""
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
            raise InputError(f"feature {key} has a nested feature structure", path=path, line=line,
                             fix="depthkit supports flat features (NUM=sg, +CTRL); use one feature per property")
        if isinstance(value, Variable):
            value = Var(str(value.name))
        spec.append((str(key), value))
    if category is None or isinstance(category, Variable):
        raise InputError(f"a symbol has no category: {fs}", path=path, line=line,
                         fix="every nonterminal needs a name before its features, e.g. NP[NUM=sg]")
    return Symbol(str(category), tuple(sorted(spec, key=lambda kv: kv[0])))


def feature_domain(rules: list[Rule] | tuple[Rule, ...], feature: str) -> list[Any]:
    """Every constant value ``feature`` takes in ``rules``, sorted by its text."""
    values = set()
    for rule in rules:
        for sym in (rule.lhs, *rule.rhs):
            if isinstance(sym, Symbol):
                for k, v in sym.spec:
                    if k == feature and not isinstance(v, Var):
                        values.add(v)
    return sorted(values, key=str)


__all__ = ["RuleSource", "WEIGHT_RE", "check_word", "feature_domain", "parse_rules", "split_top", "strip_comment"]
