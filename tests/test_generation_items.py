"""`depthkit generate`: reproducible items with pairs, regions, metrics and controls."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from nltk import Tree

import depthkit
from depthkit.cli import main
from depthkit.generation import DEFAULT_DEPTHS, Options, parse_depths, write_generated
from depthkit.generation.metrics import tree_metrics
from depthkit.generation.sets import sets_needed
from depthkit.grammar import load_grammar


@pytest.fixture(scope="module")
def object_rc():
    return depthkit.load_grammar("object-rc")


def test_generation_same_seed_byte_identical_files(tmp_path):
    """Two processes (each with its own hash seed), so no output depends on set or dict iteration order."""
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        cmd = [sys.executable, "-m", "depthkit", "generate", "--grammar", "object-rc", "--depths", "0-3",
               "--per-depth", "4", "--seed", "11", "--controls", "--out", str(out)]
        subprocess.run(cmd, check=True, capture_output=True)
        outs.append(out)
    assert (outs[0] / "items.jsonl").read_bytes() == (outs[1] / "items.jsonl").read_bytes()
    assert (outs[0] / "manifest.json").read_bytes() == (outs[1] / "manifest.json").read_bytes()


def test_generation_other_seed_differs(object_rc):
    a = depthkit.generate(object_rc, depths="2", per_depth=5, seed=1)
    b = depthkit.generate(object_rc, depths="2", per_depth=5, seed=2)
    assert [i.good for i in a] != [i.good for i in b]


def test_generation_depth_independent_of_other_depths(object_rc):
    """With the independent design, adding depth 4 to a run leaves the depth-2 items (and their ids) unchanged
    (a ladder's frames are drawn at its deepest depth, so there they change on purpose)."""
    a = [i for i in depthkit.generate(object_rc, depths="2", per_depth=5, seed=3, design="independent")]
    b = [i for i in depthkit.generate(object_rc, depths="0,2,4", per_depth=5, seed=3, design="independent")
         if i.depth == 2]
    assert [i.to_dict() for i in a] == [i.to_dict() for i in b]


def test_generation_items_follow_schema(object_rc):
    items = depthkit.generate(object_rc, depths="0-3", per_depth=6, seed=5, controls=True)
    tests = [i for i in items if not i.is_control]
    # ceil(6 / 4 conditions) = 2 sets per depth; 4 conditions (sg/pl x attractors match/mismatch) where the
    # sentence has an attractor, else 2 (sg/pl); one control per test item of depth >= 1
    for d in range(4):
        sets = {i.set_id for i in tests if i.depth == d}
        assert len(sets) == 2 and all(sum(1 for i in tests if i.set_id == s and i.depth == d) in ((2, 4) if d == 0 else (4,))
                                      for s in sets)
    assert len(items) - len(tests) == sum(1 for i in tests if i.depth > 0)
    for item in items:
        d = item.to_dict()
        tree = Tree.fromstring(d["tree"])
        words, bad = d["good"].split(" "), d["bad"].split(" ")
        assert tree.leaves() == words
        assert d["metrics"] == {**tree_metrics(tree, object_rc.embedding, object_rc.clauses),
                                "sv_distance": d["metrics"]["sv_distance"], "attractors": d["metrics"]["attractors"]}
        assert d["metrics"]["embedding_depth"] == d["depth"]
        # good and bad differ exactly inside the target region, and both regions cover it
        s, e = d["regions"]["target"]["good"]
        assert len(words) == len(bad)
        diff = [i for i, (x, y) in enumerate(zip(words, bad)) if x != y]
        assert diff and all(s <= i < e for i in diff)
        assert d["regions"]["critical"]["good"] == [s, len(words)]
        cs, ce = d["regions"]["controller"]
        assert d["metrics"]["sv_distance"] == s - (ce - 1) > 0
        assert d["pair"]["feature"] == "NUM" and d["pair"]["good_value"] != d["pair"]["bad_value"]
        if d["kind"] == "control":
            assert d["depth"] == 0 and d["control_of"] == d["id"].removesuffix("/control")
        else:
            assert d["id"].startswith(f"object-rc/d{d['depth']}/") and d["set_id"].rsplit("/", 1)[-1] in d["id"]
            assert d["pair"]["good_value"] == d["condition"]["controller"]


def test_generation_controls_match_condition_then_distance(object_rc):
    items = depthkit.generate(object_rc, depths="1-3", per_depth=8, seed=9, controls=True)
    by_id = {i.id: i for i in items}
    controls = [i for i in items if i.is_control]
    assert len(controls) == sum(1 for i in items if not i.is_control) == 24
    for c in controls:
        test = by_id[c.control_of]
        assert c.metrics["embedding_depth"] == 0 and c.condition == test.condition
        assert c.pair.good_value == test.pair.good_value  # same controller number, same flip direction
        for key in ("n_words", "sv_distance", "attractors"):  # match records what is left different
            assert c.match[key] == c.metrics[key] - test.metrics[key]
        target = test.words[test.regions.target.good[0]]
        assert c.words[c.regions.target.good[0]] == target  # the same target verb form
    # depth 1 (one RC of 4 words) is within reach of two PPs: distance matched exactly for most items
    shallow = [c for c in controls if by_id[c.control_of].depth == 1]
    assert sum(c.match["sv_distance"] == 0 for c in shallow) >= 0.5 * len(shallow)


def test_generation_unique_sentences_per_depth(object_rc):
    items = depthkit.generate(object_rc, depths="1", per_depth=30, seed=0)
    assert len(items) == 32 and len({i.good for i in items}) == 32  # 8 sets of 4 conditions


def test_generation_varied_lexicon(object_rc):
    items = depthkit.generate(object_rc, depths="2", per_depth=40, seed=0)
    words = {w for i in items for w in i.good.split()}
    assert len(words) > 60


def test_generation_parse_depths():
    assert parse_depths("0-3") == (0, 1, 2, 3)
    assert parse_depths("1-2,5") == (1, 2, 5)
    with pytest.raises(depthkit.DepthkitError):
        parse_depths("a-b")


def test_generation_unreachable_depth_is_clear_error(tmp_path, capsys, tiny_grammar_path):
    code = main(["generate", "-g", str(tiny_grammar_path), "--depths", "0-12", "--max-words", "20",
                 "--out", str(tmp_path / "x")])
    stderr = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in stderr
    assert "reachable depths: 0-" in stderr


def test_generation_default_depths_shared_by_library_and_cli(tmp_path, capsys, tiny_grammar_path):
    want = parse_depths(DEFAULT_DEPTHS)
    assert Options().depths == want
    items = depthkit.generate(tiny_grammar_path, per_depth=1)
    assert tuple(sorted({i.depth for i in items})) == want
    assert main(["generate", "-g", str(tiny_grammar_path), "-n", "1", "-o", str(tmp_path)]) == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "manifest.json").read_text())["generate"]
    assert manifest["options"] == Options(depths=want, per_depth=1).to_manifest()
    assert manifest["options"]["depths"] == list(want)


