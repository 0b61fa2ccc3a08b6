"""The fast depth-aware recognizer agrees with NLTK's feature chart parser and finds other readings."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.parse import FeatureChartParser

from conftest import GRAMMARS
from depthkit.grammar import compile_grammar, load_grammar
from depthkit.generation import generate
from depthkit.generation.chart import DepthChart

SHIPPED = ["object-rc", "subject-rc", "pp-attractors", "sentential-complements", "possessives", "coordination",
           "reflexive-rc", "filler-gap"]


@pytest.fixture(scope="module")
def grammars():
    out = {}
    for name in SHIPPED + [str(GRAMMARS / "tiny-stacked.yaml"), str(GRAMMARS / "tiny-gap.yaml")]:
        g = load_grammar(name)
        out[name] = (g, DepthChart(compile_grammar(g)), FeatureChartParser(g.nltk_grammar))
    return out


@pytest.mark.parametrize("name", SHIPPED)
def test_chart_recognises_what_nltk_recognises(grammars, name):
    g, chart, nltk_parser = grammars[name]
    rng = random.Random(name)
    items = generate(g, "0-3", 3, 5, design="independent")
    sentences = [i.words for i in items] + [i.bad.split(" ") for i in items if i.bad]
    for words in list(sentences):  # and some that are not sentences: two words swapped
        w = list(words)
        a, b = rng.randrange(len(w)), rng.randrange(len(w))
        w[a], w[b] = w[b], w[a]
        sentences.append(w)
    for words in sentences:
        assert chart.accepts(words) == any(True for _ in nltk_parser.parse(words)), " ".join(words)


@pytest.mark.parametrize("name", SHIPPED)
def test_chart_depths_include_the_sampled_depth(grammars, name):
    g, chart, _ = grammars[name]
    for item in generate(g, "0-4", 2, 9, design="independent"):
        assert item.depth in chart.depths(item.words)


def test_chart_sees_the_stacked_reading_of_a_parse_only_rule(grammars):
    g, chart, nltk_parser = grammars[str(GRAMMARS / "tiny-stacked.yaml")]
    words = "the author that sees the pilot that knows the nurse laughs".split()
    # the RCs nest (depth 2) or stack on 'author' (depth 1, the parse-only rule): both readings
    assert chart.depths(words) == {1, 2}
    assert len(list(nltk_parser.parse(words))) == 2
    # agreement rules the stacked reading out when 'knows' cannot agree with 'authors'
    assert chart.depths("the authors that see the pilot that knows the nurse laugh".split()) == {2}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["the", "author", "authors", "pilot", "that", "sees", "see", "laughs", "laugh",
                                 "knows", "nurse"]), min_size=1, max_size=9))
def test_chart_agrees_with_nltk_on_any_word_string(grammars, words):
    _, chart, nltk_parser = grammars[str(GRAMMARS / "tiny-stacked.yaml")]
    try:
        expected = any(True for _ in nltk_parser.parse(words))
    except ValueError:  # NLTK: a word outside the lexicon
        expected = False
    assert chart.accepts(words) == expected
