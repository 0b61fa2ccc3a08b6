"""The hf backend on a tiny random llama (built in the test, offline): prefix-tree scoring equals
plain scoring, batching does not change scores, whitespace/offset rules, start token, prompts."""

from __future__ import annotations

import math

import pytest

from _eval_helpers import items_folder, make_tiny_model, read_judgments
from depthkit.backends import get_backend
from depthkit.backends.answers import normalise
from depthkit.backends.answers import normalise
from depthkit.backends.base import Prompt, ScoreRequest
from depthkit.backends.hf.packing import PrefixTree, budget_batches, group_by_prefix
from depthkit.errors import DepthkitError
from depthkit.evaluation import evaluate

pytest.importorskip("torch")
pytest.importorskip("transformers")

SENTENCES = ["The doctor that the boys know smiles.", "The doctor that the boys know smile.",
             "The author laughs.", "The authors laugh.", "A pilot admires the senators.",
             "The café owner smiles.", "The doctor that the boys know smiles."]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def backend(tiny):
    b = get_backend(f"hf:{tiny}", threads=1)
    b.load()
    return b


# Batching and padding change float32 summation order in every layer: a log-probability moves by a few ulps
# of the logits it came from (measured: up to 2.3e-6 of its magnitude on the tiny random model). 1e-5 of the
# magnitude leaves room for that, and is still orders below a real difference (an off-by-one token: nats).
FLOAT32_REL = 1e-5


def near(a: float, b: float, terms: int = 1) -> bool:
    """Equal up to float32 rounding at their magnitude (``terms`` values summed: each may round)."""
    return abs(a - b) <= FLOAT32_REL * terms * max(1.0, abs(a), abs(b))


def requests():
    return [ScoreRequest("", s) for s in SENTENCES]


def test_fast_paths_are_active_and_exact(backend):
    assert backend.forward.tree_ok and backend.forward.split_head
    tree = backend.score(requests())
    backend.config["share_prefix"] = False
    try:
        unshared = backend.score(requests())
    finally:
        backend.config["share_prefix"] = True
    seqs = [backend.start_ids + backend.encode(s)[0] for s in SENTENCES]
    plain = backend.forward.plain_logprobs(seqs, split_head=False)
    for text, t, u, p in zip(SENTENCES, tree, unshared, plain):
        assert t.tokens == u.tokens
        assert all(near(a, b) for a, b in zip(t.logprobs, u.logprobs))
        assert near(t.total, sum(p), len(p))
        if text.isascii():
            assert all(near(a, b) for a, b in zip(t.logprobs, p[len(backend.start_ids):]))


def test_batched_and_one_by_one_agree(backend):
    together = backend.score(requests())
    for request, score in zip(requests(), together):
        alone = backend.score([request])[0]
        assert alone.tokens == score.tokens
        assert all(near(a, b) for a, b in zip(alone.logprobs, score.logprobs))
    backend.config["max_batch_tokens"] = 16  # one row per forward pass
    try:
        small = backend.score(requests())
    finally:
        backend.config["max_batch_tokens"] = 1024
    assert all(near(a.total, b.total, len(a.logprobs)) for a, b in zip(small, together))


def test_pair_shares_its_prefix(backend):
    backend.forward_tokens = 0
    backend.score(requests()[:2])
    shared = backend.forward_tokens
    backend.config["share_prefix"] = False
    backend.forward_tokens = 0
    try:
        backend.score(requests()[:2])
    finally:
        backend.config["share_prefix"] = True
    assert shared < backend.forward_tokens


def test_tokens_follow_the_whitespace_rule(backend):
    for text, score in zip(SENTENCES, backend.score(requests())):
        assert "".join(score.tokens) == text
        assert list(score.offsets) == sorted(score.offsets) and score.offsets[0] == 0
        for tok, off in zip(score.tokens, score.offsets):
            assert text[off:off + len(tok)] == tok
            assert tok.isspace() or not tok.endswith(" ")  # whitespace goes with the word after it
        assert all(lp <= 0 for lp in score.logprobs)


