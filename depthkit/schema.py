"""Typed records: one schema per file kind, one validator used by every reader and writer.

=================  =====================  ==========================================
file               record                 written by
=================  =====================  ==========================================
items.jsonl        :class:`Item`          ``depthkit generate``
verification.jsonl :class:`VerificationRecord`  ``depthkit verify``
judgments.jsonl    :class:`Judgment`      ``depthkit eval``
manifest.json      :class:`Manifest`      every step (one section each)
references.yaml    :class:`ReferencePoint`, :class:`SuiteMatch`  people (read by ``depthkit report``)
=================  =====================  ==========================================

This module is longer than 400 lines because it is the one place every file format is defined: the
records are read together (an item's spans checked against its words, a manifest's sections) and a
format change should be reviewed in one file.

Records are frozen pydantic models: strict types (no string "true" for a bool, no 1 for a
string), required fields, unknown keys refused. :meth:`Record.from_dict` validates one JSON object
and raises :class:`~depthkit.errors.InputError` naming the file, the line, the field and the fix
(with a "did you mean" for a misspelt key); :meth:`Record.to_dict` gives the object with keys in the
documented order (docs/schema.md). Every folder's manifest records :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer, model_validator

from .errors import InputError

SCHEMA_VERSION = 1

Value = Union[bool, int, str]  # a feature value as a grammar writes it (sg, pl, yes, 3, true)
Number = Union[int, float]
Span = list[int]  # [start, end): 0-based word indices, end exclusive


class Record(BaseModel):
    """Base of every file record: frozen, strict, no unknown keys."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    FILE: ClassVar[str] = "a depthkit file"
    FIX: ClassVar[str] = "restore the file from the step that wrote it (see docs/schema.md)"

    @classmethod
    def from_dict(cls, data: Any, *, path: Any = None, line: int | None = None):
        """Validate one JSON object; errors name ``path``, ``line``, the field and the fix."""
        if not isinstance(data, dict):
            kind = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false",
                    type(None): "null"}.get(type(data), type(data).__name__)
            raise InputError(f"{cls.FILE} must hold a JSON object{' per line' if line else ''}, got {kind}", path=path,
                             line=line, fix=cls.FIX)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise validation_error(cls, exc, path=path, line=line) from None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (plain dicts and lists), keys in field order."""
        return self.model_dump(mode="python")


def _field_names(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed where ``loc`` points (for "did you mean")."""
    current: Any = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        annotation = fields[part].annotation
        candidates = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)
                      and issubclass(a, BaseModel)]
        if not candidates:
            return []
        current = candidates[0]
    return sorted(getattr(current, "model_fields", {}))


