"""SyntaxGym prediction formulas: parse them and evaluate them on region surprisals.

The notation is SyntaxGym's (Hu et al. 2020; the ``syntaxgym`` package's ``prediction.py``):

* ``(7;%match_sing%)`` — the surprisal of region 7 in condition ``match_sing`` (``(*;%c%)``: all of
  its regions summed), a number such as ``0.5``;
* ``+`` and ``-`` (left to right), then one comparison ``<``, ``>`` or ``=`` (equal within
  ``rtol=1e-5, atol=1e-3``, as ``numpy.isclose``), then ``&`` and ``|`` (left to right);
* brackets ``[ ... ]`` or ``( ... )`` group (the published suites write ``[a < b] & [c < d]``).

Surprisals are in bits (SyntaxGym's unit); the parser needs no third-party package.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Union

EQUALITY_RTOL = 1e-5
EQUALITY_ATOL = 1e-3

_REGION = re.compile(r"\(\s*(\d+|\*)\s*;\s*%([A-Za-z0-9_\-]+)%\s*\)")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Ref:
    """``(region;%condition%)``; ``region`` None for ``*`` (every region of the condition)."""

    region: int | None
    condition: str


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Op:
    op: str  # + - < > = & |
    left: "Node"
    right: "Node"


Node = Union[Ref, Num, Op]
Surprisals = Mapping[tuple[str, int], float]  # (condition, region number) -> surprisal


class FormulaError(ValueError):
    """A formula that does not parse; ``position`` is the 0-based character where it went wrong."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} at character {position + 1}")
        self.position = position


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> Node:
        node = self.boolean()
        if self.peek():
            raise FormulaError(f"unexpected '{self.peek()}'", self.pos)
        return node

    def boolean(self) -> Node:
        node = self.comparison()
        while self.peek() in ("&", "|"):
            op = self.text[self.pos]
            self.pos += 1
            node = Op(op, node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.arithmetic()
        if self.peek() in ("<", ">", "="):
            op = self.text[self.pos]
            self.pos += 1
            node = Op(op, node, self.arithmetic())
        return node

    def arithmetic(self) -> Node:
        node = self.atom()
        while self.peek() in ("+", "-"):
            op = self.text[self.pos]
            self.pos += 1
            node = Op(op, node, self.atom())
        return node

    def atom(self) -> Node:
        char = self.peek()
        if not char:
            raise FormulaError("the formula ends where a region, a number or a bracket should be", self.pos)
        match = _REGION.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            region = None if match.group(1) == "*" else int(match.group(1))
            return Ref(region, match.group(2))
        if char in "[(":
            close = "]" if char == "[" else ")"
            self.pos += 1
            node = self.boolean()
            if self.peek() != close:
                raise FormulaError(f"expected '{close}'", self.pos)
            self.pos += 1
            return node
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return Num(float(match.group()))
        raise FormulaError(f"expected a region such as (7;%match_sing%), a number or a bracket, not '{char}'", self.pos)


@lru_cache(maxsize=1024)
def parse_formula(text: str) -> Node:
    """The formula's tree; :class:`FormulaError` (a ValueError) when it does not parse."""
    return _Parser(text).parse()


def references(node: Node) -> list[Ref]:
    """The region references of a formula, left to right."""
    if isinstance(node, Ref):
        return [node]
    if isinstance(node, Op):
        return references(node.left) + references(node.right)
    return []


def comparisons(node: Node) -> list[Op]:
    """The comparisons (``<``, ``>``, ``=``) of a formula, left to right."""
    if not isinstance(node, Op):
        return []
    own = [node] if node.op in "<>=" else []
    return own + comparisons(node.left) + comparisons(node.right)


def evaluate(node: Node, surprisals: Surprisals) -> float | bool:
    """The formula's value on ``surprisals``; a KeyError names a region the item does not have."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Ref):
        if node.region is None:
            return sum(v for (c, _), v in surprisals.items() if c == node.condition)
        return surprisals[node.condition, node.region]
    left, right = evaluate(node.left, surprisals), evaluate(node.right, surprisals)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "<":
        return left < right
    if node.op == ">":
        return left > right
    if node.op == "=":
        return math.isclose(left, right, rel_tol=0, abs_tol=EQUALITY_ATOL + EQUALITY_RTOL * abs(right))
    if node.op == "&":
        return bool(left) and bool(right)
    return bool(left) or bool(right)


def holds(formula: str, surprisals: Surprisals) -> bool:
    """Whether a prediction holds on one item's region surprisals."""
    return bool(evaluate(parse_formula(formula), surprisals))


__all__ = ["EQUALITY_ATOL", "EQUALITY_RTOL", "FormulaError", "Node", "Num", "Op", "Ref", "comparisons", "evaluate",
           "holds", "parse_formula", "references"]