def test_context_is_conditioned_on(backend):
    whole = backend.score([ScoreRequest("", "The author laughs.")])[0]
    split = backend.score([ScoreRequest("The author", " laughs.")])[0]
    assert split.tokens == whole.tokens[-len(split.tokens):]
    assert near(split.total, sum(whole.logprobs[-len(split.tokens):]), len(split.tokens))


def test_start_token_option(tiny):
    default = get_backend(f"hf:{tiny}", threads=1)
    assert default.start_text == "<|im_start|>"  # the tokenizer's BOS
    eot = get_backend(f"hf:{tiny}", threads=1, start_token="<|endoftext|>")
    none = get_backend(f"hf:{tiny}", threads=1, start_token="none")
    r = [ScoreRequest("", "The author laughs.")]
    a, b, c = default.score(r)[0], eot.score(r)[0], none.score(r)[0]
    assert a.tokens == b.tokens == c.tokens
    assert a.logprobs != b.logprobs
    assert c.logprobs[0] == 0.0 and c.logprobs[1:] != a.logprobs[1:]
    assert eot.fingerprint() != default.fingerprint()


def test_prompts_use_the_chat_template_and_rank_choices(backend):
    prompt = Prompt(({"role": "user", "content": "Is it right? Answer Yes or No."},), ("Yes", "No"), max_tokens=3)
    text = backend.tokenizer.decode(backend.prompt_ids(prompt))
    assert text.startswith("<|im_start|>user\n") and text.endswith("<|im_start|>assistant\n")
    first, second = backend.complete([prompt, prompt])
    assert first == second and isinstance(first.text, str)
    assert set(first.choice_logprobs) == {"Yes", "No"} and all(v <= 0 for v in first.choice_logprobs.values())
    no_choices = backend.complete([Prompt(prompt.messages, (), 2)])[0]
    assert no_choices.choice_logprobs is None


def test_prompt_prefix_tree_matches_plain_generation(backend):
    prompts = [Prompt(({"role": "user", "content": f"Is this right: The {w} laughs? Answer Yes or No."},),
                      ("Yes", "No"), max_tokens=4) for w in ("author", "authors", "doctor", "pilot", "senators")]
    prompts.append(Prompt(({"role": "user", "content": "Which? A: x B: y"},), ("A", "B"), max_tokens=1))
    tree = backend.complete(prompts)
    assert backend.decoder.tree_ok is True
    plain = backend.decoder.complete_plain(prompts, [backend.prompt_ids(p) for p in prompts])
    for a, b in zip(tree, plain):
        assert a.text == b.text
        plain_p = normalise(b.choice_logprobs)
        assert all(near(a.choice_logprobs[c], plain_p[c], 8) for c in a.choice_logprobs)


def test_p_answer_is_each_choice_continuing_the_prompt_normalised_over_the_choices(backend):
    """P(answer) (depthkit.backends.answers): the choice's own tokens after the prompt, log-softmax over the choices;
    a longer choice counts all its tokens, and variants (" Yes", "yes") are not added in."""
    choices = ("Yes", "No way at all")
    prompt = Prompt(({"role": "user", "content": "Is the author right? Answer Yes or No."},), choices, max_tokens=2)
    [got] = backend.complete([prompt])
    ids = backend.prompt_ids(prompt)
    raw = {}
    for choice in choices:
        tokens = backend.encode(choice)[0]
        lp = backend.forward.plain_logprobs([ids + tokens], split_head=False)[0]
        raw[choice] = sum(lp[len(ids):])
    assert len(backend.encode(choices[1])[0]) > 1
    want = normalise(raw)
    for c in choices:
        assert near(got.choice_logprobs[c], want[c], 8)
    assert sum(math.exp(v) for v in got.choice_logprobs.values()) == pytest.approx(1.0, rel=1e-9)


