"""Minimal pairs: one derivation, one flipped feature, everything else untouched."""

from pathlib import Path

import depthkit

GRAMMARS = Path(__file__).parent / "data" / "grammars"


def test_pairs_flip_at_phrase_changes_only_the_verb():
    items = depthkit.generate(GRAMMARS / "vp-flip.yaml", depths="0-2", per_depth=6, seed=4)
    for item in items:
        good, bad = item.good.split(), item.bad.split()
        s, e = item.regions.target.good
        diff = [i for i, (a, b) in enumerate(zip(good, bad)) if a != b]
        assert len(diff) == 1 and diff[0] == s  # the verb heads the flipped VP
        assert e > s and item.pair.good_value != item.pair.bad_value


def test_pairs_twins_follow_lexicon_positions():
    grammar = depthkit.load_grammar("object-rc")
    twins = set()
    for category in ("IV", "IVL"):  # the matrix verbs: intransitive, and those that take a place phrase
        verbs = [r for r in grammar.rules if r.lhs.category == category]
        sg = [r.rhs[0] for r in verbs if dict(r.lhs.spec)["NUM"] == "sg"]
        pl = [r.rhs[0] for r in verbs if dict(r.lhs.spec)["NUM"] == "pl"]
        twins |= set(zip(sg, pl)) | set(zip(pl, sg))
    items = depthkit.generate(grammar, depths="0", per_depth=40, seed=8)
    seen = {(g, b) for i in items for g, b in zip(i.good.split(), i.bad.split()) if g != b}
    assert len(seen) > 10 and seen <= twins


def test_pairs_grammar_without_pair_has_null_bad():
    items = depthkit.generate(GRAMMARS / "tiny-weighted.yaml", depths="0-1", per_depth=3, seed=1)
    assert all(i.bad is None and i.pair is None and i.regions.target is None for i in items)


def test_pairs_innermost_clause_target_in_complements():
    items = depthkit.generate(GRAMMARS / "tiny-clauses.yaml", depths="2", per_depth=4, seed=1)
    for item in items:
        words = item.good.split()
        s, _ = item.regions.target.good
        assert s == len(words) - 1 and words[s] in ("sleeps", "sleep")
