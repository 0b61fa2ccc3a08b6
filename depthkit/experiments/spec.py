"""The experiment file: one YAML file naming a whole grid (grammars x models x tasks), typed and validated.

An experiment file (docs/experiments.md) looks like::

    name: size-series
    grammars: [object-rc, {grammar: pp-attractors, options: {max_words: 16}}]
    depths: 0-4
    per_depth: 12
    seed: 1
    design: null            # ladder | independent | null (each grammar's own)
    controls: true
    models:
      - embedded
      - {spec: "openai:smollm2", servers: [http://10.0.0.1:8000/v1, http://10.0.0.2:8000/v1]}
    tasks: [minimal-pair, judgment]
    verify: true            # or false, or {skip: [benepar]}
    report: {title: "...", threshold: 0.6, reference: false}

:func:`load_experiment` reads it through :mod:`depthkit.yamlfile` (YAML 1.2 booleans, duplicate keys and
alias bombs refused) and validates it as :class:`Experiment`, a frozen record in the style of
:mod:`depthkit.schema`; every error is an :class:`~depthkit.errors.InputError` naming the file, the line of
the key to blame, the field (dotted: ``models.1.options``) and the fix.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, ClassVar, Literal, Union

from pydantic import Field, ValidationError, field_validator, model_validator

from ..errors import DepthkitError, InputError
from ..schema import Record, validation_error
from ..yamlfile import KeyLines, load_mapping, read_text

FIX = "see docs/experiments.md for the keys of an experiment file"
GENERATION_OPTIONS: dict[str, tuple[type, ...]] = {  # per-grammar options of depthkit.generation.Options, and types
    "uniform": (bool,), "min_words": (int, type(None)), "max_words": (int, type(None)), "extra_words": (int,),
    "length_mode": (str,), "unique": (bool,)}
PARSERS = ("grammar", "spacy", "benepar")


class GrammarEntry(Record):
    """One grammar of the grid: a shipped name or a file path, with generation options of its own."""

    FILE: ClassVar[str] = "experiment file"
    FIX: ClassVar[str] = FIX

    grammar: str = Field(min_length=1)
    options: dict[str, Any] = {}

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"grammar": data} if isinstance(data, str) else data

    @field_validator("options")
    @classmethod
    def _known_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        for key, value in options.items():
            if key not in GENERATION_OPTIONS:
                close = difflib.get_close_matches(key, list(GENERATION_OPTIONS), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"unknown generation option '{key}'{hint}; known: {', '.join(GENERATION_OPTIONS)}")
            types = GENERATION_OPTIONS[key]
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
                raise ValueError(f"generation option '{key}' must be {wanted}, not {value!r}")
        return options


class ModelEntry(Record):
    """One model of the grid: a backend spec (``embedded``, ``hf:PATH``, ``openai:MODEL``, ``fake``), its
    backend options, and for servers a list of base URLs (replicas of one model)."""

    FILE: ClassVar[str] = "experiment file"
    FIX: ClassVar[str] = FIX

    spec: str = Field(min_length=1)
    label: str | None = None  # the run folder's name part and what the plan shows (default: from the spec)
    options: dict[str, Any] = {}
    servers: list[str] = []
    install: str | None = None  # how to get the model, shown when it is skipped for being absent

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        data = {"spec": data} if isinstance(data, str) else data
        if isinstance(data, dict) and isinstance(data.get("spec"), str) and data["spec"].startswith("hf:~"):
            data = {**data, "spec": "hf:" + os.path.expanduser(data["spec"][3:])}  # transformers does not expand ~
        return data

    @field_validator("servers")
    @classmethod
    def _urls(cls, servers: list[str]) -> list[str]:
        for url in servers:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"server '{url}' is not an http(s) URL, e.g. http://127.0.0.1:8000/v1")
        if len(set(servers)) != len(servers):
            raise ValueError("a server URL is listed twice")
        return servers

    @property
    def name(self) -> str:
        """The label, else the spec made safe for a folder name."""
        return self.label or slug(self.spec)


class VerifyEntry(Record):
    """Whether and how items are verified before they are evaluated."""

    FILE: ClassVar[str] = "experiment file"
    FIX: ClassVar[str] = FIX

    run: bool = True
    skip: list[Literal["grammar", "spacy", "benepar"]] = []

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"run": data} if isinstance(data, bool) else data


class EvalEntry(Record):
    """How each model is asked (the settings of :class:`depthkit.eval_config.EvalConfig` an experiment may set)."""

    FILE: ClassVar[str] = "experiment file"
    FIX: ClassVar[str] = FIX

    verdict_by: Literal["critical", "sum", "mean"] = "critical"
    verified_only: bool = False
    limit: int | None = Field(default=None, ge=1)
    seed: int = 0  # the forced-choice A/B order
    batch_size: int | None = Field(default=None, ge=1)


class ReportEntry(Record):
    """The one combined report over every run of the grid."""

    FILE: ClassVar[str] = "experiment file"
    FIX: ClassVar[str] = FIX

    run: bool = True
    title: str | None = None
    threshold: float = Field(default=0.6, gt=0, lt=1)
    reference: bool = False


class Experiment(Record):
    """An experiment file: the grid to run and how to report it."""

    FILE: ClassVar[str] = "experiment file"
    FIX: ClassVar[str] = FIX

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str | None = None
    grammars: list[GrammarEntry] = Field(min_length=1)
    depths: Union[str, list[int]] = "0-4"
    per_depth: int = Field(default=12, ge=1)
    seed: int = 1
    design: Literal["ladder", "independent"] | None = None
    controls: bool = True
    models: list[ModelEntry] = Field(min_length=1)
    tasks: list[str] = Field(default=["minimal-pair"], min_length=1)
    eval: EvalEntry = EvalEntry()
    verify: VerifyEntry = VerifyEntry()
    report: ReportEntry = ReportEntry()

    @field_validator("depths")
    @classmethod
    def _depths(cls, depths: str | list[int]) -> str | list[int]:
        from ..generation import parse_depths

        try:
            parse_depths(depths if isinstance(depths, str) else ",".join(str(d) for d in depths))
        except DepthkitError as exc:
            raise ValueError(f"depths {depths!r}: {exc.message}") from None
        return depths

    @model_validator(mode="after")
    def _distinct(self) -> "Experiment":
        names = [m.name for m in self.models]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two models would share the name '{twice[0]}'; give one a different `label:`")
        if self.eval.verified_only and not self.verify.run:
            raise ValueError("eval: verified_only needs the items verified, and verify is off; turn verify on "
                             "or verified_only off")
        return self

    @property
    def depth_list(self) -> tuple[int, ...]:
        from ..generation import parse_depths

        d = self.depths
        return tuple(sorted(set(parse_depths(d if isinstance(d, str) else ",".join(str(x) for x in d)))))


def slug(text: str) -> str:
    """``text`` made safe as a folder name part."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text).strip("-.") or "model"


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; errors name the file, the line, the field and the fix."""
    path = Path(path)
    text = read_text(path, "experiment file", FIX)
    data, key_lines = load_mapping(text, path, what="experiment file", fix=FIX)
    data.setdefault("name", path.stem)
    return experiment_from_dict(data, path=path, key_lines=key_lines, base=path.parent, field_lines=field_lines(text))


def field_lines(text: str) -> dict[str, int]:
    """The line (1-based) of every key and list entry, by dotted path (``models.1.options.seed``).

    Called on text :func:`depthkit.yamlfile.load_mapping` has accepted (so it parses and is bounded).
    """
    import yaml

    lines: dict[str, int] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = f"{prefix}{key.value}"
                lines[name] = key.start_mark.line + 1
                walk(value, name + ".")
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                lines[f"{prefix}{index}"] = value.start_mark.line + 1
                walk(value, f"{prefix}{index}.")

    walk(yaml.compose(text, Loader=yaml.SafeLoader), "")
    return lines


def experiment_from_dict(data: dict[str, Any], *, path: Any = None, key_lines: KeyLines | None = None,
                         base: Path | None = None, field_lines: dict[str, int] | None = None) -> Experiment:
    """Validate a mapping as an :class:`Experiment` and check its names (grammars, tasks, backends, options).

    Relative grammar paths are resolved against ``base`` (the experiment file's folder).
    """
    lines = {k: v[0] for k, v in (key_lines or {}).items()} | (field_lines or {})
    for key in data:  # a misspelt key first: it is why a required one seems missing
        if key not in Experiment.model_fields:
            close = difflib.get_close_matches(str(key), list(Experiment.model_fields), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(f"the experiment has an unknown key '{key}'", path=path,
                             line=lines.get(str(key)), field=str(key),
                             fix=f"{hint}keys: {', '.join(Experiment.model_fields)}")
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        error = validation_error(Experiment, exc, path=path)
        raise _located(error, lines) from None
    try:
        return check_names(experiment, base)
    except InputError as error:
        error.path = error.path or path
        raise _located(error, lines) from None


def _located(error: InputError, lines: dict[str, int]) -> InputError:
    """The error with the line of the deepest key of its field the file has, and 'the experiment' for 'record'."""
    parts = (error.field or "").split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in lines and error.line is None:
            error.line = lines[".".join(parts[:end])]
            break
    if error.message.startswith("record"):
        error.message = "the experiment" + error.message[len("record"):]
    return error


def check_names(experiment: Experiment, base: Path | None = None) -> Experiment:
    """Refuse grammars, tasks, backends and backend options that do not exist (with a "did you mean")."""
    grammars = [g.model_copy(update={"grammar": resolve_grammar(g.grammar, base, i)})
                for i, g in enumerate(experiment.grammars)]
    _check_tasks(experiment.tasks)
    for i, model in enumerate(experiment.models):
        _check_model(model, i)
    return experiment.model_copy(update={"grammars": grammars})


def resolve_grammar(name: str, base: Path | None, index: int) -> str:
    """A shipped grammar's name as given; a file path made absolute (relative to ``base``)."""
    from ..grammar import list_grammar_files

    shipped = {p.stem for p in list_grammar_files()}
    if name in shipped:
        return name
    candidates = [Path(name).expanduser()]
    if base is not None and not candidates[0].is_absolute():
        candidates.insert(0, base / name)
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate.resolve())
    close = difflib.get_close_matches(name, sorted(shipped), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise InputError(f"grammar '{name}' is neither a shipped grammar nor a file", field=f"grammars.{index}",
                     fix=f"{hint}shipped: {', '.join(sorted(shipped))}; or a .yaml path (relative to the experiment "
                         "file)")


def _check_tasks(tasks: list[str]) -> None:
    from ..tasks import task_names

    known = task_names()
    for i, task in enumerate(tasks):
        if task not in known:
            close = difflib.get_close_matches(task, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(f"unknown task '{task}'", field=f"tasks.{i}", fix=f"{hint}tasks: {', '.join(known)}")
    if len(set(tasks)) != len(tasks):
        raise InputError("a task is listed twice", field="tasks", fix="list each task once")


def _check_model(model: ModelEntry, index: int) -> None:
    from ..backends.registry import backend_class, parse_spec

    field = f"models.{index}"
    try:
        name, _ = parse_spec(model.spec)
        cls = backend_class(name)
    except DepthkitError as exc:
        raise InputError(f"model '{model.spec}': {exc.message}", field=f"{field}.spec", fix=exc.fix or FIX) from None
    for key in model.options:
        if key not in cls.options:
            close = difflib.get_close_matches(key, list(cls.options), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(f"backend '{name}' has no option '{key}'", field=f"{field}.options.{key}",
                             fix=f"{hint}its options: {', '.join(sorted(cls.options)) or 'none'}")
    if model.servers and "base_url" not in cls.options:
        raise InputError(f"backend '{name}' takes no server URLs", field=f"{field}.servers",
                         fix="servers: is for OpenAI-compatible servers (spec openai:MODEL)")
    if model.servers and ("base_url" in model.options or "@" in model.spec):
        raise InputError("the server address is given twice (servers: and base_url/@URL)", field=f"{field}.servers",
                         fix="list every replica under servers: and nowhere else")


def model_problem(model: ModelEntry) -> str | None:
    """Why ``model`` cannot run on this machine (its backend's needs, a missing local folder); None: it can."""
    from ..backends.registry import backend_class, parse_spec

    name, target = parse_spec(model.spec)
    try:
        problem = backend_class(name).unavailable()
    except DepthkitError as exc:
        return exc.message
    if problem:
        return problem
    if name == "hf" and target and target.startswith(("/", ".", "~")):  # a local folder, not a hub id
        folder = Path(target).expanduser()
        if not folder.is_dir():
            return f"its model folder {folder} does not exist" + (f" ({model.install})" if model.install else "")
    return None


__all__ = ["EvalEntry", "Experiment", "GrammarEntry", "ModelEntry", "ReportEntry", "VerifyEntry", "check_names",
           "experiment_from_dict", "load_experiment", "model_problem", "slug"]