def judgment_prompts(words):
    return [Prompt(({"role": "user", "content": f"Is this sentence right?\n\nSentence: The {w} laughs.\n\n"
                                                "Answer Yes or No."},), ("Yes", "No"), max_tokens=4) for w in words]


def test_prompt_prefix_cache_matches_the_uncached_paths(tiny):
    b = get_backend(f"hf:{tiny}", threads=1, max_batch_tokens=256)
    words = ("author", "authors", "doctor", "pilot", "senators", "café owner", "boys")
    prompts = judgment_prompts(words) + [Prompt(({"role": "user", "content": "Which? A: x B: y"},), ("A", "B"), 1)]
    cached = b.complete(prompts)
    assert b.decoder.exact == {True: True}
    computed = b.decoder.prefixes.computed
    assert computed >= 1 and all(len(p) >= 8 for p in b.decoder.prefixes.known)
    again = b.complete(prompts[2:5])  # a later call reuses the instructions' keys and values
    assert b.decoder.prefixes.computed == computed
    b.config["prefix_cache"] = False
    uncached = b.complete(prompts)
    plain = [normalise(p.choice_logprobs, p.choice_logprobs)
             for p in b.decoder.complete_plain(prompts, [b.prompt_ids(p) for p in prompts])]
    texts = [p.text for p in b.decoder.complete_plain(prompts, [b.prompt_ids(p) for p in prompts])]
    for c, u, p, text in zip(cached, uncached, plain, texts):
        assert c.text == u.text == text and c.choice_logprobs.keys() == u.choice_logprobs.keys() == p.keys()
        assert all(near(c.choice_logprobs[k], u.choice_logprobs[k], 10) for k in c.choice_logprobs)  # rel 1e-4
        assert all(near(c.choice_logprobs[k], p[k], 10) for k in c.choice_logprobs)
    assert [a.text for a in again] == [c.text for c in cached[2:5]]


def test_prompt_prefix_cache_computes_fewer_tokens(tiny):
    b = get_backend(f"hf:{tiny}", threads=1)
    prompts = judgment_prompts(("author", "authors", "doctor", "pilot", "senators", "boys") * 4)
    b.complete(prompts[:2])  # the one-time exactness checks
    b.forward_tokens = 0
    b.complete(prompts)
    cached = b.forward_tokens
    b.config["prefix_cache"] = False
    b.complete(prompts[:2])
    b.forward_tokens = 0
    b.complete(prompts)
    assert cached < b.forward_tokens


def test_split_by_prefix():
    from depthkit.backends.hf.prefix import split_by_prefix

    instr = list(range(100, 110))
    encoded = [instr + [1, 2], instr + [1, 3], instr + [4], [7, 8, 9], instr[:5] + [0]]
    groups = dict(split_by_prefix(encoded, known=[]))
    assert groups[tuple(instr)] == [0, 1, 2] and groups[()] == [3, 4]
    # a known prefix wins; a prompt no longer than a prefix is never cut to nothing
    groups = dict(split_by_prefix(encoded + [instr], known=[tuple(instr + [1])]))
    assert groups[tuple(instr + [1])] == [0, 1] and groups[tuple(instr[:9])] == [2, 5]
    assert dict(split_by_prefix([instr + [1], instr + [2]], known=[], min_tokens=11)) == {(): [0, 1]}


def test_plain_prompt_without_chat_template(tiny):
    b = get_backend(f"hf:{tiny}", threads=1, chat_template="false")
    prompt = Prompt(({"role": "system", "content": "Be brief."}, {"role": "user", "content": "Answer:"}), ("A", "B"))
    assert b.tokenizer.decode(b.prompt_ids(prompt)) == "<|im_start|>Be brief.\n\nAnswer:"


