"""Build the broken-input corpus: grammar files and pipeline folders, each broken in ONE way.

Run from the repository root: ``PYTHONPATH=$PWD python tests/data/broken/build.py [--grammars]``. It rewrites
``grammars/`` and ``pipeline/`` next to this file. Every case states the words its error message must
contain (``expect``); tests/test_hostile_inputs.py runs each through the CLI and checks the message,
the exit code (2), the file named and the fix. ``messages.json`` holds the exact first line each case
produces (``python -m tests.test_hostile_inputs --freeze`` rewrites it after an intended change).

Some cases need a file that cannot live in git (a 3 MB include, a named pipe): the case says
``# setup: NAME`` and the test makes the file next to the copied case (see ``SETUPS`` in the test).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

BASE = """\
name: tiny-rc
construction: tiny object RCs (test grammar)
start: S
embedding: [RC]
pair: {target: TARGET, flip: NUM}
agreement: {controller: CTRL}
may_repeat: [N, TV]
rules: |
  S -> NP[NUM=?n, CTRL=yes] VP[NUM=?n]
  NP[NUM=?n, CTRL=?c] -> Det N[NUM=?n, CTRL=?c] | Det N[NUM=?n, CTRL=?c] RC
  RC -> Comp NP[NUM=?m, CTRL=no] TV[NUM=?m]
  VP[NUM=?n] -> IV[NUM=?n, TARGET=yes]
lexicon: |
  Det -> 'the'
  Comp -> 'that'
  N[NUM=sg] -> 'author' | 'pilot'
  N[NUM=pl] -> 'authors' | 'pilots'
  TV[NUM=sg] -> 'sees'
  TV[NUM=pl] -> 'see'
  IV[NUM=sg] -> 'laughs'
  IV[NUM=pl] -> 'laugh'
