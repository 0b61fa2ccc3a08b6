"""Words and the tree notation: a word the trees cannot carry is refused at load; every other word comes back
as a leaf. Property: for generated items, ``nltk.Tree.fromstring(item.tree).leaves() == item.good.split()``."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import depthkit
from depthkit.errors import InputError

TEMPLATE = """\
name: words
embedding: [RC]
may_repeat: [Det, Comp]
rules: |
  S -> NP VP
  NP -> Det N | Det N RC
  RC -> Comp NP TV
  VP -> IV
lexicon: |
  Det -> "{0}"
  Comp -> "{1}"
  N -> "{2}" | "{3}"
  TV -> "{4}"
  IV -> "{5}"
"""
WORD_LINE = 10  # the lexicon's first line (Det) in TEMPLATE

# any visible character a person might type, brackets included; '"' and '\\' would end or escape the quoted word
WORDS = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Cf", "Zs", "Zl", "Zp"),
                              blacklist_characters='"\\\x85'), min_size=1, max_size=6)


def _carried(word: str) -> bool:
    return "(" not in word and ")" not in word and not any(ch.isspace() for ch in word)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(WORDS, min_size=6, max_size=6, unique=True))
def test_hostile_trees_leaves_are_the_words(words, tmp_path_factory):
    from nltk import Tree

    path = tmp_path_factory.mktemp("g") / "words.yaml"
    path.write_text(TEMPLATE.format(*words), encoding="utf-8")
    try:
        items = depthkit.generate(path, depths="0-1", per_depth=1, seed=3)
    except InputError as exc:
        bad = [w for w in words if not _carried(w)]
        assert bad, f"a grammar of carried words was refused: {exc}"
        assert str(exc.path) == str(path) and exc.line is not None and exc.line >= WORD_LINE, str(exc)
        return
    assert all(_carried(w) for w in words)
    assert items
    for item in items:
        assert Tree.fromstring(item.tree).leaves() == item.good.split()


@pytest.mark.parametrize("word", ["(", ")", "a(b", "b)", "(x)", "th\u200bat", "a\u00adb"])
def test_hostile_trees_word_the_notation_cannot_carry_is_refused(word, tmp_path):
    path = tmp_path / "words.yaml"
    path.write_text(TEMPLATE.format(word, "that", "cat", "dog", "sees", "sleeps"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        depthkit.load_grammar(path)
    assert info.value.line == WORD_LINE and info.value.fix
    assert unicodedata.normalize("NFC", word) in str(info.value) or "U+" in str(info.value)
