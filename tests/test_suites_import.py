"""`depthkit import`: the real BLiMP and SyntaxGym files (tests/data/suites) as generated folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depthkit.cli import main
from depthkit.errors import InputError, UsageError
from depthkit.schema import Item
from depthkit.store import load_manifest, read_items, sha256_file
from depthkit.suites import import_blimp, import_syntaxgym, read_blimp, read_syntaxgym

SUITES = Path(__file__).parent / "data" / "suites"
BLIMP = SUITES / "blimp" / "distractor_agreement_relative_clause.jsonl"
BLIMP2 = SUITES / "blimp" / "regular_plural_subject_verb_agreement_1.jsonl"
ORC = SUITES / "syntaxgym" / "number_orc.json"
CENTER = SUITES / "syntaxgym" / "center_embed.json"
REPORT_FIXTURE = Path(__file__).parent / "data" / "report"


def test_suites_import_blimp_items_keep_the_published_pairs_in_order():
    lines = [json.loads(line) for line in BLIMP.read_text().splitlines()]
    items = read_blimp(BLIMP).items
    assert len(items) == len(lines) == 1000
    for i in (0, 1, 999):
        assert items[i].id == f"blimp/distractor_agreement_relative_clause/{i:04d}"
        assert items[i].good == lines[i]["sentence_good"] and items[i].bad == lines[i]["sentence_bad"]
        assert items[i].frame == f"blimp/distractor_agreement_relative_clause/{lines[i]['pairID']}"
    assert {(i.grammar, i.construction, i.depth, i.tree, i.kind) for i in items} == {
        ("blimp", "distractor_agreement_relative_clause", 0, None, "test")}


def test_suites_import_blimp_matches_the_report_fixture_shape():
    fixture = [json.loads(line) for line in (REPORT_FIXTURE / "blimp" / "items.jsonl").read_text().splitlines()]
    mine = {i.id: i for i in read_blimp(BLIMP).items + read_blimp(BLIMP2).items}
    for expected in fixture:
        assert mine[expected["id"]] == Item.from_dict(expected)


def test_suites_import_syntaxgym_keeps_every_condition_region_and_prediction():
    suite = json.loads(ORC.read_text())
    items = read_syntaxgym(ORC).items
    assert len(items) == len(suite["items"]) == 19
    first, raw = items[0], suite["items"][0]
    assert first.id == "syntaxgym/number_orc/0001" and first.frame == "syntaxgym/number_orc/1"
    assert first.suite.predictions == [p["formula"] for p in suite["predictions"]]
    assert first.suite.regions == [suite["region_meta"][str(k)] for k in range(1, 9)]
    for cond in raw["conditions"]:
        assert first.suite.conditions[cond["condition_name"]] == [r["content"] for r in cond["regions"]]
    # good/bad: the first comparison's less surprising side, as the suite predicts
    assert first.condition == {"good": "match_sing", "bad": "mismatch_sing"}
    assert (first.good, first.bad) == ("The author that the senators hurt is good", "The author that the senators hurt are good")
    # the compared region (7, matrix_v) as the critical word span in each member
    assert first.regions.critical.good == [6, 7] and first.regions.critical.bad == [6, 7]


def test_suites_import_syntaxgym_multiword_regions_and_summed_formula_sides():
    prep = read_syntaxgym(SUITES / "syntaxgym" / "number_prep.json").items[0]
    assert prep.good == "The author next to the senators is good"  # region 3 is "next to"
    assert prep.regions.critical.good == [6, 7]
    center = read_syntaxgym(CENTER).items[0]
    assert center.condition == {"good": "plaus", "bad": "implaus"}
    assert center.regions.critical.good == [5, 7]  # regions 6 and 7, summed on each side


def test_suites_import_syntaxgym_matches_the_report_fixture_shape():
    fixture = [json.loads(line) for line in (REPORT_FIXTURE / "syntaxgym" / "items.jsonl").read_text().splitlines()]
    mine = {i.id: i for i in read_syntaxgym(ORC).items}
    for expected in fixture:
        item = mine[expected["id"]]
        for key in ("grammar", "construction", "kind", "depth", "good", "bad", "tree", "frame", "metrics",
                    "condition"):
            assert getattr(item, key) == expected[key], key


def test_suites_import_cli_writes_a_generated_folder_with_sources_and_task(tmp_path, capsys):
    out = tmp_path / "bl"
    assert main(["import", "blimp", str(BLIMP), str(BLIMP2), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "items.jsonl")
    items = read_items(out)
    assert len(items) == 2000
    gen = load_manifest(out).generate
    assert gen.grammar == "blimp" and gen.items_per_depth == {"0": 2000} and gen.n_items == 2000
    assert gen.options["task"] == "minimal-pair" and "CC BY 4.0" in gen.options["licence"]
    assert [s["sha256"] for s in gen.options["sources"]] == [sha256_file(BLIMP), sha256_file(BLIMP2)]
    assert [s["items"] for s in gen.options["sources"]] == [1000, 1000]

    sg = tmp_path / "sg"
    assert main(["import", "syntaxgym", str(ORC), str(CENTER), "--out", str(sg)]) == 0
    gen = load_manifest(sg).generate
    assert gen.grammar == "syntaxgym" and gen.options["task"] == "syntaxgym" and "MIT" in gen.options["licence"]
    assert gen.n_items == 19 + 28
    assert all(isinstance(i, Item) and i.suite is not None for i in read_items(sg))


def test_suites_import_items_without_a_table_keep_the_old_shape():
    item = read_blimp(BLIMP).items[0]
    assert "suite" not in item.to_dict()
    assert Item.from_dict(item.to_dict()) == item


def test_suites_import_same_paradigm_twice_is_refused(tmp_path):
    with pytest.raises(InputError, match="again from this file") as err:
        import_blimp([BLIMP, BLIMP], tmp_path / "x")
    assert err.value.field == "id"


def _broken(tmp_path: Path, source: Path, edit) -> Path:
    path = tmp_path / source.name
    path.write_text(edit(source.read_text()))
    return path


def test_suites_import_blimp_bad_line_names_file_line_field_and_fix(tmp_path):
    lines = BLIMP.read_text().splitlines()
    row = json.loads(lines[2])
    del row["sentence_bad"]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines[:2] + [json.dumps(row)] + lines[3:5]) + "\n")
    with pytest.raises(InputError) as err:
        read_blimp(path)
    assert (err.value.path, err.value.line, err.value.field) == (path, 3, "sentence_bad")
    assert "alexwarstadt/blimp" in err.value.fix
    path.write_text(lines[0] + "\n{not json\n")
    with pytest.raises(InputError) as err:
        read_blimp(path)
    assert err.value.line == 2 and "not JSON" in err.value.message


def test_suites_import_syntaxgym_bad_formula_and_missing_condition_are_located(tmp_path):
    path = _broken(tmp_path, ORC, lambda t: t.replace("(7;%match_sing%) <", "(7;%match_sing%) <<", 1))
    with pytest.raises(InputError) as err:
        read_syntaxgym(path)
    assert err.value.field == "predictions[0].formula" and "does not parse" in err.value.message
    assert err.value.line is not None and "(7;%match_sing%)" in err.value.fix

    data = json.loads(ORC.read_text())
    data["items"][3]["conditions"] = [c for c in data["items"][3]["conditions"] if c["condition_name"] != "match_plural"]
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(InputError) as err:
        read_syntaxgym(path)
    assert "item 4" in err.value.message and "match_plural" in err.value.message
    assert err.value.line == path.read_text().splitlines().index('      "item_number": 4,') + 1


def test_suites_import_syntaxgym_region_numbers_and_json_errors(tmp_path):
    data = json.loads(ORC.read_text())
    data["items"][0]["conditions"][1]["regions"][2]["region_number"] = 9
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data, indent=1))
    with pytest.raises(InputError) as err:
        read_syntaxgym(path)
    assert err.value.field == "items[0].conditions[1].regions[2].region_number"
    path.write_text('{"items": [1,]}')
    with pytest.raises(InputError) as err:
        read_syntaxgym(path)
    assert err.value.line == 1 and "not JSON" in err.value.message


def test_suites_import_cli_missing_file_is_one_paragraph(tmp_path, capsys):
    assert main(["import", "syntaxgym", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o")]) == 2
    assert "file not found" in capsys.readouterr().err
    with pytest.raises(UsageError):
        import_syntaxgym([], tmp_path / "o")


def test_suites_import_files_are_the_published_bytes_suites_md_lists():
    listed = (SUITES / "SUITES.md").read_text()
    files = [p for p in SUITES.glob("*/*") if p.is_file()]
    assert len(files) == 6
    for path in files:
        assert f"`{path.parent.name}/{path.name}` | `{sha256_file(path)}`" in listed, path
