"""SyntaxGym test suites (Hu et al. 2020) as depthkit items.

A suite file (``test_suites/json/SUITE.json`` in cpllab/syntactic-generalization) has ``meta``
(``name``, ``metric``), ``region_meta`` (region number -> name), ``predictions`` (formulas over
region surprisals, :mod:`depthkit.suites.formula`) and ``items``: each with an ``item_number`` and
``conditions``, each condition a list of regions (``region_number``, ``content``).

Each suite item becomes one depthkit item: id ``syntaxgym/SUITE/NNNN`` (its item number), grammar
``syntaxgym``, construction the suite name, depth 0, ``suite`` holding the whole region table and
the predictions (what the ``syntaxgym`` task evaluates). ``good`` and ``bad`` are the two conditions
of the first comparison of the first prediction (good: the side predicted less surprising;
``condition`` records both names), sentences being the non-empty regions joined with spaces, as
SyntaxGym presents them; ``regions.critical`` is the compared region(s) in each, when contiguous.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..schema import Item, MemberSpans, Regions, SuiteTable
from ..store import sha256_file
from .common import Source, read_text, words, write_suite
from .formula import FormulaError, comparisons, parse_formula, references

FIX = ("give a SyntaxGym suite as published (test_suites/json/SUITE.json of cpllab/syntactic-generalization): meta.name, "
       "region_meta, predictions [{type: formula, formula}], items [{item_number, conditions [{condition_name, "
       "regions [{region_number, content}]}]}]")
METRICS = ("sum", "mean", "median", "range", "max", "min")


class _Where:
    """Locates a suite item in the file text for error lines (JSON itself gives no positions)."""

    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text

    def line_of(self, item_number: Any) -> int | None:
        match = re.search(rf'"item_number"\s*:\s*{re.escape(json.dumps(item_number))}\b', self.text)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def line_of_text(self, needle: str) -> int | None:
        at = self.text.find(needle)
        return self.text.count("\n", 0, at) + 1 if at >= 0 else None

    def error(self, message: str, field: str, line: int | None = None, fix: str = FIX) -> InputError:
        return InputError(message, path=self.path, line=line, field=field, fix=fix)


def read_syntaxgym(path: str | Path) -> Source:
    """The items of one SyntaxGym suite file; :class:`InputError` with file, line, field and fix when it is bad."""
    path = Path(path)
    text = read_text(path, "SyntaxGym suite (.json)")
    where = _Where(path, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg}, column {exc.colno})", path=path, line=exc.lineno, fix=FIX) from None
    if not isinstance(data, dict):
        raise where.error(f"the file is a JSON {type(data).__name__}, not an object", field="")
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    name = meta.get("name") or path.stem
    if not isinstance(name, str) or "/" in name or not name.strip():
        raise where.error(f"meta.name {name!r} is not a suite name", "meta.name", where.line_of_text('"name"'))
    metric = meta.get("metric", "sum")
    if metric not in METRICS:
        raise where.error(f"meta.metric {metric!r} is not one of {', '.join(METRICS)}", "meta.metric",
                          where.line_of_text('"metric"'))
    predictions = _predictions(data.get("predictions"), where)
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise where.error("the suite has no 'items' list", "items")
    region_names = _region_names(data.get("region_meta"), where)
    items = [_item(raw, i, name, region_names, predictions, metric, where) for i, raw in enumerate(raw_items)]
    return Source(path, sha256_file(path), items)


def _predictions(raw: Any, where: _Where) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise where.error("'predictions' is not a list", "predictions", where.line_of_text('"predictions"'))
    out = []
    for i, p in enumerate(raw):
        field = f"predictions[{i}].formula"
        if not isinstance(p, dict) or p.get("type", "formula") != "formula" or not isinstance(p.get("formula"), str):
            raise where.error(f"prediction {i} is not {{\"type\": \"formula\", \"formula\": TEXT}}", field,
                              where.line_of_text('"predictions"'))
        try:
            parse_formula(p["formula"])
        except FormulaError as exc:
            raise where.error(f"formula {p['formula']!r} does not parse: {exc}", field,
                              where.line_of_text(p["formula"][:40]),
                              fix="write it in SyntaxGym's notation, e.g. (7;%match_sing%) < (7;%mismatch_sing%)"
                              ) from None
        out.append(p["formula"])
    return out


def _region_names(raw: Any, where: _Where) -> dict[int, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise where.error("'region_meta' is not an object (region number -> name)", "region_meta",
                          where.line_of_text('"region_meta"'))
    out = {}
    for key, value in raw.items():
        if not str(key).isdigit() or not isinstance(value, str):
            raise where.error(f"region_meta entry {key!r}: {value!r} is not NUMBER: NAME", f"region_meta.{key}",
                              where.line_of_text('"region_meta"'))
        out[int(key)] = value
    return out


def _item(raw: Any, index: int, suite: str, names: dict[int, str], predictions: list[str], metric: str,
          where: _Where) -> Item:
    number = raw.get("item_number") if isinstance(raw, dict) else None
    line = where.line_of(number) if number is not None else None
    base = f"items[{index}]"
    if not isinstance(number, int) or isinstance(number, bool):
        raise where.error(f"item {index} has no integer item_number", f"{base}.item_number", line)
    conditions = raw.get("conditions")
    if not isinstance(conditions, list) or len(conditions) < 2:
        raise where.error(f"item {number} needs at least two conditions", f"{base}.conditions", line)
    table: dict[str, list[str]] = {}
    n_regions: int | None = None
    for c, cond in enumerate(conditions):
        field = f"{base}.conditions[{c}]"
        cname = cond.get("condition_name") if isinstance(cond, dict) else None
        if not isinstance(cname, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", cname):
            raise where.error(f"item {number}: condition {c} has no condition_name (letters, digits, _ or -)",
                              f"{field}.condition_name", line)
        if cname in table:
            raise where.error(f"item {number}: condition '{cname}' appears twice", f"{field}.condition_name", line)
        regions = cond.get("regions")
        if not isinstance(regions, list) or not regions:
            raise where.error(f"item {number}, condition '{cname}': no regions", f"{field}.regions", line)
        contents = []
        for r, region in enumerate(regions):
            rf = f"{field}.regions[{r}]"
            if not isinstance(region, dict) or region.get("region_number") != r + 1:
                raise where.error(f"item {number}, condition '{cname}': region {r} is not region number {r + 1}",
                                  f"{rf}.region_number", line,
                                  fix="number the regions 1, 2, 3... in order, as SyntaxGym suites do")
            if not isinstance(region.get("content"), str):
                raise where.error(f"item {number}, condition '{cname}', region {r + 1}: content is not text",
                                  f"{rf}.content", line)
            contents.append(" ".join(region["content"].split()))
        if n_regions is not None and len(contents) != n_regions:
            raise where.error(f"item {number}: condition '{cname}' has {len(contents)} regions, the first one "
                              f"{n_regions}", f"{field}.regions", line, fix="give every condition the same regions")
        n_regions = len(contents)
        if not any(contents):
            raise where.error(f"item {number}, condition '{cname}': every region is empty", f"{field}.regions", line)
        table[cname] = contents
    assert n_regions is not None
    for p, formula in enumerate(predictions):
        for ref in references(parse_formula(formula)):
            if ref.condition not in table or (ref.region is not None and not 1 <= ref.region <= n_regions):
                raise where.error(f"item {number}: prediction {p} refers to ({ref.region or '*'};%{ref.condition}%), "
                                  f"which it does not have (conditions {', '.join(table)}; regions 1-{n_regions})",
                                  f"predictions[{p}].formula", line)
    region_list = [names.get(k, str(k)) for k in range(1, n_regions + 1)]
    good_name, bad_name, compared = _pair(predictions, list(table))
    good, bad = sentence(table[good_name]), sentence(table[bad_name])
    critical = None
    if compared:
        span_good, span_bad = _span(table[good_name], compared), _span(table[bad_name], compared)
        if span_good and span_bad:
            critical = MemberSpans(good=span_good, bad=span_bad)
    return Item(id=f"syntaxgym/{suite}/{number:04d}", grammar="syntaxgym", construction=suite, kind="test",
                control_of=None, depth=0, good=good, bad=bad, tree=None, regions=Regions(critical=critical), pair=None,
                frame=f"syntaxgym/{suite}/{number}", metrics={"n_words": len(good.split(" "))},
                condition={"good": good_name, "bad": bad_name},
                suite=SuiteTable(regions=region_list, conditions=table, predictions=predictions, metric=metric))


def sentence(contents: Sequence[str]) -> str:
    """A condition's sentence: its non-empty regions joined with single spaces (as SyntaxGym presents it)."""
    return words(" ".join(c for c in contents if c))


