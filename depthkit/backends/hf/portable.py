"""Tokenizer files any reader takes: transformers 4.x and 5.x, vLLM, llama.cpp's converter.

A GGUF-converted byte-level BPE tokenizer saves badly: ``tokenizer_config.json`` names
``LlamaTokenizer`` with ``add_bos_token`` and ``<|im_start|>`` as BOS *and* EOS, the post-processor
prepends that BOS, the decoder is SentencePiece-style, and ``tokenizer.model`` is the GGUF file
itself. transformers 4.57 happens to read that back with the right ids; transformers 5 (vLLM's)
does not ("echoed tokens do not spell the prompt"). :func:`write_portable_tokenizer` rewrites the
files as the original SmolLM2 release has them — a plain fast tokenizer (``tokenizer.json`` with a
ByteLevel pre-tokenizer, post-processor and decoder, no added BOS), ``PreTrainedTokenizerFast``
(read as-is by every version; the class vLLM was measured with), the chat template, and the
special tokens — and :func:`check_token_ids` proves the ids unchanged on a probe set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ...errors import BackendError

FORMAT_FILE = "depthkit-format.json"
FORMAT = 2  # 1: as transformers saved a GGUF-loaded tokenizer; 2: portable tokenizer files
PROBE_TEXTS = (
    "The doctor that the boys know smiles.", "The authors that the senator admires laugh.",
    " leading space", "two  spaces and a tab\there", "Line one.\n\nLine two\n", "A café, naïve — déjà vu…",
    "numbers 3.14159 and 2026-12-02", "Yes", " No", "ÄÖÜ ß 日本語 😀", "<|endoftext|>The end",
    "<|im_start|>user\nIs this grammatical?<|im_end|>\n<|im_start|>assistant\n",
)
BYTE_LEVEL = {"add_prefix_space": False, "trim_offsets": False, "use_regex": True}


def portable_tokenizer_json(data: dict[str, Any]) -> dict[str, Any]:
    """A byte-level BPE ``tokenizer.json`` (as dict) with nothing added around the input and a ByteLevel decoder."""
    model = data.get("model") or {}
    pre = data.get("pre_tokenizer") or {}
    if model.get("type") != "BPE" or pre.get("type") != "ByteLevel":
        raise BackendError(f"cannot make a portable tokenizer from a {model.get('type')} model with a "
                           f"{pre.get('type')} pre-tokenizer (only byte-level BPE is handled)",
                           fix="save the tokenizer with the tools of its own release")
    out = dict(data)
    out["normalizer"] = None
    out["pre_tokenizer"] = {"type": "ByteLevel", **BYTE_LEVEL}
    out["post_processor"] = {"type": "ByteLevel", **BYTE_LEVEL}  # offsets only: adds no token
    out["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    out["model"] = {**model, "byte_fallback": False, "fuse_unk": False}  # every byte has its own piece
    return out


def portable_tokenizer_config(added: list[dict[str, Any]], *, bos: str, eos: str, unk: str, pad: str,
                              extra: tuple[str, ...], chat_template: str | None, max_length: int) -> dict[str, Any]:
    """``tokenizer_config.json``: a fast tokenizer that adds no special token, with the chat template."""
    config: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "add_bos_token": False,
        "add_eos_token": False,
        "add_prefix_space": False,
        "clean_up_tokenization_spaces": False,
        "bos_token": bos, "eos_token": eos, "unk_token": unk, "pad_token": pad,
        "additional_special_tokens": list(dict.fromkeys(extra)),
        "model_max_length": max_length,
        "added_tokens_decoder": {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip",
                                                                  "single_word", "special") if k in t}
                                 for t in added},
    }
    if chat_template:
        config["chat_template"] = chat_template
    return config


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_portable_tokenizer(folder: Path, *, bos: str, eos: str, unk: str, pad: str, extra: tuple[str, ...],
                             max_length: int) -> None:
    """Rewrite the tokenizer files in ``folder`` (which has a ``tokenizer.json``) to the portable form.

    Each file is replaced atomically; the GGUF copy named ``tokenizer.model`` goes last; a
    ``depthkit-format.json`` marks the folder done.
    """
    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    template = None
    if (folder / "chat_template.jinja").is_file():
        template = (folder / "chat_template.jinja").read_text(encoding="utf-8")
    elif (folder / "tokenizer_config.json").is_file():
        template = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8")).get("chat_template")
    clean = portable_tokenizer_json(data)
    config = portable_tokenizer_config(clean.get("added_tokens", []), bos=bos, eos=eos, unk=unk, pad=pad,
                                       extra=extra, chat_template=template, max_length=max_length)
    _write(folder / "tokenizer.json", json.dumps(clean, ensure_ascii=False, indent=2) + "\n")
    _write(folder / "tokenizer_config.json", json.dumps(config, ensure_ascii=False, indent=2) + "\n")
    _write(folder / "special_tokens_map.json", json.dumps(
        {"bos_token": bos, "eos_token": eos, "unk_token": unk, "pad_token": pad,
         "additional_special_tokens": config["additional_special_tokens"]}, indent=2) + "\n")
    if template:
        _write(folder / "chat_template.jinja", template)
    for stale in ("tokenizer.model", "added_tokens.json"):
        (folder / stale).unlink(missing_ok=True)
    _write(folder / FORMAT_FILE, json.dumps({"format": FORMAT}) + "\n")


def is_portable(folder: Path) -> bool:
    try:
        return json.loads((folder / FORMAT_FILE).read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError):
        return False


def token_ids(tokenizer: Any, texts: tuple[str, ...] = PROBE_TEXTS, add_special_tokens: bool = True) -> list[list[int]]:
    """Ids of each text; by default with the special tokens the tokenizer adds itself (none, for a portable one)."""
    return [list(tokenizer(t, add_special_tokens=add_special_tokens).input_ids) for t in texts]


def check_token_ids(folder: Path, reference: list[list[int]], texts: tuple[str, ...] = PROBE_TEXTS) -> None:
    """The tokenizer saved in ``folder``, loaded as a server loads it and adding what it adds by default,
    gives ``reference`` ids on ``texts`` (the original tokenizer's ids without special tokens)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    got = token_ids(tok, texts)
    for text, a, b in zip(texts, got, reference):
        if a != b:
            raise BackendError(f"the rewritten tokenizer in {folder} tokenizes {text!r} as {a[:12]} instead of {b[:12]}",
                               path=folder, fix="report this with the transformers and tokenizers versions; "
                                                "delete the folder to convert again")


__all__ = ["FORMAT", "FORMAT_FILE", "PROBE_TEXTS", "check_token_ids", "is_portable", "portable_tokenizer_config",
           "portable_tokenizer_json", "token_ids", "write_portable_tokenizer"]