"""


def sub(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def drop(line: str) -> str:
    return sub(line + "\n", "")


def explode(n_features: int, n_values: int) -> str:
    feats = [f"F{i}" for i in range(n_features)]
    link = ", ".join(f"{f}=?{f.lower()}" for f in feats)
    lex = "\n".join(f"  X[{f}=v{v}] -> 'x{f.lower()}v{v}'" for f in feats for v in range(n_values))
    return (f"name: explode\nembedding: [S]\nrules: |\n  S -> X[{link}] Y[{link}]\n  S -> 'a' S 'b'\n"
            f"  Y[{link}] -> 'y'\nlexicon: |\n{lex}\n")


def explode_chain(n_values: int) -> str:
    """Each rule under the per-rule limit, the states they make multiply level by level."""
    lex = "\n".join(f"  W[{f}=v{v}] -> 'w{f.lower()}{v}'" for f in ("F", "G", "H") for v in range(n_values))
    return ("name: explode-chain\nembedding: [S]\nrules: |\n"
            "  S -> A[F=?f, G=?g, H=?h] W[F=?f, G=?g, H=?h] | 'a' S\n"
            "  A[F=?f, G=?g, H=?h] -> B[F=?f, G=?g, H=?h, I=?f, J=?g] W[F=?f, G=?g, H=?h]\n"
            "  B[F=?f, G=?g, H=?h, I=?i, J=?j] -> W[F=?f] W[G=?g] W[H=?h]\n"
            f"lexicon: |\n{lex}\n")


def explode_ground(n_values: int) -> str:
    """Few states, but each alternative of S grounds to n_values**2 rules."""
    lex = "\n".join(f"  {c}[{f}=v{v}] -> '{c.lower()}{f.lower()}{v}'" for c in "XY" for f in "FGH" for v in range(n_values))
    alts = " | ".join(f"X[{a}=?a] Y[{a}=?a] X[{b}=?b] Y[{b}=?b]" for a, b in (("F", "G"), ("G", "H"), ("F", "H")))
    return f"name: explode-ground\nembedding: [S]\nrules: |\n  S -> {alts} | 'a' S\nlexicon: |\n{lex}\n"


BOMB = "name: bomb\nnotes:\n" + "".join(
    f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" if i else "  l0: &l0 [lol]\n" for i in range(11)) + \
    "description: *l10\n" + BASE.replace("name: tiny-rc\nconstruction: tiny object RCs (test grammar)\n", "")
BOMB_MANY = BASE + "notes: &n [x]\n" + "".join(f"n{i}: *n\n" for i in range(120))

# name -> (file text, expected words); `# setup:` and include helpers live in inc/
GRAMMARS: dict[str, tuple[str, str]] = {
    # --- YAML level
    "yaml-tab-indent": (sub("  S -> NP", "\tS -> NP"), "YAML syntax error"),
    "yaml-unclosed-quote": (sub("construction: tiny", 'construction: "tiny'), "YAML syntax error"),
    "yaml-bad-indent": (sub("start: S\n", "start: S\n   embedding2: x\n"), "YAML syntax error"),
    "yaml-duplicate-pair": (sub("agreement:", "pair: {target: TARGET, flip: CTRL}\nagreement:"), "appears twice"),
    "yaml-duplicate-rules": (BASE + "rules: |\n  S -> 'x'\n", "appears twice"),
    "yaml-duplicate-nested": (sub("pair: {target: TARGET, flip: NUM}", "pair: {target: TARGET, flip: NUM, flip: CTRL}"),
                              "appears twice"),
    "yaml-alias-bomb": (BOMB, "'description' must be text"),
    "yaml-alias-many": (BOMB_MANY, "aliases"),
    "yaml-top-list": ("- name: tiny\n- rules: x\n", "must be a YAML mapping"),
    "yaml-top-scalar": ("just some words\n", "must be a YAML mapping"),
    "yaml-empty": ("", "empty"),
    "yaml-only-comment": ("# nothing here\n", "empty"),
    "yaml-binary": ("name: tiny\x00\x01\x02\n", "binary"),
    "yaml-multi-document": (BASE + "---\nname: other\n", "YAML syntax error"),
    "yaml-key-is-list": ("[a, b]: c\n" + BASE, "key is itself a list"),
    "yaml-undefined-alias": (sub("start: S", "start: *nowhere"), "YAML syntax error"),
    "yaml-python-tag": (sub("start: S", "start: !!python/object:os.system x"), "YAML syntax error"),
    "yaml-null-key": (sub("start: S", "~: S"), "unknown key"),
    "yaml-numeric-key": (sub("start: S", "12: S"), "unknown key"),
    # --- field types
    "type-start-list": (sub("start: S", "start: [S]"), "start"),
    "type-start-number": (sub("start: S", "start: 5"), "start"),
    "type-start-mapping": (sub("start: S", "start: {S: 1}"), "start"),
    "type-name-list": (sub("name: tiny-rc", "name: [tiny]"), "name must be"),
    "type-name-number": (sub("name: tiny-rc", "name: 12"), "name must be"),
    "type-name-space": (sub("name: tiny-rc", "name: tiny rc"), "name must be"),
    "type-embedding-number": (sub("embedding: [RC]", "embedding: 5"), "embedding"),
    "type-embedding-mapping": (sub("embedding: [RC]", "embedding: {RC: 1}"), "embedding"),
    "type-embedding-empty": (sub("embedding: [RC]", "embedding: []"), "embedding"),
    "type-embedding-nested": (sub("embedding: [RC]", "embedding: [[RC]]"), "embedding"),
    "type-clauses-number": (sub("start: S", "start: S\nclauses: 5"), "clauses"),
    "type-clauses-unknown": (sub("start: S", "start: S\nclauses: [Nope]"), "clauses"),
    "type-critical-number": (sub("start: S", "start: S\ncritical: 5"), "critical"),
    "type-critical-list": (sub("start: S", "start: S\ncritical: [target]"), "critical"),
    "type-critical-marker-number": (sub("start: S", "start: S\ncritical: {marker: 3}"), "critical"),
    "type-agreement-list": (sub("agreement: {controller: CTRL}", "agreement: [CTRL]"), "agreement"),
    "type-agreement-controller-list": (sub("agreement: {controller: CTRL}", "agreement: {controller: [CTRL]}"),
                                       "agreement"),
    "type-attractors-number": (sub("agreement: {controller: CTRL}", "agreement: {controller: CTRL, attractors: 5}"),
                               "attractors"),
    "type-ptb-list": (sub("start: S", "start: S\nptb_labels: [S]"), "ptb_labels"),
    "type-ptb-value-list": (sub("start: S", "start: S\nptb_labels: {S: [S]}"), "ptb_labels"),
    "type-include-number": (sub("start: S", "start: S\ninclude: 5"), "include"),
    "type-include-mapping": (sub("start: S", "start: S\ninclude: {a: b}"), "include"),
    "type-include-nested": (sub("start: S", "start: S\ninclude: [[a]]"), "include"),
    "type-rules-list": (sub("rules: |\n", "rules: [a, b]\nx: |\n"), "rules"),
    "type-rules-number": ("name: tiny\nembedding: [RC]\nrules: 5\n", "rules"),
    "type-lexicon-mapping": (BASE.split("lexicon:")[0] + "lexicon: {Det: the}\n", "lexicon"),
    "type-max-words-true": (sub("start: S", "start: S\nmax_words: true"), "max_words"),
    "type-max-words-zero": (sub("start: S", "start: S\nmax_words: 0"), "max_words"),
    "type-max-words-negative": (sub("start: S", "start: S\nmax_words: -3"), "max_words"),
    "type-max-words-text": (sub("start: S", "start: S\nmax_words: '20'"), "max_words"),
    "type-max-words-float": (sub("start: S", "start: S\nmax_words: 2.5"), "max_words"),
    "type-max-words-too-small": (sub("start: S", "start: S\nmax_words: 2"), "max_words"),
    "type-description-list": (sub("start: S", "start: S\ndescription: [a, b]"), "description"),
    "type-construction-list": (sub("construction: tiny object RCs (test grammar)", "construction: [a]"),
                               "construction"),
    "type-version-list": (sub("start: S", "start: S\nversion: [1]"), "version"),
    "type-design-list": (sub("start: S", "start: S\ndesign: [ladder]"), "design"),
    "type-design-sets-number": (sub("start: S", "start: S\ndesign: {sets: 5}"), "design.sets"),
    "type-design-controller-text": (sub("start: S", "start: S\ndesign: {controller: sg}"), "design.controller"),
    "type-design-attractors-text": (sub("start: S", "start: S\ndesign: {attractors: match}"), "design.attractors"),
    "type-design-unknown-key": (sub("start: S", "start: S\ndesign: {set: ladder}"), "did you mean 'sets'"),
    "type-may-repeat-number": (sub("may_repeat: [N, TV]", "may_repeat: 5"), "may_repeat"),
    "type-may-repeat-nested": (sub("may_repeat: [N, TV]", "may_repeat: [[N]]"), "may_repeat"),
    "type-unknown-key": (sub("start: S", "start: S\nrulez: x"), "did you mean"),
    "type-missing-name": (drop("name: tiny-rc"), "missing required key 'name'"),
    "type-missing-embedding": (drop("embedding: [RC]"), "missing required key 'embedding'"),
    "type-missing-rules": ("name: tiny\nembedding: [RC]\n", "missing required key 'rules'"),
    # --- rules
    "rule-no-arrow": (sub("RC -> Comp", "RC Comp"), "not a rule"),
    "rule-starts-with-bar": (sub("  VP[NUM=?n]", "  | VP[NUM=?n]"), "cannot start with '|'"),
    "rule-empty-alternative": (sub("TV[NUM=sg] -> 'sees'", "TV[NUM=sg] -> 'sees' |"), "empty alternative"),
    "rule-undefined-category": (sub("RC -> Comp NP", "RC -> Rel NP"), "Rel"),
    "rule-start-undefined": (sub("start: S", "start: Top"), "start symbol 'Top' has no rule"),
    "rule-unbalanced-bracket": (sub("VP[NUM=?n] -> IV", "VP[NUM=?n -> IV"), "not a rule"),
    "rule-nested-feature": (sub("TV[NUM=sg] -> 'sees'", "TV[AGR=[NUM=sg]] -> 'sees'"), "nested feature"),
    "rule-no-category": (sub("Comp -> 'that'", "[NUM=sg] -> 'that'"), "has no category"),
    "rule-word-with-space": (sub("Comp -> 'that'", "Comp -> 'that one'"), "contains a space"),
    "rule-empty-word": (sub("Comp -> 'that'", "Comp -> ''"), "empty"),
    "rule-unterminated-quote": (sub("Comp -> 'that'", "Comp -> 'that"), "cannot parse rule"),
    "rule-only-arrow": (sub("RC -> Comp NP[NUM=?m, CTRL=no] TV[NUM=?m]", "RC ->"), "empty"),
    "rule-comment-only": (BASE.split("rules:")[0] + "rules: |\n  # nothing yet\n", "no rules found"),
    "rule-word-on-left": (sub("Comp -> 'that'", "'that' -> Comp"), "cannot parse rule"),
    "rule-variable-category": (sub("Comp -> 'that'", "?x -> 'that'"), "has no category"),
    "rule-left-recursion-no-base": (sub("NP[NUM=?n, CTRL=?c] -> Det N[NUM=?n, CTRL=?c] | Det N[NUM=?n, CTRL=?c] RC",
                                        "NP[NUM=?n, CTRL=?c] -> NP[NUM=?n, CTRL=?c] RC"), "never finish"),
    "rule-never-finishes": (sub("RC -> Comp NP[NUM=?m, CTRL=no] TV[NUM=?m]", "RC -> Comp RC"), "never finish"),
    "rule-unreachable": (BASE + "  Adv -> 'today'\n", "never be reached"),
    "rule-unary-cycle": (sub("RC -> Comp NP[NUM=?m, CTRL=no] TV[NUM=?m]",
                             "RC -> Comp NP[NUM=?m, CTRL=no] TV[NUM=?m] | RC2\n  RC2 -> RC"), "cycle"),
    # --- features
    "feature-explosion": (explode(8, 10), "combinations"),
    "feature-explosion-wide": (explode(5, 30), "combinations"),
    "feature-explosion-chain": (explode_chain(9), "combinations"),
    "feature-explosion-ground": (explode_ground(30), "ground rules"),
    "feature-flip-three-values": (sub("N[NUM=pl] -> 'authors' | 'pilots'",
                                      "N[NUM=pl] -> 'authors' | 'pilots'\n  N[NUM=du] -> 'authors2'"), "NUM takes 3"),
    "feature-flip-absent": (sub("flip: NUM", "flip: GEN"), "GEN"),
    "feature-target-absent": (sub("target: TARGET", "target: MARK"), "MARK"),
    "feature-values-unknown": (sub("flip: NUM}", "flip: NUM, values: {sg: du}}"), "du"),
    "feature-controller-unknown": (sub("start: S", "start: S\ndesign: {controller: [du]}"), "du"),
    "feature-missing-twin": (sub("IV[NUM=pl] -> 'laugh'", "IV[NUM=pl] -> 'laugh' | 'smile'"), "twin"),
    "feature-agreement-marker-unused": (sub("agreement: {controller: CTRL}", "agreement: {controller: CTRLX}"),
                                        "CTRLX"),
    "feature-critical-marker-unused": (sub("start: S", "start: S\ncritical: {marker: CRIT}"), "CRIT"),
    # --- weights
    "weight-nan": (sub("IV[NUM=?n, TARGET=yes]", "IV[NUM=?n, TARGET=yes] @ nan"), "weight"),
    "weight-inf": (sub("IV[NUM=?n, TARGET=yes]", "IV[NUM=?n, TARGET=yes] @ inf"), "weight"),
    "weight-negative": (sub("IV[NUM=?n, TARGET=yes]", "IV[NUM=?n, TARGET=yes] @ -1"), "weight"),
    "weight-denormal": (sub("Det N[NUM=?n, CTRL=?c] RC", "Det N[NUM=?n, CTRL=?c] RC @ 1e-320"), "weight"),
    "weight-huge": (sub("Det N[NUM=?n, CTRL=?c] RC", "Det N[NUM=?n, CTRL=?c] RC @ 1e300"), "weight"),
    "weight-text": (sub("Det N[NUM=?n, CTRL=?c] RC", "Det N[NUM=?n, CTRL=?c] RC @ heavy"), "weight"),
    "weight-bare-at": (sub("Det N[NUM=?n, CTRL=?c] RC", "Det N[NUM=?n, CTRL=?c] RC @"), "weight"),
    "weight-twice": (sub("Det N[NUM=?n, CTRL=?c] RC", "Det N[NUM=?n, CTRL=?c] RC @ 2 @ 3"), "weight"),
    "weight-all-zero": (sub("S -> NP[NUM=?n, CTRL=yes] VP[NUM=?n]", "S -> NP[NUM=?n, CTRL=yes] VP[NUM=?n] @ 0"),
                        "weight 0"),
    # --- includes (helpers in inc/)
    "include-missing": (sub("start: S", "start: S\ninclude: [inc/nowhere.yaml]"), "not found"),
    "include-directory": (sub("start: S", "start: S\ninclude: [inc]"), "folder"),
    "include-device": (sub("start: S", "start: S\ninclude: [/dev/zero]"), "not a regular file"),
    "include-dev-null": (sub("start: S", "start: S\ninclude: [/dev/null]"), "not a regular file"),
    "include-fifo": (sub("start: S", "start: S\ninclude: [inc/pipe.yaml]") + "# setup: fifo\n", "not a regular file"),
    "include-huge": (sub("start: S", "start: S\ninclude: [inc/huge.yaml]") + "# setup: huge\n", "bytes"),
    "include-self": (sub("start: S", "start: S\ninclude: [include-self.yaml]"), "may only have"),
    "include-unknown-key": (sub("start: S", "start: S\ninclude: [inc/unknown-key.yaml]"), "may only have"),
    "include-bad-yaml": (sub("start: S", "start: S\ninclude: [inc/bad-yaml.yaml]"), "YAML syntax error"),
    "include-bad-rule": (sub("start: S", "start: S\ninclude: [inc/bad-rule.yaml]"), "not a rule"),
    "include-list": (sub("start: S", "start: S\ninclude: [inc/list.yaml]"), "mapping"),
    "include-binary": (sub("start: S", "start: S\ninclude: [inc/binary.yaml]"), "binary"),
    "include-lexicon-list": (sub("start: S", "start: S\ninclude: [inc/lexicon-list.yaml]"), "lexicon"),
    "include-duplicate-key": (sub("start: S", "start: S\ninclude: [inc/duplicate-key.yaml]"), "appears twice"),
    # --- pairs
    "pair-and-pairs": (sub("agreement:", "pairs: {number: {target: TARGET, flip: NUM}}\nagreement:"), "not both"),
    "pairs-empty": (sub("pair: {target: TARGET, flip: NUM}", "pairs: {}"), "pairs"),
    "pairs-list": (sub("pair: {target: TARGET, flip: NUM}", "pairs: [number]"), "pairs"),
    "pairs-bad-name": (sub("pair: {target: TARGET, flip: NUM}", "pairs: {'num ber': {target: TARGET, flip: NUM}}"),
                       "not a simple name"),
    "pairs-recipe-text": (sub("pair: {target: TARGET, flip: NUM}", "pairs: {number: NUM}"), "must be a mapping"),
    "pair-list": (sub("pair: {target: TARGET, flip: NUM}", "pair: [TARGET, NUM]"), "must be a mapping"),
    "pair-missing-flip": (sub("pair: {target: TARGET, flip: NUM}", "pair: {target: TARGET}"), "flip"),
    "pair-unknown-key": (sub("flip: NUM}", "flips: NUM}"), "did you mean 'flip'"),
    "pair-flip-list": (sub("flip: NUM}", "flip: [NUM]}"), "feature name"),
    "pair-values-list": (sub("flip: NUM}", "flip: NUM, values: [sg, pl]}"), "values"),
    "pair-changes-length-text": (sub("flip: NUM}", "flip: NUM, changes_length: 'yes'}"), "changes_length"),
    # --- depth
    "depth-embedding-undefined": (sub("embedding: [RC]", "embedding: [Rel]"), "Rel"),
    "depth-embedding-unreached": (BASE.replace("embedding: [RC]", "embedding: [RC, Q]") + "  Q -> 'q'\n", "Q"),
    "depth-embedding-flat": (sub("RC -> Comp NP[NUM=?m, CTRL=no] TV[NUM=?m]", "RC -> Comp Det N[NUM=?m, CTRL=no] TV[NUM=?m]"),
                             "depth stops at 1"),
    "depth-embedding-parse-only": (sub("Det N[NUM=?n, CTRL=?c] RC", "Det N[NUM=?n, CTRL=?c] RC @ 0"), "RC"),
    # --- lexicon text
    "word-open-paren": (sub("Comp -> 'that'", "Comp -> 'th(at'"), "("),
    "word-close-paren": (sub("Comp -> 'that'", "Comp -> 'that)'"), ")"),
    "word-only-paren": (sub("Det -> 'the'", "Det -> '('"), "("),
    "word-parens": (sub("IV[NUM=sg] -> 'laughs'", "IV[NUM=sg] -> '(laughs)'"), "("),
    "word-tab": (sub("Comp -> 'that'", "Comp -> 'th\tat'"), "space"),
    "word-invisible-char": (sub("Comp -> 'that'", "Comp -> 'th\u200bat'"), "invisible"),
    "word-line-separator": (sub("Comp -> 'that'", "Comp -> 'th\u2028at'"), "YAML syntax error"),
}

INCLUDES = {
    "unknown-key.yaml": "lexicon: |\n  Adv -> 'today'\nstart: S\n",
    "bad-yaml.yaml": "lexicon: |\n  Adv -> 'today'\n bad: [\n",
    "bad-rule.yaml": "lexicon: |\n  Adv 'today'\n",
    "list.yaml": "- lexicon\n- rules\n",
    "binary.yaml": "lexicon: \x00\x00\n",
    "lexicon-list.yaml": "lexicon: [a, b]\n",
    "duplicate-key.yaml": "lexicon: |\n  Adv -> 'today'\nlexicon: |\n  Adv -> 'again'\n",
}


def build_grammars() -> None:
    folder = HERE / "grammars"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "inc").mkdir(parents=True)
    for name, text in INCLUDES.items():
        (folder / "inc" / name).write_bytes(text.encode("utf-8"))
    for name, (text, expect) in GRAMMARS.items():
        (folder / f"{name}.yaml").write_bytes(f"# expect: {expect}\n{text}".encode("utf-8"))


# ------------------------------------------------------------------------------------------ pipeline

def _good_folders(tmp: Path) -> None:
    """tmp/gen (generate) and tmp/run (eval with the fake model), made with relative paths from tmp."""
    from depthkit.cli import main

    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        grammar = HERE.parent / "grammars" / "tiny-rc.yaml"
        assert main(["generate", "-g", str(grammar), "-d", "0-1", "-n", "1", "-o", "gen", "--seed", "1"]) == 0
        assert main(["eval", "gen", "--model", "fake", "-o", "run", "-q"]) == 0
    finally:
        os.chdir(cwd)
    manifest = tmp / "gen" / "manifest.json"  # no machine-specific path: the test puts its tests/ folder back
    manifest.write_text(manifest.read_text().replace(str(HERE.parent.parent), "{tests}"))
    (tmp / "run" / "cache.sqlite").unlink()
    (tmp / "run" / ".eval.lock").unlink(missing_ok=True)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _edit_line(path: Path, n: int, fn) -> None:
    lines = _lines(path)
    lines[n - 1] = fn(lines[n - 1])
    path.write_text("".join(lines), encoding="utf-8")


def _edit_json_line(path: Path, n: int, fn) -> None:
    def edit(line: str) -> str:
        record = json.loads(line)
        fn(record)
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    _edit_line(path, n, edit)


def _edit_manifest(path: Path, fn) -> None:
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _conflicting_duplicate(path: Path) -> None:
    lines = _lines(path)
    record = json.loads(lines[0])
    record["correct"] = not record["correct"]
    path.write_text("".join(lines) + json.dumps(record, separators=(",", ":")) + "\n", encoding="utf-8")


def _pipeline_cases() -> dict[str, tuple[str, str, str, object]]:
    """name -> (command, file to blame, expected words, mutation of the case folder)."""
    items, judg = "gen/items.jsonl", "run/judgments.jsonl"
    gman, rman = "gen/manifest.json", "run/manifest.json"
    verif = "gen/verification.jsonl"

    def on(rel, fn):
        return lambda d: fn(d / rel)

    def put(rel, data: bytes):
        return on(rel, lambda p: p.write_bytes(data))

    def jline(rel, n, fn):
        return on(rel, lambda p: _edit_json_line(p, n, fn))

    def line(rel, n, fn):
        return on(rel, lambda p: _edit_line(p, n, fn))

    def manifest(rel, fn):
        return on(rel, lambda p: _edit_manifest(p, fn))

    def setkey(key, value):
        return lambda r: r.__setitem__(key, value)

    def delkey(key):
        return lambda r: r.pop(key)

    def truncate(rel):
        return on(rel, lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]))

    def dup_line(rel, n):
        return on(rel, lambda p: p.write_text("".join(_lines(p) + [_lines(p)[n - 1]]), encoding="utf-8"))

    cases: dict[str, tuple[str, str, str, object]] = {}
    # items.jsonl, read by eval (and verify)
    for cmd in ("eval", "verify"):
        cases.update({
            f"{cmd}-items-truncated-middle": (cmd, items, "not valid JSON", line(items, 3, lambda s: s[:40] + "\n")),
            f"{cmd}-items-id-number": (cmd, items, "id", jline(items, 2, setkey("id", 7))),
            f"{cmd}-items-depth-text": (cmd, items, "depth", jline(items, 2, setkey("depth", "2"))),
            f"{cmd}-items-duplicate-id": (cmd, items, "already appeared", dup_line(items, 1)),
            f"{cmd}-items-empty": (cmd, items, "no items", put(items, b"")),
            f"{cmd}-items-not-utf8": (cmd, items, "UTF-8", on(items, lambda p: p.write_bytes(p.read_bytes().replace(b"the", b"th\xe9", 1)))),
            f"{cmd}-items-missing-good": (cmd, items, "'good'", jline(items, 1, delkey("good"))),
            f"{cmd}-items-unknown-field": (cmd, items, "did you mean", jline(items, 1, lambda r: r.__setitem__("dept", r.pop("depth")))),
            f"{cmd}-items-tree-broken": (cmd, items, "tree", jline(items, 1, lambda r: r.__setitem__("tree", r["tree"][:-1]))),
            f"{cmd}-items-tree-mismatch": (cmd, items, "leaves", jline(items, 1, lambda r: r.__setitem__("good", r["good"] + " x"))),
            f"{cmd}-items-kind-unknown": (cmd, items, "kind", jline(items, 1, setkey("kind", "filler"))),
            f"{cmd}-items-negative-depth": (cmd, items, "depth", jline(items, 1, setkey("depth", -1))),
            f"{cmd}-items-array-line": (cmd, items, "not an object", line(items, 2, lambda s: "[1, 2]\n")),
            f"{cmd}-items-duplicate-key": (cmd, items, "twice", line(items, 1, lambda s: s.replace("{", '{"depth":0,', 1))),
            f"{cmd}-items-span-outside": (cmd, items, "span", jline(items, 1, lambda r: r["regions"].__setitem__("controller", [0, 99]))),
            f"{cmd}-items-binary": (cmd, items, "binary", put(items, b"\x00\x01\x02garbage\n")),
            f"{cmd}-items-control-unknown": (cmd, items, "control", jline(items, 1, lambda r: r.update(kind="control", control_of="nope"))),
        })
    # judgments.jsonl, read by eval on resume and by report
    for cmd in ("eval", "report"):
        cases.update({
            f"{cmd}-judgments-truncated-middle": (cmd, judg, "not valid JSON", line(judg, 2, lambda s: s[:30] + "\n")),
            f"{cmd}-judgments-correct-maybe": (cmd, judg, "correct", jline(judg, 1, setkey("correct", "maybe"))),
            f"{cmd}-judgments-unknown-item": (cmd, judg, "not in", jline(judg, 1, setkey("item_id", "tiny-rc/d9/999"))),
            f"{cmd}-judgments-depth-text": (cmd, judg, "depth", jline(judg, 1, setkey("depth", "one"))),
            f"{cmd}-judgments-missing-task": (cmd, judg, "'task'", jline(judg, 1, delkey("task"))),
            f"{cmd}-judgments-scores-list": (cmd, judg, "scores", jline(judg, 1, setkey("scores", [1, 2]))),
            f"{cmd}-judgments-unknown-field": (cmd, judg, "did you mean", jline(judg, 1, lambda r: r.__setitem__("corect", r.pop("correct")))),
            f"{cmd}-judgments-binary": (cmd, judg, "binary", put(judg, b"\x00\x00\x00\n")),
            f"{cmd}-judgments-string-line": (cmd, judg, "not an object", line(judg, 1, lambda s: '"judgment"\n')),
            f"{cmd}-judgments-conflicting-duplicate": (cmd, judg, "twice", on(judg, _conflicting_duplicate)),
        })
    # manifests
    for cmd, rel in (("eval", rman), ("report", rman), ("verify", gman), ("report-gen", gman)):
        c = cmd.split("-")[0]
        tag = "run" if rel == rman else "gen"
        key = f"{cmd}-{tag}" if cmd != "report-gen" else "report"
        cases.update({
            f"{key}-manifest-list": (c, rel, "JSON object", put(rel, b"[1, 2, 3]\n")),
            f"{key}-manifest-string": (c, rel, "JSON object", put(rel, b'"manifest"\n')),
            f"{key}-manifest-not-utf8": (c, rel, "UTF-8", put(rel, b'{"generate": "\xff\xfe"}\n')),
            f"{key}-manifest-truncated": (c, rel, "not valid JSON", truncate(rel)),
            f"{key}-manifest-duplicate-key": (c, rel, "twice", put(rel, b'{"eval": {}, "eval": {}}\n')),
            f"{key}-manifest-section-list": (c, rel, "eval" if tag == "run" else "generate",
                                             manifest(rel, lambda m: m.__setitem__("eval" if "eval" in m else "generate", [1]))),
            f"{key}-manifest-unknown-section": (c, rel, "did you mean", manifest(rel, lambda m: m.__setitem__("evals", {}))),
        })
    cases.update({
        "eval-run-manifest-status-unknown": ("eval", rman, "status", manifest(rman, lambda m: m["eval"].__setitem__("status", "paused"))),
        "eval-run-manifest-deleted": ("eval", rman, "manifest", on(rman, lambda p: p.unlink())),
        "report-run-manifest-items-number": ("report", rman, "items", manifest(rman, lambda m: m["eval"].__setitem__("items", 5))),
        "verify-gen-manifest-grammar-missing": ("verify", items, "nowhere/x.yaml, which does not exist", manifest(gman, lambda m: m["generate"].__setitem__("grammar_path", "nowhere/x.yaml"))),
        "verify-gen-manifest-sha-number": ("verify", gman, "grammar_sha256", manifest(gman, lambda m: m["generate"].__setitem__("grammar_sha256", 5))),
        "report-verification-truncated": ("report", verif, "not valid JSON", put(verif, b'{"item_id": "x", "dep\n{}\n')),
        "report-verification-wrong-type": ("report", verif, "verified", put(verif, b'{"item_id":"x","depth":0,"construction":null,"kind":"test","grammar":{"status":"ok"},"spacy":{"status":"ok"},"benepar":{"status":"ok"},"verified":"yes","verified_by":"all"}\n')),
        "eval-verification-binary": ("eval-verified", verif, "binary", put(verif, b"\x00\x00")),
    })
    return cases


def build_pipeline() -> None:
    folder = HERE / "pipeline"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _good_folders(tmp)
        for name, (command, blame, expect, mutate) in _pipeline_cases().items():
            case = folder / name
            shutil.copytree(tmp / "gen", case / "gen")
            shutil.copytree(tmp / "run", case / "run")
            mutate(case)
            (case / "case.json").write_text(json.dumps({"command": command, "file": blame, "expect": expect},
                                                       indent=1) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent.parent))
    build_grammars()
    if "--grammars" not in sys.argv:  # the pipeline folders carry timestamps: rebuild them only when they change
        build_pipeline()
    print(f"{len(GRAMMARS)} grammar cases, {len(list((HERE / 'pipeline').iterdir()))} pipeline cases")
