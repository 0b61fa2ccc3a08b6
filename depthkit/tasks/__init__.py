"""Tasks: pure functions from items to backend requests, and from answers to judgments.

The contract is :class:`~depthkit.tasks.base.Task` (facts as class attributes, settings as fields,
``requests``/``verdict``/``judge``/``manifest``/``identity``); the registry maps names to classes
(plugins through the ``depthkit.tasks`` entry points). Built-in tasks, one module each:

* ``minimal-pair`` (:mod:`.minimal_pair`) — log p(good) vs log p(bad), whole sentence (sum, per-token
  mean) and critical region, both members scored the same way (same start token, no context).
* ``judgment`` (:mod:`.judgment`) — a prompted yes/no question per sentence; right when both members are
  (an item without a bad member: right when good is judged grammatical).
* ``forced-choice`` (:mod:`.forced_choice`) — both sentences in one prompt, A/B order counterbalanced by item.

Prompted tasks read prompt files (:mod:`.prompts`; shipped ones in ``prompts/``). Sentences are
presented by the one rule of :mod:`depthkit.present`.
"""

from __future__ import annotations

from .base import Task, TaskInfo, Verdict
from .factory import make_task, make_tasks
from .forced_choice import ForcedChoiceTask, good_first, judge_forced_choice
from .info import chance_level, task_info, task_names, task_order
from .judgment import JudgmentTask, judge_judgment
from .minimal_pair import (VERDICT_BY, MinimalPairTask, judge_minimal_pair, member_scores, minimal_pair_requests,
                           word_scores)
from .prompted import PromptedTask, read_answer
from .prompts import PROMPT_DIR, PromptTemplate, load_prompt, parse_prompt
from .registry import TASKS, task_class

__all__ = [
    "ForcedChoiceTask", "JudgmentTask", "MinimalPairTask", "PROMPT_DIR", "PromptTemplate", "PromptedTask", "TASKS",
    "Task", "TaskInfo", "VERDICT_BY", "Verdict", "chance_level", "good_first", "judge_forced_choice", "judge_judgment",
    "judge_minimal_pair", "load_prompt", "make_task", "make_tasks", "member_scores", "minimal_pair_requests",
    "parse_prompt", "read_answer", "task_class", "task_info", "task_names", "task_order", "word_scores",
]
