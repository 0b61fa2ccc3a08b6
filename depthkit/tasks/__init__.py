"""Tasks: pure functions from items to backend requests, and from responses to judgments.

Three tasks, one contract (:class:`Task`): ``requests(item)`` lists what to ask the backend,
``judge(item, responses, model)`` turns the answers (same order) into one judgments.jsonl
record.

* ``minimal-pair`` — log p(good) vs log p(bad), whole sentence (sum, per-token mean) and
  critical region, both members scored the same way (same start token, no context).
* ``judgment`` — a prompted yes/no question per sentence; right when both members are (an
  item without a bad member, from a grammar without ``pair:``: right when good is judged grammatical).
* ``forced-choice`` — both sentences in one prompt, A/B order counterbalanced by item.

Sentences are *presented* to models (first letter capitalised, final period) without
changing word indices: :func:`render` maps every word to its character span, the leading
space included (whitespace belongs to the word after it), so a word's score is the sum of
the tokens that start inside it.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..backends.base import Completion, Prompt, ScoreRequest, TokenScores
from ..errors import DepthkitError
from ..present import Presentation, Rendered, render

TASKS = ("minimal-pair", "judgment", "forced-choice")
PAIRED_TASKS = ("minimal-pair", "forced-choice")  # compare good with bad: no verdict without a bad member
VERDICT_BY = ("critical", "sum", "mean")
PROMPT_DIR = Path(__file__).parent / "prompts"
PLACEHOLDERS = {"judgment": ("sentence",), "forced-choice": ("a", "b")}


# -- presentation: one rule for eval and verify (depthkit.present)

def word_scores(scores: TokenScores, rendered: Rendered) -> list[float]:
    """Per-word log-probabilities: the sum of the tokens that start inside each word."""
    return [scores.span_logprob(s, e) for s, e in rendered.word_spans]


# -- prompts -----------------------------------------------------------------------------------

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


def default_prompt_path(task: str) -> Path:
    return PROMPT_DIR / f"{task}.yaml"


def load_prompt(path: str | Path | None = None, task: str | None = None) -> PromptTemplate:
    """Read a prompt file (the shipped one for ``task`` when ``path`` is None)."""
    if path is None:
        if task not in PLACEHOLDERS:
            raise DepthkitError(f"task '{task}' uses no prompt", fix=f"prompted tasks: {', '.join(PLACEHOLDERS)}")
        path = default_prompt_path(task)
    path = Path(path)
    if not path.is_file():
        raise DepthkitError("prompt file not found", path=path,
                            fix=f"copy one of {PROMPT_DIR}/*.yaml, edit it, and pass it with --prompt")
    return parse_prompt(path.read_text(encoding="utf-8"), str(path), task)


def parse_prompt(text: str, path: str = "<prompt>", task: str | None = None) -> PromptTemplate:
    """Validate a prompt file's text; errors name the file, the line and the fix."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DepthkitError(f"prompt file is not valid YAML ({getattr(exc, 'problem', exc)})", path=path,
                            line=mark.line + 1 if mark else None,
                            fix="check indentation; put the prompt text under `user: |`") from None

    def line_of(key: str) -> int | None:
        m = re.search(rf"^{re.escape(key)}\s*:", text, flags=re.M)
        return text.count("\n", 0, m.start()) + 1 if m else None

    def fail(message: str, key: str | None = None, fix: str | None = None):
        raise DepthkitError(message, path=path, line=line_of(key) if key else None, fix=fix)

    if not isinstance(data, dict):
        fail("a prompt file must be a YAML mapping", fix="start with `task: judgment` or `task: forced-choice`")
    known = {"task", "description", "system", "user", "messages", "choices", "max_tokens"}
    extra = sorted(set(data) - known)
    if extra:
        fail(f"unknown key '{extra[0]}'", extra[0], fix=f"known keys: {', '.join(sorted(known))}")
    file_task = data.get("task")
    if file_task not in PLACEHOLDERS:
        fail(f"task must be one of {', '.join(PLACEHOLDERS)} (got {file_task!r})", "task",
             fix="write e.g. `task: judgment`")
    if task is not None and file_task != task:
        fail(f"this prompt is for task '{file_task}', not '{task}'", "task",
             fix=f"pass a prompt file whose `task:` is {task}")
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
    else:
        if not isinstance(data.get("user"), str) or not data["user"].strip():
            fail("the prompt needs a `user:` text", "user", fix="add `user: |` followed by the question")
        messages = [("user", data["user"].rstrip("\n"))]
        if data.get("system"):
            if not isinstance(data["system"], str):
                fail("`system` must be text", "system")
            messages.insert(0, ("system", data["system"].rstrip("\n")))
    need = PLACEHOLDERS[file_task]
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


