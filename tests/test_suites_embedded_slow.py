"""Imported suites scored by the embedded SmolLM2 (slow): depthkit's numbers equal a plain transformers loop.

BLiMP: a paradigm's accuracy through ``depthkit eval`` (no --task: whole-sentence comparison) equals
the share of pairs a plain log-probability loop (start token + sentence, one sentence at a time)
ranks correctly. SyntaxGym: each suite's accuracy equals its formulas computed directly from that
loop's per-token surprisals. Accuracies are logged with ``-s`` for the notes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from depthkit.cli import main

pytestmark = pytest.mark.slow

SUITES = Path(__file__).parent / "data" / "suites"
BLIMP = SUITES / "blimp" / "distractor_agreement_relative_clause.jsonl"
SG = [SUITES / "syntaxgym" / f"{n}.json" for n in ("number_orc", "center_embed")]
N_BLIMP = 100  # the first 100 pairs keep this to minutes on 2 busy cores (the full paradigm: docs/suites.md)
TIE = 1e-4  # nats: verdicts within this of a tie may differ between batched and one-by-one float sums

HAND = {
    "number_orc": lambda s: s["match_sing", 7] < s["mismatch_sing", 7] and s["match_plural", 7] < s["mismatch_plural", 7],
    "center_embed": lambda s: s["plaus", 6] + s["plaus", 7] < s["implaus", 6] + s["implaus", 7],
}


@pytest.fixture(scope="module")
def plain():
    """log-probabilities of each token of START + text, from transformers directly (no depthkit code)."""
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from depthkit.backends.embedded import START_TOKEN, ensure_converted, find_gguf

    find_gguf()
    folder = ensure_converted()
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    start = tok.convert_tokens_to_ids(START_TOKEN)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one sentence at a time: more threads only contend (restored below)

    def token_logprobs(text: str) -> list[tuple[int, float]]:
        """(start character, log p) of every token of ``text``."""
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = [start] + enc["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        return [(enc["offset_mapping"][k][0], float(logp[k, ids[k + 1]])) for k in range(len(ids) - 1)]

    yield token_logprobs
    torch.set_num_threads(threads)


def test_suites_embedded_blimp_accuracy_equals_a_plain_loop(tmp_path, plain):
    subset = tmp_path / BLIMP.name
    subset.write_text("".join(BLIMP.read_text().splitlines(keepends=True)[:N_BLIMP]))
    folder = tmp_path / "bl"
    assert main(["import", "blimp", str(subset), "--out", str(folder)]) == 0
    assert main(["eval", str(folder), "--out", str(folder / "run"), "-q"]) == 0
    judgments = [json.loads(line) for line in (folder / "run" / "judgments.jsonl").read_text().splitlines()]
    rows = [json.loads(line) for line in subset.read_text().splitlines()]
    assert len(judgments) == len(rows) == N_BLIMP
    agree = 0
    for j, row in zip(judgments, rows):
        good = sum(lp for _, lp in plain(row["sentence_good"]))
        bad = sum(lp for _, lp in plain(row["sentence_bad"]))
        assert j["scores"]["good_sum"] == pytest.approx(good, rel=1e-4, abs=1e-4)
        assert j["correct"] == (good > bad) or abs(good - bad) < TIE
        agree += good > bad
    accuracy = sum(j["correct"] for j in judgments) / N_BLIMP
    print(f"\nBLiMP distractor_agreement_relative_clause (first {N_BLIMP}): depthkit {accuracy:.3f}, "
          f"plain loop {agree / N_BLIMP:.3f}")
    assert accuracy == pytest.approx(agree / N_BLIMP, abs=2 / N_BLIMP)


def test_suites_embedded_syntaxgym_accuracy_equals_its_formulas_computed_directly(tmp_path, plain):
    folder = tmp_path / "sg"
    assert main(["import", "syntaxgym", *map(str, SG), "--out", str(folder)]) == 0
    assert main(["eval", str(folder), "--out", str(folder / "run"), "-q"]) == 0
    judgments = {j["item_id"]: j for j in map(json.loads, (folder / "run" / "judgments.jsonl").read_text().splitlines())}
    for path in SG:
        suite = json.loads(path.read_text())
        name = suite["meta"]["name"]
        direct = []
        for raw in suite["items"]:
            surprisal = {}
            for cond in raw["conditions"]:
                text = " ".join(r["content"] for r in cond["regions"] if r["content"].strip())
                bounds, pos = [], 0  # each region's first character (its leading space included)
                for r in cond["regions"]:
                    bounds.append((pos, r["region_number"]))
                    pos += (len(r["content"]) + (1 if pos else 0)) if r["content"].strip() else 0
                for r in cond["regions"]:
                    surprisal[cond["condition_name"], r["region_number"]] = 0.0
                for off, lp in plain(text):
                    region = [n for start, n in bounds if start <= off][-1]
                    surprisal[cond["condition_name"], region] += -lp / math.log(2)
            direct.append(HAND[name](surprisal))
        got = [judgments[f"syntaxgym/{name}/{raw['item_number']:04d}"]["correct"] for raw in suite["items"]]
        print(f"\nSyntaxGym {name}: depthkit {sum(got) / len(got):.3f}, direct {sum(direct) / len(direct):.3f} "
              f"({len(got)} items)")
        assert got == direct, name
