"""A bad grammar gets a DepthkitError naming the file, the line and the fix — never a traceback."""

from __future__ import annotations

import pytest

from depthkit.errors import DepthkitError
from depthkit.grammar import load_grammar


def write_grammar(tmp_path, text, name="g.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "name: g\nstart: S\nembedding: [RC]\n"


def load_text(tmp_path, text):
    return load_grammar(write_grammar(tmp_path, text))


def expect_error(tmp_path, text, *, message, line=None):
    with pytest.raises(DepthkitError) as info:
        load_text(tmp_path, text)
    err = info.value
    assert message in err.message, err.message
    assert err.path is not None and str(err.path).endswith("g.yaml")
    if line is not None:
        assert err.line == line, (err.line, str(err))
    assert err.fix, "every error says how to fix it"
    return err


GOOD_RULES = """rules: |
  S -> NP VP
  NP -> 'the' N | 'the' N RC
  RC -> 'that' NP V
  VP -> 'sleeps'
  N -> 'cat' | 'dog'
  V -> 'sees'
"""


def test_grammar_errors_valid_grammar_loads(tmp_path):
    g = load_text(tmp_path, HEADER + GOOD_RULES)
    assert g.name == "g" and g.embedding == {"RC"}


def test_grammar_errors_empty_file(tmp_path):
    expect_error(tmp_path, "", message="empty")


def test_grammar_errors_binary_file(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(DepthkitError, match="binary"):
        load_grammar(path)


@pytest.mark.parametrize("text, line", [
    ("name: g\nstart: S\nembedding: [RC]\nconstruction: a: b\nrules: |\n  S -> 'a'\n", 4),
    # an unclosed '[' on line 2 is noticed where the next key's ':' is
    ("name: g\nembedding: [RC\nrules: |\n  S -> 'a'\n", 3),
])
def test_grammar_errors_yaml_syntax_names_line(tmp_path, text, line):
    expect_error(tmp_path, text, message="YAML syntax error", line=line)


def test_grammar_errors_unknown_key_suggests(tmp_path):
    err = expect_error(tmp_path, HEADER + "embeding: [RC]\n" + GOOD_RULES, message="unknown key 'embeding'", line=4)
    assert "embedding" in err.fix


def test_grammar_errors_missing_embedding(tmp_path):
    expect_error(tmp_path, "name: g\n" + GOOD_RULES, message="missing required key 'embedding'")


def test_grammar_errors_undefined_symbol_names_rule_line(tmp_path):
    text = HEADER + "rules: |\n  S -> NP VP\n  NP -> 'the' N RC | 'the' N\n  RC -> 'that' NP V\n  VP -> 'sleeps'\n  N -> 'cat'\n  V -> 'sees' Obj\n"
    err = expect_error(tmp_path, text, message="'Obj' is used", line=10)
    assert "Obj ->" in err.fix


def test_grammar_errors_unreachable_symbol(tmp_path):
    expect_error(tmp_path, HEADER + GOOD_RULES + "  Adj -> 'big'\n", message="can never be reached", line=11)


def test_grammar_errors_nonterminating_recursion(tmp_path):
    text = HEADER + "rules: |\n  S -> NP 'x'\n  NP -> 'the' RC\n  RC -> 'that' NP\n"
    expect_error(tmp_path, text, message="never finish")


def test_grammar_errors_embedding_never_used(tmp_path):
    text = "name: g\nstart: S\nembedding: [CP]\n" + GOOD_RULES + "  CP -> 'that' S\n"
    expect_error(tmp_path, text, message="can never be reached")


def test_grammar_errors_embedding_category_undefined(tmp_path):
    text = "name: g\nstart: S\nembedding: [RelC]\n" + GOOD_RULES
    err = expect_error(tmp_path, text, message="embedding category 'RelC' has no rule", line=3)
    assert "RC" in err.fix


def test_grammar_errors_rule_syntax_error_names_line(tmp_path):
    text = HEADER + "rules: |\n  S -> NP[NUM=?n VP\n"
    expect_error(tmp_path, text, message="cannot parse rule", line=5)


def test_grammar_errors_feature_clash(tmp_path):
    text = HEADER + """rules: |
  S -> NP VP
  NP -> 'the' N[NUM=du] | 'the' N[NUM=sg] RC
  RC -> 'that' NP V
  VP -> 'sleeps'
  N[NUM=sg] -> 'cat'
  N[NUM=pl] -> 'cats'
  V -> 'sees'
"""
    err = expect_error(tmp_path, text, message="feature clash: `NP -> 'the' N[NUM=du]` requires N[NUM=du]", line=6)
    assert "rules give: N[NUM=pl]; N[NUM=sg]" in err.message


def test_grammar_errors_value_through_variable_without_rule_derives_nothing(tmp_path):
    text = HEADER + """rules: |
  S -> NP[NUM=du] VP
  NP[NUM=?n] -> 'the' N[NUM=?n] | 'the' N[NUM=?n] RC
  RC -> 'that' NP V
  VP -> 'sleeps'
  N[NUM=sg] -> 'cat'
  N[NUM=pl] -> 'cats'
  V -> 'sees'
"""
    # Not a clash as written: NP[NUM=du] unifies with NP[NUM=?n]. The value reaches N only through
    # the variable, and no noun is dual, so that branch is dead while grounding and S derives nothing.
    expect_error(tmp_path, text, message="derives no sentence")


def test_grammar_errors_feature_clash_with_constant(tmp_path):
    text = HEADER + """rules: |
  S -> NP[NUM=pl] VP
  NP[NUM=sg] -> 'the' N | 'the' N RC
  RC -> 'that' NP[NUM=sg] V
  VP -> 'sleeps'
  N -> 'cat'
  V -> 'sees'
"""
    expect_error(tmp_path, text, message="feature clash", line=5)


def test_grammar_errors_pair_marker_matches_nothing(tmp_path):
    text = HEADER + "pair: {target: TARGET, flip: NUM}\n" + """rules: |
  S -> NP[NUM=?n] VP[NUM=?n]
  NP[NUM=?n] -> 'the' N[NUM=?n] | 'the' N[NUM=?n] RC
  RC -> 'that' NP V
  VP[NUM=?n] -> V[NUM=?n]
  N[NUM=sg] -> 'cat'
  N[NUM=pl] -> 'cats'
  V[NUM=sg] -> 'sees'
  V[NUM=pl] -> 'see'
"""
    err = expect_error(tmp_path, text, message="no reachable node carries the marker TARGET")
    assert "TARGET=yes" in err.fix


# A pair grammar whose V[NUM=sg] line (line 12) has two words and no NUM=pl twin line yet.
PAIR_GRAMMAR = HEADER + "pair: {target: TARGET, flip: NUM}\n" + """rules: |
  S -> NP[NUM=?n] VP[NUM=?n]
  NP[NUM=?n] -> 'the' N[NUM=?n] | 'the' N[NUM=?n] RC
  RC -> 'that' NP 'saw'
  VP[NUM=?n] -> V[NUM=?n, TARGET=yes]
  N[NUM=sg] -> 'cat'
  N[NUM=pl] -> 'cats'
  V[NUM=sg] -> 'sees' | 'runs'
"""


def test_grammar_errors_pair_word_without_twin(tmp_path):
    text = PAIR_GRAMMAR
    err = expect_error(tmp_path, text, message="has no twin", line=12)
    assert "same position" in err.fix


def test_grammar_errors_nested_features_rejected(tmp_path):
    text = HEADER + "rules: |\n  S -> NP[AGR=[NUM=sg]] 'x'\n  NP -> 'a'\n"
    expect_error(tmp_path, text, message="nested feature structure", line=5)


@pytest.mark.parametrize("weight", ["-1", "1e-300", "inf", "1e12"])
def test_grammar_errors_bad_weight(tmp_path, weight):
    text = HEADER + f"rules: |\n  S -> 'a' @ {weight}\n"
    expect_error(tmp_path, text, message=f"weight '{weight}' is not 0 or a number between", line=5)


def test_grammar_errors_weight_not_a_number(tmp_path):
    text = HEADER + "rules: |\n  S -> 'a' @ nan\n"
    expect_error(tmp_path, text, message="weight 'nan' is not 0 or a number", line=5)
    text = HEADER + "rules: |\n  S -> 'a' @ heavy\n"
    expect_error(tmp_path, text, message="weight 'heavy' is not a number", line=5)


def test_grammar_errors_unary_cycle(tmp_path):
    text = HEADER + "rules: |\n  S -> A | 'x' RC\n  A -> B\n  B -> A | 'b'\n  RC -> 'y' S\n"
    expect_error(tmp_path, text, message="unary cycle")


def test_grammar_errors_include_missing(tmp_path):
    expect_error(tmp_path, HEADER + "include: [nope.yaml]\n" + GOOD_RULES, message="included file 'nope.yaml' not found")


def test_grammar_errors_unknown_shipped_name_suggests():
    with pytest.raises(DepthkitError) as info:
        load_grammar("object-rcc")
    assert "object-rc" in info.value.fix


def test_grammar_errors_cli_prints_no_traceback(tmp_path, capsys):
    from depthkit.cli import main

    path = write_grammar(tmp_path, HEADER + "rules: |\n  S -> NP[NUM=?n VP\n")
    assert main(["grammar", "check", str(path)]) == 2
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    assert f"{path}:5: cannot parse rule" in stderr
    assert "fix:" in stderr


def test_grammar_errors_embedding_never_recurses(tmp_path):
    text = HEADER + """rules: |
  S -> NP VP
  NP -> 'the' N | 'the' N RC
  RC -> 'that' NP2 V
  NP2 -> 'the' N
  VP -> 'sleeps'
  N -> 'cat'
  V -> 'sees'
"""
    err = expect_error(tmp_path, text, message="depth stops at 1", line=7)
    assert "contain itself" in err.fix


def test_grammar_errors_word_with_space(tmp_path):
    text = HEADER + "rules: |\n  S -> 'the cat' VP\n  VP -> 'sleeps'\n"
    expect_error(tmp_path, text, message="contains a space", line=5)


def test_grammar_errors_twin_lines_of_different_length(tmp_path):
    text = PAIR_GRAMMAR + "  V[NUM=pl] -> 'see'\n"
    err = expect_error(tmp_path, text, message="twin lines differ in length", line=13)
    assert "g.yaml:12 has 2" in err.message
