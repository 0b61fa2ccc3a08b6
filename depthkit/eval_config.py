"""How to evaluate: :class:`EvalConfig`, everything besides the items, the model and the output folder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError
from .present import Presentation
from .tasks import PromptTemplate
from .tasks.minimal_pair import check_verdict_rule


@dataclass(frozen=True)
class EvalConfig:
    """How to evaluate: everything besides the items, the model and the output folder.

    ``tasks``: task names; ``options``: backend options (used when the model is a spec string);
    ``batch_size``: requests per backend call (None: the backend's default); ``verified_only``: only
    items `depthkit verify` marked verified (needs the items' folder); ``limit``: the first N test
    items of each depth (and their controls); ``cache``: the SQLite call cache (None: OUT/cache.sqlite,
    or in memory when nothing is written); ``prompts``: prompt files, each for the task its ``task:``
    names; ``presentation``: how sentences are shown; ``verdict_by``: the minimal-pair verdict
    (critical, sum or mean); ``seed``: the forced-choice A/B order; ``force``: start over (judgments
    already in OUT are moved aside, the cache stays); ``progress``: a progress bar on stderr.
    """

    tasks: tuple[str, ...] = ("minimal-pair",)
    options: Mapping[str, Any] = field(default_factory=dict)
    batch_size: int | None = None
    verified_only: bool = False
    limit: int | None = None
    cache: Path | None = None
    prompts: tuple[Path | PromptTemplate, ...] = ()
    presentation: Presentation = Presentation()
    verdict_by: str = "critical"
    seed: int = 0
    force: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        tasks = (self.tasks,) if isinstance(self.tasks, str) else tuple(dict.fromkeys(self.tasks))
        object.__setattr__(self, "tasks", tasks)
        object.__setattr__(self, "options", dict(self.options or {}))
        object.__setattr__(self, "cache", Path(self.cache) if self.cache is not None else None)
        object.__setattr__(self, "prompts", tuple(p if isinstance(p, PromptTemplate) else Path(p)
                                                  for p in self.prompts or ()))
        object.__setattr__(self, "presentation", self.presentation or Presentation())
        if self.batch_size is not None and self.batch_size < 1:
            raise UsageError("--batch-size must be at least 1", fix="e.g. --batch-size 64")
        if self.limit is not None and self.limit < 1:
            raise UsageError("--limit must be at least 1", fix="e.g. --limit 10 (items per depth)")
        check_verdict_rule(self.verdict_by)


__all__ = ["EvalConfig"]