def validation_error(model: type[Record], exc: ValidationError, *, path: Any = None,
                     line: int | None = None) -> InputError:
    """The first problem of a pydantic error as an :class:`InputError` a person can act on."""
    errors = exc.errors()
    # a misspelt key shows up as one unknown and one missing field: report the unknown one, with its fix
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    missing = [str(e["loc"][-1]) for e in errors if e["type"] == "missing" and e["loc"][:-1] == err["loc"][:-1]]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    field = ".".join(str(p) for p in loc) or None
    where = f"record on line {line}" if line else "record"
    kind = err["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1])
        close = difflib.get_close_matches(name, missing, n=1) or difflib.get_close_matches(name, _field_names(model, loc), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return InputError(f"{where} has an unknown field '{field}'", path=path, line=line, field=field,
                          fix=f"{hint}{model.FIX}")
    if kind == "missing":
        return InputError(f"{where} has no '{field}' field", path=path, line=line, field=field, fix=model.FIX)
    if kind in ("value_error", "assertion_error"):
        message = str(err.get("ctx", {}).get("error", err["msg"])).removeprefix("Value error, ")
        return InputError(f"{where}: {message}", path=path, line=line, field=field, fix=model.FIX)
    got = err.get("input")
    shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return InputError(f"{where}: field '{field}' {err['msg'][0].lower() + err['msg'][1:]} (got {shown})", path=path,
                      line=line, field=field, fix=model.FIX)


# ------------------------------------------------------------------------------------------- items

_TREE_TOKEN = re.compile(r"\(\s*([^\s()]+)?|\)|([^\s()]+)")


def tree_leaves(text: str) -> list[str]:
    """The leaves of a bracketed tree such as ``(S (NP (Det the) (N doctor)) (VP (IV laughs)))``.

    Reads the notation exactly as ``nltk.Tree.fromstring`` does (same tokens, same errors), without
    importing nltk (a second's import for every reader of items). Raises ValueError when it does not parse.
    """
    depth, closed, leaves = 0, False, []
    for match in _TREE_TOKEN.finditer(text):
        token = match.group()
        if token[0] == "(":
            if depth == 0 and closed:
                raise ValueError(f"a second tree starts at character {match.start()}")
            depth += 1
        elif token == ")":
            if depth == 0:
                raise ValueError(f"')' without its '(' at character {match.start()}")
            depth -= 1
            closed = closed or depth == 0
        elif depth == 0:
            raise ValueError(f"'{token}' outside the brackets at character {match.start()}")
        else:
            leaves.append(token)
    if depth:
        raise ValueError(f"{depth} bracket(s) not closed")
    if not closed:
        raise ValueError("no bracketed tree")
    return leaves


class MemberSpans(Record):
    """A region in each member of a pair: ``good`` and ``bad`` word spans."""

    good: Span = Field(min_length=2, max_length=2)
    bad: Span | None = Field(default=None, min_length=2, max_length=2)


class Regions(Record):
    """Word spans of an item: where the pair differs, what is compared, the agreement controller."""

    target: MemberSpans | None = None
    critical: MemberSpans | None = None
    controller: Span | None = Field(default=None, min_length=2, max_length=2)


class PairFacts(Record):
    """What the minimal pair changed: ``feature`` from ``good_value`` to ``bad_value``."""

    feature: str
    good_value: Value | None
    bad_value: Value | None
    type: str | None = None  # the pair type (the grammar's `pairs:` name, or the feature in lower case)


class SuiteTable(Record):
    """An item imported from a SyntaxGym suite: its region table and the suite's own predictions.

    ``regions`` are the region names in region-number order (region k is ``regions[k-1]``);
    ``conditions`` maps each condition to its region contents in the same order; ``predictions``
    are the suite's formulas over region surprisals (SyntaxGym's notation, e.g.
    ``(7;%match_sing%) < (7;%mismatch_sing%)``), aggregated within a region by ``metric``.
    """

    regions: list[str] = Field(min_length=1)
    conditions: dict[str, list[str]] = Field(min_length=1)
    predictions: list[str] = []
    metric: Literal["sum", "mean", "median", "range", "max", "min"] = "sum"

    @model_validator(mode="after")
    def _one_content_per_region(self) -> "SuiteTable":
        for name, contents in self.conditions.items():
            if len(contents) != len(self.regions):
                raise ValueError(f"condition '{name}' has {len(contents)} region contents for {len(self.regions)} "
                                 "regions")
        return self


class Item(Record):
    """One line of items.jsonl: a sentence at an exact depth, its ungrammatical twin, tree, regions, metrics."""

    FILE: ClassVar[str] = "items.jsonl"
    FIX: ClassVar[str] = "items.jsonl must be written by `depthkit generate` (see docs/schema.md); regenerate it"

    id: str = Field(min_length=1)
    grammar: str
    construction: str | None
    kind: Literal["test", "control"]
    control_of: str | None
    depth: int = Field(ge=0)
    good: str = Field(min_length=1)
    bad: str | None
    tree: str | None  # None for items imported from suites that give no tree (BLiMP, SyntaxGym)
    regions: Regions
    pair: PairFacts | None
    frame: str
    metrics: dict[str, Number]
    match: dict[str, int] | None = None
    set_id: str | None = None  # items of one set share a lexical frame (a depth ladder, or one draw)
    condition: dict[str, Value] | None = None  # the design cell: controller value, attractors, pair type
    suite: SuiteTable | None = None  # imported SyntaxGym items: every condition's regions and the predictions

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; ``suite`` only for items that have one (other items keep their shape)."""
        data = super().to_dict()
        if data.get("suite") is None:
            data.pop("suite", None)
        return data

    @field_validator("tree")
    @classmethod
    def _tree_parses(cls, tree: str | None) -> str | None:
        if tree is None:
            return tree
        try:
            tree_leaves(tree)
        except ValueError as exc:
            raise ValueError(f"its tree does not parse ({exc})") from None
        return tree

    @model_validator(mode="after")
    def _consistent(self) -> "Item":
        if self.tree is not None and tree_leaves(self.tree) != self.words:
            raise ValueError("the leaves of its tree are not the words of 'good'")
        if self.kind == "control" and not self.control_of:
            raise ValueError("a control item needs 'control_of' (the id of its test item)")
        if self.kind == "test" and self.control_of is not None:
            raise ValueError("a test item has 'control_of' set; only controls name a test item")
        n_good = len(self.good.split(" "))
        n_bad = len(self.bad.split(" ")) if self.bad is not None else None
        spans: list[tuple[str, Span | None, int | None]] = [("regions.controller", self.regions.controller, n_good)]
        for name in ("target", "critical"):
            region = getattr(self.regions, name)
            if region is not None:
                spans += [(f"regions.{name}.good", region.good, n_good), (f"regions.{name}.bad", region.bad, n_bad)]
        for name, span, n in spans:
            if span is None or n is None:
                continue
            if not 0 <= span[0] < span[1] <= n:
                raise ValueError(f"{name} {span} is not a word span of the sentence ({n} words)")
        return self

    @property
    def words(self) -> list[str]:
        return self.good.split(" ")

    @property
    def is_control(self) -> bool:
        return self.kind == "control"

    @property
    def paired(self) -> bool:
        return self.bad is not None


# ------------------------------------------------------------------------------------ verification

Status = Literal["ok", "failed", "not_run", "error"]


class CheckResult(Record):
    """One parser's part of a verification record; a check that did not decide has only status and reason."""

    status: Status

    @classmethod
    def not_run(cls, reason: str):
        """The check was not run on this item (parser missing, skipped, or no check applies)."""
        return cls(status="not_run", reason=reason)

    @classmethod
    def error(cls, reason: str):
        """The check raised on this item; the others in its batch still count."""
        return cls(status="error", reason=reason)

    @model_serializer(mode="wrap")
    def _only_set(self, handler):  # keys the check wrote, in field order (not_run/error: status, reason)
        data = handler(self)
        return {k: v for k, v in data.items() if k in self.model_fields_set}


class GrammarCheck(CheckResult):
    in_language: bool | None = None
    bad_rejected: bool | None = None
    n_parses: int | None = None
    capped: bool | None = None
    ambiguous: bool | None = None
    intended_parse: bool | None = None
    reason: str | None = None


class SpacyCheck(CheckResult):
    root_ok: bool | None = None
    subject_ok: bool | None = None
    measured_depth: int | None = None
    depth_ok: bool | None = None
    dep_length_total: int | None = None
    dep_length_max: int | None = None
    root: list[int] | None = None
    subject: int | None = None
    aligned: bool | None = None
    heads: list[int | None] | None = None
    deps: list[str] | None = None
    reason: str | None = None


class BeneparCheck(CheckResult):
    labeled_f1: float | None = None
    unlabeled_f1: float | None = None
    labeled_precision: float | None = None
    labeled_recall: float | None = None
    split_ok: bool | None = None
    measured_depth: int | None = None
    depth_ok: bool | None = None
    parse: str | None = None
    reason: str | None = None


class VerificationRecord(Record):
    """One line of verification.jsonl: the three checks of one item and the overall verdict."""

    FILE: ClassVar[str] = "verification.jsonl"
    FIX: ClassVar[str] = "run `depthkit verify --force` to rewrite verification.jsonl"

    item_id: str
    depth: int = Field(ge=0)
    construction: str | None
    kind: Literal["test", "control"]
    grammar: GrammarCheck
    spacy: SpacyCheck
    benepar: BeneparCheck
    verified: bool
    verified_by: str


# --------------------------------------------------------------------------------------- judgments

class Judgment(Record):
    """One line of judgments.jsonl: one item under one task, the verdict and the task's scores.

    ``correct`` is None when no verdict was possible; ``scores`` holds the task's numbers (the task
    module documents its keys: :mod:`depthkit.tasks`).
    """

    FILE: ClassVar[str] = "judgments.jsonl"
    FIX: ClassVar[str] = "run `depthkit eval --force` to rewrite judgments.jsonl (cached answers are reused)"

    item_id: str
    model: str
    task: str
    depth: int = Field(ge=0)
    construction: str | None
    kind: Literal["test", "control"]
    control_of: str | None
    correct: bool | None
    verdict_by: str | None
    scores: dict[str, Any]


# --------------------------------------------------------------------------------------- manifests

class Section(Record):
    """One step's part of manifest.json. Unknown keys are refused like in every record."""

    FILE: ClassVar[str] = "manifest.json"
    FIX: ClassVar[str] = "re-run the step that wrote this manifest section (or restore the file)"


class GenerateSection(Section):
    schema_version: int = SCHEMA_VERSION
    grammar: str
    grammar_path: str
    grammar_sha256: str
    includes: list[str] = []
    construction: str | None = None
    options: dict[str, Any] = {}
    n_items: int = Field(ge=0)
    items_per_depth: dict[str, int] = {}
    depthkit_version: str | None = None
    versions: dict[str, str] = {}
    design: dict[str, Any] = {}  # sets (ladder/independent), conditions, sets kept and drawn
    rejected: dict[str, dict[str, int]] = {}  # depth -> reason -> frames rejected (see generation.validity)


class VerifySection(Section):
    schema_version: int = SCHEMA_VERSION
    complete: bool | None = None
    files: list[str] = []
    n_items: int | None = None
    n_records: int | None = None
    n_verified: int | None = None
    notes: list[str] = []
    parsers: dict[str, Any] = {}
    rule: str | None = None
    settings: dict[str, Any] = {}
    timing: dict[str, Any] = {}
    versions: dict[str, str] = {}


class ServerCount(Record):
    """One server of an openai backend with several base URLs: what it was sent and how it fared."""

    url: str  # without user:password or query string
    requests: int = Field(ge=0)  # requests sent to it (retries included)
    errors: int = Field(ge=0)  # of which failed (the request then went to another server or was retried)
    taken_out: int = Field(ge=0)  # times it was taken out of rotation after a failure


class EvalSection(Section):
    schema_version: int = SCHEMA_VERSION
    status: Literal["running", "complete", "failed", "interrupted"]
    items: str
    items_sha256: str | None = None
    model: str
    backend: dict[str, Any] = {}
    options: dict[str, Any] = {}
    tasks: dict[str, Any] = {}
    presentation: dict[str, Any] = {}
    seed: int = 0
    verified_only: bool = False
    limit: int | None = None
    batch_size: int | None = None
    cache: str | None = None
    identity: dict[str, Any] = {}
    depthkit_version: str | None = None
    versions: dict[str, str] = {}
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    counts: dict[str, Any] = {}
    servers: list[ServerCount] = []  # per-server counts of a backend with several servers (openai)
    error: str | None = None

    @model_serializer(mode="wrap")
    def _only_set(self, handler):  # the facts known so far: a running eval has no finished/counts/error yet
        data = handler(self)
        return {k: v for k, v in data.items() if k in self.model_fields_set}


class ReportSection(Section):
    schema_version: int = SCHEMA_VERSION
    runs: list[str] = []
    generated: list[str] = []
    threshold: float
    title: str | None = None
    n_judgments: int = Field(ge=0)
    created: str | None = None
    depthkit_version: str | None = None
    versions: dict[str, str] = {}
    references: str | None = None  # the reference file drawn (`depthkit report --reference`); None: none drawn


SECTIONS: dict[str, type[Section]] = {"generate": GenerateSection, "verify": VerifySection, "eval": EvalSection,
                                      "report": ReportSection}


class Manifest(Record):
    """manifest.json: what made the files of a folder, one section per step."""

    FILE: ClassVar[str] = "manifest.json"
    FIX: ClassVar[str] = "re-run the step that wrote this folder (or restore manifest.json)"

    generate: GenerateSection | None = None
    verify: VerifySection | None = None
    eval: EvalSection | None = None
    report: ReportSection | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(mode="python").items() if v is not None}


# ------------------------------------------------------------------------------------ references

SuiteKind = Literal["blimp", "syntaxgym"]


class ReferencePoint(Record):
    """One published accuracy in a references file (depthkit/data/references.yaml, `references:`)."""

    FILE: ClassVar[str] = "references.yaml"
    FIX: ClassVar[str] = ("a reference point has id, suite (blimp or syntaxgym), name, model, accuracy (0 to 1), "
                          "items, measure, citation and source (see the comments in depthkit/data/references.yaml)")

    id: str = Field(min_length=1)
    suite: SuiteKind
    name: str = Field(min_length=1)  # the paradigm (BLiMP) or suite (SyntaxGym) name
    model: str = Field(min_length=1)  # e.g. "GPT-2", "humans"
    accuracy: float = Field(ge=0, le=1)
    items: int = Field(ge=1)  # how many items (pairs, suite items) the number rests on
    measure: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    source: str = Field(min_length=1)  # where the number is printed or stored
    note: str | None = None


class SuiteMatch(Record):
    """A suite paradigm and the depthkit grammar and depth that test the same thing (`matches:`)."""

    FILE: ClassVar[str] = "references.yaml"
    FIX: ClassVar[str] = ("a match has suite (blimp or syntaxgym), name, grammar (a depthkit grammar), depth and why "
                          "(see the comments in depthkit/data/references.yaml)")

    suite: SuiteKind
    name: str = Field(min_length=1)
    grammar: str = Field(min_length=1)
    depth: int = Field(ge=0)
    why: str = Field(min_length=1)


__all__ = [
    "SCHEMA_VERSION", "BeneparCheck", "CheckResult", "EvalSection", "GenerateSection", "GrammarCheck", "Item",
    "Judgment", "Manifest", "MemberSpans", "PairFacts", "Record", "ReferencePoint", "Regions", "ReportSection",
    "SECTIONS", "Section", "ServerCount", "SpacyCheck", "SuiteKind", "SuiteMatch", "SuiteTable", "VerificationRecord", "VerifySection", "tree_leaves", "validation_error",
]