# -- tasks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    """One task with its settings; ``requests`` and ``judge`` are pure."""

    name: str
    presentation: Presentation = Presentation()
    verdict_by: str = "critical"
    prompt: PromptTemplate | None = None
    seed: int = 0

    @property
    def kind(self) -> str:
        """Which backend call the task uses: ``score`` or ``complete``."""
        return "score" if self.name == "minimal-pair" else "complete"

    def requests(self, item: dict[str, Any]) -> list[ScoreRequest] | list[Prompt]:
        if self.name == "minimal-pair":
            return minimal_pair_requests(item, self.presentation)
        if self.name == "judgment":
            return judgment_requests(item, self.prompt, self.presentation)
        return forced_choice_requests(item, self.prompt, self.presentation, self.seed)

    def judge(self, item: dict[str, Any], responses: Sequence[Any], model: str) -> dict[str, Any]:
        if self.name == "minimal-pair":
            correct, by, scores = judge_minimal_pair(item, responses, self.presentation, self.verdict_by)
        elif self.name == "judgment":
            correct, by, scores = judge_judgment(item, responses, self.prompt)
        else:
            correct, by, scores = judge_forced_choice(item, responses, self.prompt, self.seed)
        return judgment_record(item, model, self.name, correct, by, scores)

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.name == "minimal-pair":
            out["verdict_by"] = self.verdict_by
        if self.prompt is not None:
            out["prompt"] = self.prompt.manifest()
        if self.name == "forced-choice":
            out["order"] = "A/B by sha256(seed, item id): good first for about half the items"
        return out


def make_task(name: str, presentation: Presentation = Presentation(), verdict_by: str = "critical",
              prompt: PromptTemplate | str | Path | None = None, seed: int = 0) -> Task:
    """A :class:`Task` by name, with its prompt loaded (the shipped one unless given)."""
    if name not in TASKS:
        raise DepthkitError(f"unknown task '{name}'", fix=f"tasks: {', '.join(TASKS)}")
    if verdict_by not in VERDICT_BY:
        raise DepthkitError(f"unknown verdict rule '{verdict_by}'", fix=f"choose one of {', '.join(VERDICT_BY)}")
    if name in PLACEHOLDERS:
        if not isinstance(prompt, PromptTemplate):
            prompt = load_prompt(prompt, name)
        elif prompt.task != name:
            raise DepthkitError(f"prompt {prompt.path} is for task '{prompt.task}', not '{name}'",
                                path=prompt.path, fix=f"give a prompt file whose `task:` is {name}")
    else:
        prompt = None
    return Task(name, presentation, verdict_by, prompt, seed)


def judgment_record(item: dict[str, Any], model: str, task: str, correct: bool | None, verdict_by: str | None,
                    scores: dict[str, Any]) -> dict[str, Any]:
    """One judgments.jsonl line (keys in the order of docs/schema.md)."""
    return {
        "item_id": item["id"], "model": model, "task": task, "depth": item["depth"],
        "construction": item.get("construction"), "kind": item.get("kind", "test"),
        "control_of": item.get("control_of"), "correct": correct, "verdict_by": verdict_by, "scores": scores,
    }


def _members(item: dict[str, Any]) -> list[str]:
    return [item["good"]] + ([item["bad"]] if item.get("bad") else [])


# minimal pair

def minimal_pair_requests(item: dict[str, Any], presentation: Presentation = Presentation()) -> list[ScoreRequest]:
    """Good then bad, each a whole presented sentence after the start token (no other context)."""
    return [ScoreRequest("", render(s, presentation).text) for s in _members(item)]


def _region(item: dict[str, Any], name: str, member: str) -> tuple[int, int] | None:
    regions = item.get("regions") or {}
    r = regions.get(name)
    if not r or not r.get(member):
        return None
    return int(r[member][0]), int(r[member][1])


def member_scores(item: dict[str, Any], member: str, scores: TokenScores,
                  presentation: Presentation = Presentation()) -> dict[str, Any]:
    """Sum, mean, critical and target scores and per-word scores of one member."""
    rendered = render(item[member], presentation)
    n = len(scores.logprobs)
    out: dict[str, Any] = {"sum": scores.total, "mean": scores.total / n if n else None, "n_tokens": n}
    for region in ("critical", "target"):
        span = _region(item, region, member)
        if span is None:
            out[region] = None
            continue
        s, e = rendered.region(*span)
        out[region] = scores.span_logprob(s, e)
        if region == "critical":
            out["critical_n_tokens"] = scores.span_count(s, e)
    out["words"] = word_scores(scores, rendered)
    return out