def test_group_by_prefix():
    seqs = [[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 6], [0, 7, 8], [0, 1, 2, 3, 4, 5]]
    trees = group_by_prefix(seqs)
    assert sorted(len(t.tokens) for t in trees) == [3, 7]
    big = next(t for t in trees if len(t.tokens) == 7)
    assert big.paths[0] == big.paths[3] and big.paths[1][:5] == big.paths[0][:5]
    assert big.positions == [0, 1, 2, 3, 4, 5, 5]
    assert len(group_by_prefix(seqs, share=False)) == 4
    tree = PrefixTree.build({0: [5, 6], 1: [7]})
    assert tree.parents == [-1, 0, -1]


@pytest.mark.parametrize("spec", ["LOCAL", "nosuch-org/nosuch-model-depthkit"])
def test_missing_model_is_a_clear_error(tmp_path, monkeypatch, spec):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never the network, whatever the test machine has
    spec = str(tmp_path / "nothing") if spec == "LOCAL" else spec
    with pytest.raises(DepthkitError, match=f"cannot load model '{spec}'") as err:
        get_backend(f"hf:{spec}").score([ScoreRequest("", "x")])
    assert "local folder" in err.value.fix


def test_any_loading_failure_is_a_clear_error(tiny, monkeypatch):
    import transformers

    def broken(*args, **kwargs):  # what transformers did for an uncached hf:gpt2
        raise TypeError("expected str, bytes or os.PathLike object, not NoneType")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", broken)
    with pytest.raises(DepthkitError) as err:
        get_backend(f"hf:{tiny}").load()
    assert "cannot load model" in err.value.message
    assert "TypeError: expected str, bytes or os.PathLike object, not NoneType" in err.value.message


def test_budget_batches():
    assert budget_batches([], 10) == []
    # padded size = longest (the last, lengths are sorted) x count: 3x3 = 9 fits 10, 5x4 does not;
    # 20 is over the budget and goes alone
    assert budget_batches([2, 3, 3, 5, 20], 10) == [(0, 3), (3, 4), (4, 5)]
    assert budget_batches([4, 4, 4], 12) == [(0, 3)] and budget_batches([1, 1, 1, 1], 2) == [(0, 2), (2, 4)]


def test_eval_end_to_end_with_a_local_model(tiny, tmp_path):
    folder = items_folder(tmp_path)
    path = evaluate(folder, f"hf:{tiny}", ("minimal-pair", "judgment", "forced-choice"), tmp_path / "run",
                    options={"threads": "1"}, limit=1, progress=False)
    records = read_judgments(path)
    assert {r["task"] for r in records} == {"minimal-pair", "judgment", "forced-choice"}
    assert all(r["model"] == f"hf:{tiny}" for r in records)
    mp = [r for r in records if r["task"] == "minimal-pair" and r["correct"] is not None]
    assert mp and all(isinstance(r["scores"]["good_critical"], float) for r in mp)
    # equal-length pairs, critical = target to end: the shared prefix cancels (docs/models.md)
    for s in (r["scores"] for r in mp):
        scale = max(1.0, abs(s["good_sum"]), abs(s["bad_sum"]))
        assert abs((s["good_sum"] - s["bad_sum"]) - (s["good_critical"] - s["bad_critical"])) <= FLOAT32_REL * 32 * scale
    prompted = {r["task"]: r for r in records if r["task"] != "minimal-pair" and r["correct"] is not None}
    assert prompted["judgment"]["verdict_by"] == "relative"
    assert prompted["forced-choice"]["verdict_by"] == "both-orders"


def test_thread_tuner_prefers_the_faster_and_explores_under_contention():
    from depthkit.backends.hf.threads import ThreadTuner

    tuner = ThreadTuner((1, 2))
    assert tuner.choose() == 2  # all CPUs first
    tuner.rate, tuner.peak = {2: 700.0}, {2: 700.0}
    picks = [tuner.choose() for _ in range(40)]
    assert picks.count(1) == 2 and picks[18] == 1  # the other choice every 20th pass
    tuner.rate = {2: 300.0}  # two threads now run at 43% of their best: contention
    picks = [tuner.choose() for _ in range(8)]
    assert picks.count(1) == 2
    tuner.rate, tuner.peak = {2: 300.0, 1: 380.0}, {2: 700.0, 1: 400.0}
    picks = [tuner.choose() for _ in range(10)]
    assert picks.count(1) >= 9  # one thread is faster now, and keeps being chosen