def _pair(predictions: list[str], conditions: list[str]) -> tuple[str, str, list[int]]:
    """(good, bad, compared regions): the sides of the first comparison that each name one condition.

    The side predicted less surprising is good. Without such a comparison: the first two conditions.
    """
    for formula in predictions:
        for op in comparisons(parse_formula(formula)):
            if op.op == "=":
                continue
            low, high = (op.left, op.right) if op.op == "<" else (op.right, op.left)
            low_refs, high_refs = references(low), references(high)
            low_c, high_c = {r.condition for r in low_refs}, {r.condition for r in high_refs}
            if len(low_c) == 1 and len(high_c) == 1 and low_c != high_c:
                regions = sorted({r.region for r in low_refs if r.region is not None})
                return low_c.pop(), high_c.pop(), regions
    return conditions[0], conditions[1], []


def _span(contents: Sequence[str], regions: list[int]) -> list[int] | None:
    """The word span of ``regions`` (region numbers, contiguous and not all empty) in the joined sentence."""
    if regions != list(range(regions[0], regions[-1] + 1)):
        return None
    start = sum(len(c.split()) for c in contents[:regions[0] - 1])
    end = start + sum(len(contents[k - 1].split()) for k in regions)
    return [start, end] if end > start else None


def import_syntaxgym(files: Sequence[str | Path], out: str | Path) -> Path:
    """``depthkit import syntaxgym``: read the suite files, write a generated folder; returns items.jsonl's path."""
    return write_suite(out, "syntaxgym", [read_syntaxgym(f) for f in files])


__all__ = ["import_syntaxgym", "read_syntaxgym", "sentence"]