def judge_minimal_pair(item: dict[str, Any], responses: Sequence[TokenScores],
                       presentation: Presentation = Presentation(),
                       verdict_by: str = "critical") -> tuple[bool | None, str | None, dict[str, Any]]:
    """Verdict: the good member scores strictly higher on ``verdict_by`` (critical, sum or mean).

    ``critical`` falls back to ``sum`` for items without a critical region; the record says
    which score decided. Items without a bad member get no verdict.
    """
    members = ["good", "bad"][:len(responses)]
    per = {m: member_scores(item, m, r, presentation) for m, r in zip(members, responses)}
    scores: dict[str, Any] = {}
    for key in ("sum", "mean", "critical", "target", "n_tokens", "critical_n_tokens", "words"):
        for m in members:
            if key in per[m]:
                scores[f"{m}_{key}"] = per[m][key]
    if "bad" not in per:
        return None, None, scores
    by = verdict_by
    if per["good"].get(by) is None or per["bad"].get(by) is None:
        by = "sum"
    scores["diff"] = per["good"][by] - per["bad"][by]
    return bool(per["good"][by] > per["bad"][by]), by, scores


# prompted yes/no

def judgment_requests(item: dict[str, Any], prompt: PromptTemplate,
                      presentation: Presentation = Presentation()) -> list[Prompt]:
    """One yes/no prompt per member (good, then bad)."""
    return [prompt.build(sentence=render(s, presentation).text) for s in _members(item)]


def read_answer(completion: Completion, choices: Sequence[str]) -> tuple[str | None, str]:
    """(chosen choice or None, how): from choice log-probabilities, else from the text."""
    lp = completion.choice_logprobs
    if lp and all(c in lp and lp[c] is not None for c in choices):
        return max(choices, key=lambda c: lp[c]), "logprobs"
    text = completion.text.strip().lower()
    words = re.findall(r"[a-z0-9]+", text)
    for word in words[:3]:
        for c in choices:
            if word == c.strip().lower():
                return c, "text"
    return None, "text"


def judge_judgment(item: dict[str, Any], responses: Sequence[Completion],
                   prompt: PromptTemplate) -> tuple[bool | None, str | None, dict[str, Any]]:
    """Right when the good member is judged ``choices[0]`` and the bad one ``choices[1]``.

    An item without a bad member (its grammar has no ``pair:``) is right when the good member is
    judged ``choices[0]``: a yes-bias then scores 1.0 and guessing 0.5 (0.25 with pairs).
    """
    yes, no = prompt.choices
    scores: dict[str, Any] = {}
    verdicts, hows = [], []
    for member, completion, want in zip(("good", "bad"), responses, (yes, no)):
        answer, how = read_answer(completion, prompt.choices)
        ok = None if answer is None else answer == want
        scores[f"{member}_answer"] = answer
        scores[f"{member}_correct"] = ok
        scores[f"{member}_text"] = completion.text
        scores[f"{member}_logprobs"] = completion.choice_logprobs
        verdicts.append(ok)
        hows.append(how)
    correct = None if any(v is None for v in verdicts) else all(verdicts)
    return correct, ("logprobs" if all(h == "logprobs" for h in hows) else "text"), scores


# forced choice

def good_first(item_id: str, seed: int = 0) -> bool:
    """Whether the good member is shown first: a fixed coin per item (about half of them)."""
    return hashlib.sha256(f"{seed}\x1f{item_id}".encode("utf-8")).digest()[0] % 2 == 0


def forced_choice_requests(item: dict[str, Any], prompt: PromptTemplate, presentation: Presentation = Presentation(),
                           seed: int = 0) -> list[Prompt]:
    if not item.get("bad"):
        return []
    good, bad = render(item["good"], presentation).text, render(item["bad"], presentation).text
    a, b = (good, bad) if good_first(item["id"], seed) else (bad, good)
    return [prompt.build(a=a, b=b)]


def judge_forced_choice(item: dict[str, Any], responses: Sequence[Completion], prompt: PromptTemplate,
                        seed: int = 0) -> tuple[bool | None, str | None, dict[str, Any]]:
    if not responses:
        return None, None, {}
    first = good_first(item["id"], seed)
    good_label = prompt.choices[0] if first else prompt.choices[1]
    answer, how = read_answer(responses[0], prompt.choices)
    scores = {"good_label": good_label, "answer": answer, "text": responses[0].text,
              "logprobs": responses[0].choice_logprobs}
    return (None if answer is None else answer == good_label), how, scores


__all__ = [
    "PAIRED_TASKS", "PLACEHOLDERS", "Presentation", "PromptTemplate", "Rendered", "TASKS", "Task", "VERDICT_BY",
    "good_first", "judge_forced_choice", "judge_judgment", "judge_minimal_pair", "judgment_record", "load_prompt", "make_task",
    "member_scores", "minimal_pair_requests", "parse_prompt", "read_answer", "render", "word_scores",
]