@pytest.mark.parametrize("threads", [1, None])
def test_hf_calls_leave_torch_threads_environment_and_log_level_as_found(tiny, monkeypatch, threads):
    import os

    import torch
    import transformers

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    before, verbosity = torch.get_num_threads(), transformers.logging.get_verbosity()
    torch.set_num_threads(3)  # neither 1 nor the CPU count: any change by the backend shows
    transformers.logging.set_verbosity_warning()
    try:
        b = get_backend(f"hf:{tiny}", **({"threads": threads} if threads else {}))
        b.score(requests())
        b.complete([Prompt(({"role": "user", "content": "Is it? Answer Yes or No."},), ("Yes", "No"), 2)])
        assert torch.get_num_threads() == 3
        assert transformers.logging.get_verbosity() == transformers.logging.WARNING
        assert "HF_HUB_OFFLINE" not in os.environ and "TRANSFORMERS_OFFLINE" not in os.environ
    finally:
        torch.set_num_threads(before)
        transformers.logging.set_verbosity(verbosity)


def gguf_style_tokenizer(folder) -> None:
    """Make the tokenizer files of ``folder`` look as transformers saves a GGUF-loaded tokenizer."""
    import json

    data = json.loads((folder / "tokenizer.json").read_text())
    data["post_processor"] = {"type": "TemplateProcessing",
                              "single": [{"SpecialToken": {"id": "<|im_start|>", "type_id": 0}},
                                         {"Sequence": {"id": "A", "type_id": 0}}],
                              "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                              "special_tokens": {"<|im_start|>": {"id": "<|im_start|>", "ids": [1],
                                                                  "tokens": ["<|im_start|>"]}}}
    data["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"},
                                                        {"type": "ByteLevel", "add_prefix_space": True,
                                                         "trim_offsets": True, "use_regex": True}]}
    (folder / "tokenizer.json").write_text(json.dumps(data))
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.update(tokenizer_class="LlamaTokenizer", add_bos_token=True, bos_token="<|im_start|>",
                  eos_token="<|im_start|>", legacy=True)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "tokenizer.model").write_bytes(b"GGUF\x03\x00\x00\x00 not a sentencepiece model")


TOKENS = dict(bos="<|im_start|>", eos="<|im_end|>", unk="<|endoftext|>", pad="<|im_end|>",
              extra=("<|im_start|>", "<|im_end|>"), max_length=256)