def test_generation_too_few_distinct_frames_warns(caplog, tiny_grammar_path):
    with caplog.at_level("WARNING", logger="depthkit"):
        items = depthkit.generate(tiny_grammar_path, depths="0", per_depth=50, extra_words=0)
    sets = len({i.set_id for i in items})
    wanted = sets_needed(load_grammar(tiny_grammar_path), 50)  # 13: ceil(50 / 4 conditions at depths with attractors)
    assert sets < wanted and len(items) == 2 * sets  # sg/pl of each; the grammar has few 3-word sentences
    assert f"only depth 0: {sets} of {wanted} complete sets (frames) could be made" in caplog.text


def test_generation_new_items_over_verified_ones_warn(tmp_path, caplog, object_rc):
    write_generated(tmp_path, object_rc, depthkit.generate(object_rc, depths="0", per_depth=2, seed=1), {})
    (tmp_path / "verification.jsonl").write_text("")
    with caplog.at_level("WARNING", logger="depthkit"):
        write_generated(tmp_path, object_rc, depthkit.generate(object_rc, depths="0", per_depth=2, seed=2), {})
    assert "had other items before; verification.jsonl there describe the old items" in caplog.text


def test_generation_manifest_records_seed_and_hash(tmp_path, object_rc):
    items = depthkit.generate(object_rc, depths="0-1", per_depth=2, seed=4)
    write_generated(tmp_path, object_rc, items, {"seed": 4})
    manifest = json.loads((tmp_path / "manifest.json").read_text())["generate"]
    assert manifest["grammar_sha256"] == object_rc.sha256
    assert manifest["options"] == {"seed": 4}
    # one set per depth: sg/pl, times attractors match/mismatch when the sentence has an attractor
    assert manifest["items_per_depth"]["1"] == 4 and manifest["items_per_depth"]["0"] in (2, 4)
    assert "nltk" in manifest["versions"]


@pytest.mark.parametrize("name", ["object-rc", "subject-rc", "pp-attractors", "sentential-complements",
                                  "possessives", "coordination"])
def test_generation_shipped_grammars_make_pairs(name):
    items = depthkit.generate(name, depths="0-4", per_depth=3, seed=1, controls=True)
    assert {i.depth for i in items if i.kind == "test"} == {0, 1, 2, 3, 4}
    for item in items:
        assert item.bad and item.bad != item.good
        assert "sv_distance" in item.metrics
