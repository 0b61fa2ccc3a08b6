"""Shared helpers of the eval tests (backends, tasks, evaluation): small data, a tiny HF model."""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

from depthkit.schema import Item
from depthkit.store import read_items

DATA = Path(__file__).parent / "data" / "eval"
ITEMS = DATA / "items.jsonl"

CORPUS = [
    "The doctor that the boys know smiles.", "The doctors that the boy knows smile.",
    "The author laughs.", "The authors laugh.", "A pilot admires the senators.",
    "Is the following sentence grammatically correct in English?", "Answer with Yes or No.",
    "Which of these two sentences is grammatically correct? A: B:", "Yes No A B", "café naïve",
]
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def items() -> list[Item]:
    return read_items(ITEMS)


def make_item(**fields: Any) -> Item:
    """An item with the given fields; the others filled with neutral values."""
    base = {"id": "x/d0/000", "grammar": "test", "construction": "c", "kind": "test", "control_of": None, "depth": 0,
            "good": "the author laughs", "bad": "the author laugh", "regions": {}, "pair": None,
            "frame": "", "metrics": {}}
    merged = {**base, **fields}
    merged.setdefault("tree", "(S " + merged["good"] + ")")  # a flat tree whose leaves are the words
    return Item.from_dict(merged)


def items_folder(tmp_path: Path, name: str = "set") -> Path:
    """A copy of tests/data/eval/items.jsonl in its own folder (as `depthkit generate` writes it)."""
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ITEMS, folder / "items.jsonl")
    return folder


def read_judgments(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def complete_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a file a SIGKILL may have cut: the unfinished last line is left out."""
    out = []
    for line in path.read_bytes().split(b"\n"):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def make_tiny_model(folder: Path, chat: bool = True) -> Path:
    """A 2-layer random llama with a byte-level BPE tokenizer trained on a few lines (seconds, offline)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|endoftext|>",
                                   pad_token="<|endoftext|>")
    if chat:
        fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # larger weights: sharper, more distinct distributions than the default init
        for p in model.parameters():
            p.mul_(8.0)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def plugin_entry_point(monkeypatch, group: str, name: str, value: str) -> None:
    """Make ``name = value`` the only entry point of ``group`` (a plugin, as an installed package declares it)."""
    ep = metadata.EntryPoint(name=name, value=value, group=group)
    real = metadata.entry_points

    def entry_points(**kw: Any):
        if kw.get("group") == group:
            return metadata.EntryPoints([ep])
        return real(**kw)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
