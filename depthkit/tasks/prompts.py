"""Prompt files: chat messages with placeholders and the answer choices, read and checked.

A prompt file (YAML) names its task (``task: judgment``), gives ``user:`` text (and optionally
``system:``) or a ``messages:`` list, the two answer ``choices`` and ``max_tokens``. The placeholders
each prompted task fills are the task class's ``placeholders``; errors name the file, the line and
the fix. The shipped prompts are in ``depthkit/tasks/prompts/``.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..backends.base import Prompt
from ..errors import InputError, UsageError
from .registry import TASKS

PROMPT_DIR = Path(__file__).parent / "prompts"
KEYS = ("task", "description", "system", "user", "messages", "choices", "max_tokens")


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt file: chat messages with placeholders, and the answer choices."""

    task: str
    messages: tuple[tuple[str, str], ...]  # (role, content with {placeholders})
    choices: tuple[str, ...]
    max_tokens: int
    path: str
    text: str  # the file as written, for the manifest

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def build(self, **values: str) -> Prompt:
        messages = tuple({"role": role, "content": content.format(**values)} for role, content in self.messages)
        return Prompt(messages=messages, choices=self.choices, max_tokens=self.max_tokens)

    def manifest(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "text": self.text}


def prompted_tasks() -> dict[str, tuple[str, ...]]:
    """Task name -> the placeholders its prompt fills, for every task that takes a prompt file."""
    return {name: tuple(cls.placeholders) for name, cls in TASKS.classes().items() if getattr(cls, "placeholders", ())}


def default_prompt_path(task: str) -> Path:
    return PROMPT_DIR / f"{task}.yaml"


def load_prompt(path: str | Path | None = None, task: str | None = None) -> PromptTemplate:
    """Read a prompt file (the shipped one for ``task`` when ``path`` is None)."""
    if path is None:
        prompted = prompted_tasks()
        if task not in prompted:
            raise UsageError(f"task '{task}' uses no prompt", fix=f"prompted tasks: {', '.join(prompted)}")
        path = default_prompt_path(task)
    path = Path(path)
    if not path.is_file():
        raise UsageError("prompt file not found", path=path,
                         fix=f"copy one of {PROMPT_DIR}/*.yaml, edit it, and pass it with --prompt")
    return parse_prompt(path.read_text(encoding="utf-8"), str(path), task)


def parse_prompt(text: str, path: str = "<prompt>", task: str | None = None) -> PromptTemplate:
    """Validate a prompt file's text; errors name the file, the line and the fix."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"prompt file is not valid YAML ({getattr(exc, 'problem', exc)})", path=path,
                         line=mark.line + 1 if mark else None,
                         fix="check indentation; put the prompt text under `user: |`") from None

    def line_of(key: str) -> int | None:
        m = re.search(rf"^{re.escape(key)}\s*:", text, flags=re.M)
        return text.count("\n", 0, m.start()) + 1 if m else None

    def fail(message: str, key: str | None = None, fix: str | None = None) -> NoReturn:
        raise InputError(message, path=path, line=line_of(key) if key else None, fix=fix, field=key)

    if not isinstance(data, dict):
        fail("a prompt file must be a YAML mapping", fix="start with `task: judgment` or `task: forced-choice`")
    extra = sorted(set(data) - set(KEYS))
    if extra:
        fail(f"unknown key '{extra[0]}'", extra[0], fix=f"known keys: {', '.join(sorted(KEYS))}")
    prompted = prompted_tasks()
    file_task = data.get("task")
    if file_task not in prompted:
        fail(f"task must be one of {', '.join(prompted)} (got {file_task!r})", "task",
             fix="write e.g. `task: judgment`")
    if task is not None and file_task != task:
        fail(f"this prompt is for task '{file_task}', not '{task}'", "task",
             fix=f"pass a prompt file whose `task:` is {task}")
    messages = _messages(data, fail)
    need = prompted[file_task]
    joined = "\n".join(c for _, c in messages)
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(joined) if f is not None}
    except ValueError as exc:
        fail(f"bad placeholder syntax ({exc})", "user", fix="write placeholders as {sentence}; a literal brace as {{ or }}")
    unknown = sorted(n for n in names if n not in need)
    if unknown:
        fail(f"unknown placeholder {{{unknown[0]}}}", "user",
             fix=f"task {file_task} fills {', '.join('{' + n + '}' for n in need)}; write a literal brace as {{{{")
    missing = [n for n in need if n not in names]
    if missing:
        fail(f"the prompt never shows {{{missing[0]}}}", "user",
             fix=f"task {file_task} needs {', '.join('{' + n + '}' for n in need)} in the text")
    choices = data.get("choices")
    if isinstance(choices, list) and any(isinstance(c, bool) for c in choices):
        fail("a choice was read as true/false", "choices",
             fix='quote the answers: YAML reads a bare Yes/No as a boolean, e.g. choices: ["Yes", "No"]')
    if (not isinstance(choices, list) or len(choices) != 2 or not all(isinstance(c, str) and c.strip() for c in choices)
            or choices[0].strip().lower() == choices[1].strip().lower()):
        fail("`choices` must be two different answers", "choices",
             fix="e.g. `choices: [Yes, No]` (first = grammatical) or `[A, B]` (first = {a})")
    max_tokens = data.get("max_tokens", 8)
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or not 1 <= max_tokens <= 256:
        fail("`max_tokens` must be a whole number from 1 to 256", "max_tokens")
    return PromptTemplate(file_task, tuple(messages), tuple(choices), max_tokens, path, text)


def _messages(data: dict[str, Any], fail) -> list[tuple[str, str]]:
    """(role, content) pairs from ``messages``, or from ``system``/``user``."""
    if "messages" in data and ("user" in data or "system" in data):
        fail("give either `messages` or `system`/`user`, not both", "messages")
    if "messages" in data:
        raw = data["messages"]
        if not isinstance(raw, list) or not raw:
            fail("`messages` must be a list of {role, content}", "messages")
        messages = []
        for m in raw:
            if not (isinstance(m, dict) and m.get("role") in ("system", "user", "assistant")
                    and isinstance(m.get("content"), str)):
                fail("each message needs `role` (system, user or assistant) and `content` text", "messages")
            messages.append((m["role"], m["content"].rstrip("\n")))
        return messages
    if not isinstance(data.get("user"), str) or not data["user"].strip():
        fail("the prompt needs a `user:` text", "user", fix="add `user: |` followed by the question")
    messages = [("user", data["user"].rstrip("\n"))]
    if data.get("system"):
        if not isinstance(data["system"], str):
            fail("`system` must be text", "system")
        messages.insert(0, ("system", data["system"].rstrip("\n")))
    return messages


__all__ = ["PROMPT_DIR", "PromptTemplate", "default_prompt_path", "load_prompt", "parse_prompt", "prompted_tasks"]
