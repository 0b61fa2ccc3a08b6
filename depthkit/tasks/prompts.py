"""Prompt files: chat messages with placeholders and the answer choices, read and checked.

A prompt file (YAML) names its task (``task: judgment``), gives ``user:`` text (and optionally
``system:``) or a ``messages:`` list, the two answer ``choices``, ``max_tokens`` and optionally
few-shot ``examples:`` (``{good, bad}`` sentence pairs, asked and answered before the question;
never one of the evaluated sentences: :func:`check_examples`). The placeholders
each prompted task fills are the task class's ``placeholders``; errors name the file, the line and
the fix. The shipped prompts are in ``depthkit/tasks/prompts/``.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from ..backends.base import Prompt
from ..errors import InputError, UsageError
from .registry import TASKS

PROMPT_DIR = Path(__file__).parent / "prompts"
KEYS = ("task", "description", "system", "user", "messages", "choices", "max_tokens", "examples")
EXAMPLE_KEYS = ("good", "bad")


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt file: chat messages with placeholders, and the answer choices."""

    task: str
    messages: tuple[tuple[str, str], ...]  # (role, content with {placeholders})
    choices: tuple[str, ...]
    max_tokens: int
    path: str
    text: str  # the file as written, for the manifest
    examples: tuple[Example, ...] = ()  # few-shot examples (``examples:``), in file order

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def build(self, shots: Sequence[tuple[dict[str, str], str]] = (), **values: str) -> Prompt:
        """The prompt for ``values``; each shot ``(values, answer)`` is asked and answered before it.

        Shots repeat the question turn (the messages after the last ``assistant`` message, or after
        the ``system`` ones) with the shot's values, each followed by an assistant turn with its answer.
        """
        start = question_start(self.messages)
        head, turn = self.messages[:start], self.messages[start:]
        messages = [{"role": role, "content": content.format(**values)} for role, content in head]
        for shot_values, answer in shots:
            messages += [{"role": role, "content": content.format(**shot_values)} for role, content in turn]
            messages.append({"role": "assistant", "content": answer})
        messages += [{"role": role, "content": content.format(**values)} for role, content in turn]
        return Prompt(messages=tuple(messages), choices=self.choices, max_tokens=self.max_tokens)

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "text": self.text}
        if self.examples:
            out["examples"] = [{"good": e.good, "bad": e.bad} for e in self.examples]
        return out


@dataclass(frozen=True)
class Example:
    """A few-shot example of a prompt file: a grammatical sentence and its ungrammatical twin."""

    good: str
    bad: str
    line: int | None = None  # where it starts in the prompt file


def question_start(messages: Sequence[tuple[str, str]]) -> int:
    """Index of the question turn: after the last assistant message, else after the system messages."""
    last = max((i for i, (role, _) in enumerate(messages) if role == "assistant"), default=None)
    if last is not None:
        return last + 1
    return next((i for i, (role, _) in enumerate(messages) if role != "system"), len(messages))


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
    examples = _examples(data.get("examples"), text, path, line_of)
    return PromptTemplate(file_task, tuple(messages), tuple(choices), max_tokens, path, text, examples)


def _example_lines(text: str) -> list[int]:
    """The line where each entry of ``examples:`` starts (empty when the file cannot be composed)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    for key, value in getattr(root, "value", []) if isinstance(root, yaml.MappingNode) else []:
        if key.value == "examples" and isinstance(value, yaml.SequenceNode):
            return [node.start_mark.line + 1 for node in value.value]
    return []


def _examples(raw: Any, text: str, path: str, line_of) -> tuple[Example, ...]:
    """Few-shot examples: a list of ``{good: SENTENCE, bad: SENTENCE}``; errors name the file and line."""
    if raw is None:
        return ()
    fix = 'write e.g.\nexamples:\n  - good: "The dogs bark."\n    bad: "The dogs barks."'
    if not isinstance(raw, list) or not raw:
        raise InputError("`examples` must be a list of {good, bad} sentence pairs", path=path,
                         line=line_of("examples"), field="examples", fix=fix)
    lines = _example_lines(text)
    out = []
    for k, entry in enumerate(raw):
        line = lines[k] if k < len(lines) else line_of("examples")
        where = f"examples[{k}]"
        if not isinstance(entry, dict):
            raise InputError(f"{where} must be a mapping with `good` and `bad`", path=path, line=line, field=where,
                             fix=fix)
        extra = sorted(set(entry) - set(EXAMPLE_KEYS))
        if extra:
            raise InputError(f"{where} has an unknown key '{extra[0]}'", path=path, line=line, field=where,
                             fix="an example has exactly `good` (a grammatical sentence) and `bad` (its twin)")
        for key in EXAMPLE_KEYS:
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"{where} needs `{key}` text", path=path, line=line, field=f"{where}.{key}",
                                 fix="quote sentences that YAML could read otherwise (yes, no, numbers); " + fix)
        if example_key(entry["good"]) == example_key(entry["bad"]):
            raise InputError(f"{where}: `good` and `bad` are the same sentence", path=path, line=line, field=where,
                             fix="`bad` is the ungrammatical twin of `good`")
        out.append(Example(entry["good"].strip(), entry["bad"].strip(), line))
    return tuple(out)


def example_key(sentence: str) -> str:
    """How examples and items are compared: case, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^\w\s']", " ", sentence.lower()).split())


def check_examples(template: PromptTemplate, sentences: Iterable[tuple[str, str]]) -> None:
    """Refuse a prompt whose few-shot example is one of the evaluated sentences (``(item id, sentence)``)."""
    if not template.examples:
        return
    shown = {}
    for example in template.examples:
        for sentence in (example.good, example.bad):
            shown.setdefault(example_key(sentence), (example, sentence))
    for item_id, sentence in sentences:
        hit = shown.get(example_key(sentence))
        if hit:
            example, text = hit
            raise InputError(f"few-shot example {text!r} is also an evaluated sentence (item {item_id}): the model "
                             "would be shown the answer", path=template.path, line=example.line, field="examples",
                             fix="replace this example with sentences that are not among the items (e.g. another "
                                 "construction or vocabulary)")


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


__all__ = ["PROMPT_DIR", "Example", "PromptTemplate", "check_examples", "default_prompt_path", "example_key", "load_prompt",
           "parse_prompt", "prompted_tasks", "question_start"]
