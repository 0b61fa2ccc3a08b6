"""Depth and complexity metrics on hand-checked trees."""

from nltk import Tree

from depthkit.generation.metrics import center_embedding, embedding_depth, frazier_scores, tree_metrics, yngve_depths

CENTER2 = Tree.fromstring(
    "(S (NP (Det the) (N author) (RC (Comp that) (NP (Det the) (N senators) (RC (Comp that) (NP (Det the) (N pilot)) "
    "(TV knows))) (TV admire))) (VP (IV laughs)))")
RIGHT2 = Tree.fromstring(
    "(S (NP (N mary)) (VP (CV thinks) (CP (C that) (S (NP (N john)) (VP (CV says) (CP (C that) (S (NP (N sue)) (VP (V sleeps)))))))))")


def test_metrics_embedding_depth():
    assert embedding_depth(CENTER2, {"RC"}) == 2
    assert embedding_depth(RIGHT2, {"CP"}) == 2
    assert embedding_depth(RIGHT2, {"RC"}) == 0


def test_metrics_center_embedding_vs_right_branching():
    assert center_embedding(CENTER2, {"RC"}, {"S", "RC"}) == 2
    assert center_embedding(RIGHT2, {"CP"}, {"S", "CP"}) == 0


def test_metrics_yngve_hand_computed():
    t = Tree.fromstring("(S (NP (D the) (N cat)) (VP (V sleeps)))")
    # the: S has 1 right sibling pending (VP) + NP has 1 (N) = 2; cat: 1; sleeps: 0
    assert yngve_depths(t) == [2, 1, 0]


def test_metrics_frazier_hand_computed():
    t = Tree.fromstring("(S (NP (D the) (N cat)) (VP (V sleeps)))")
    # the: D is first child of NP (+1), NP first child of S (+1.5) = 2.5; cat: 0; sleeps: V first of VP (+1)
    assert frazier_scores(t, {"S"}) == [2.5, 0.0, 1.0]


def test_metrics_tree_metrics_keys():
    m = tree_metrics(CENTER2, {"RC"}, {"S", "RC"})
    assert m["n_words"] == 11 and m["tree_height"] == CENTER2.height()
    assert {"yngve_max", "yngve_total", "frazier", "center_embedding", "embedding_depth"} <= set(m)