def test_portable_tokenizer_keeps_ids_and_adds_no_bos(tiny, tmp_path):
    import json
    import shutil

    from transformers import AutoTokenizer

    from depthkit.backends.hf.portable import PROBE_TEXTS, check_token_ids, token_ids, write_portable_tokenizer

    folder = tmp_path / "model"
    shutil.copytree(tiny, folder)
    reference = token_ids(AutoTokenizer.from_pretrained(str(tiny)), add_special_tokens=False)
    gguf_style_tokenizer(folder)
    dirty = AutoTokenizer.from_pretrained(str(folder))
    assert token_ids(dirty)[0][0] == dirty.convert_tokens_to_ids("<|im_start|>") != reference[0][0]  # BOS prepended
    write_portable_tokenizer(folder, **TOKENS)
    check_token_ids(folder, reference)
    assert not (folder / "tokenizer.model").exists()
    config = json.loads((folder / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast" and config["add_bos_token"] is False
    assert config["chat_template"].startswith("{% for m in messages %}")
    clean = AutoTokenizer.from_pretrained(str(folder))
    assert token_ids(clean) == reference and clean.eos_token == "<|im_end|>"
    assert [clean.decode(ids) for ids in reference] == list(PROBE_TEXTS)
    spec = json.loads((folder / "tokenizer.json").read_text())
    assert spec["post_processor"]["type"] == spec["decoder"]["type"] == "ByteLevel"


def test_portable_check_refuses_other_ids(tiny, tmp_path):
    from depthkit.backends.hf.portable import PROBE_TEXTS, check_token_ids

    with pytest.raises(DepthkitError, match="tokenizes"):
        check_token_ids(tiny, [[0] for _ in PROBE_TEXTS])


def test_old_embedded_cache_gets_portable_tokenizer_in_place(tiny, tmp_path, monkeypatch):
    import shutil

    from transformers import AutoTokenizer

    from depthkit.backends import embedded
    from depthkit.backends.hf.portable import is_portable, token_ids

    folder = tmp_path / "cache"
    shutil.copytree(tiny, folder)
    gguf_style_tokenizer(folder)
    before = token_ids(AutoTokenizer.from_pretrained(str(folder)), add_special_tokens=False)
    monkeypatch.setattr(embedded, "converted_dir", lambda: folder)
    monkeypatch.setattr(embedded, "SMOLLM2_TOKENS", TOKENS)
    assert not is_portable(folder)
    assert embedded.ensure_converted() == folder
    assert is_portable(folder) and not (folder / "tokenizer.model").exists()
    assert token_ids(AutoTokenizer.from_pretrained(str(folder))) == before


def test_items_sharing_a_prefix_share_it_within_a_call(backend):
    ladder = ["The doctor that the boys know smiles.", "The doctor that the boys know smile.",
              "The doctor that the boys that the pilot admires know smiles.",
              "The doctor that the boys that the pilot admires know smile."]
    one_call = backend.score([ScoreRequest("", s) for s in ladder])
    backend.forward_tokens = 0
    backend.score([ScoreRequest("", s) for s in ladder])
    together = backend.forward_tokens
    backend.forward_tokens = 0
    per_item = [backend.score([ScoreRequest("", s) for s in ladder[i:i + 2]]) for i in (0, 2)]
    assert together < backend.forward_tokens  # the two items' common beginning is computed once
    for a, b in zip(one_call, per_item[0] + per_item[1]):
        assert a.tokens == b.tokens and all(near(x, y) for x, y in zip(a.logprobs, b.logprobs))


def test_models_export_cli_writes_a_portable_folder(tiny, tmp_path, monkeypatch, capsys):
    import json
    import shutil

    from transformers import AutoTokenizer

    from depthkit.backends import embedded
    from depthkit.backends.hf.portable import token_ids
    from depthkit.cli import main

    cache = tmp_path / "cache"
    shutil.copytree(tiny, cache)
    reference = token_ids(AutoTokenizer.from_pretrained(str(tiny)), add_special_tokens=False)
    gguf_style_tokenizer(cache)
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    monkeypatch.setattr(embedded, "converted_dir", lambda: cache)
    monkeypatch.setattr(embedded, "find_gguf", lambda: tmp_path / "model.gguf")
    monkeypatch.setattr(embedded, "SMOLLM2_TOKENS", TOKENS)
    out = tmp_path / "export"
    assert main(["models", "export", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md"} <= \
        {f.name for f in out.iterdir()}
    assert not (out / "tokenizer.model").exists()
    assert json.loads((out / "tokenizer_config.json").read_text())["add_bos_token"] is False
    assert token_ids(AutoTokenizer.from_pretrained(str(out))) == reference
    assert main(["models", "export", str(out)]) != 0  # not over a folder that has files
    assert "--force" in capsys.readouterr().err
    assert main(["models", "export", str(out), "--force"]) == 0


def test_echo_mismatch_fix_points_to_the_exported_folder():
    from depthkit.backends.openai.echo import misaligned

    err = misaligned("server http://127.0.0.1:8000/v1", [], "<|endoftext|>The author laughs.")
    assert "depthkit models export" in err.fix and "another server" not in err.fix
