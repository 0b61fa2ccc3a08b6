"""The item validator reads trees as verify's parsers do: `schema.tree_leaves` agrees with nltk's reader."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nltk import Tree

from depthkit.schema import tree_leaves

pieces = st.sampled_from(["(", ")", " ", "\n", "a", "bc", "(S", "(NP ", "((", "))", "(S x)"])


def _nltk_leaves(text: str) -> list[str] | None:
    try:
        return Tree.fromstring(text).leaves()
    except ValueError:
        return None


def _leaves(text: str) -> list[str] | None:
    try:
        return tree_leaves(text)
    except ValueError:
        return None


@given(st.lists(pieces, max_size=14).map("".join))
def test_schema_tree_leaves_accept_and_refuse_what_nltk_does(text):
    assert _leaves(text) == _nltk_leaves(text)


@pytest.mark.parametrize("text", ["(S (NP (Det the) (N doctor)) (VP (IV laughs)))", "(S x)", "( (X a) b)", "()"])
def test_schema_tree_leaves_of_well_formed_trees(text):
    assert tree_leaves(text) == Tree.fromstring(text).leaves()


@pytest.mark.parametrize("text", ["", "x", "(S x", "(S x))", "(S x) (S y)", "x (S y)"])
def test_schema_tree_leaves_refuse_what_is_not_one_tree(text):
    with pytest.raises(ValueError):
        tree_leaves(text)
