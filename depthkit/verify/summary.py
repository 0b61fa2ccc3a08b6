"""The verification summary: one row per parser x construction x kind x depth, printed and saved.

Files: ``verification_summary.csv`` (the rows) and ``verification_summary.json`` (the whole summary).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..schema import VerificationRecord
from ..store import write_text_atomic
from .verdict import PARSERS

SUMMARY_CSV = "verification_summary.csv"
SUMMARY_JSON = "verification_summary.json"
SUMMARY_COLUMNS = ("parser", "construction", "kind", "depth", "n", "checked", "recovered", "share", "not_run",
                   "errors", "root_ok", "subject_ok", "depth_ok", "split_ok", "mean_measured_depth", "labeled_f1",
                   "unlabeled_f1", "ambiguous", "bad_rejected")


def _share(values: list[Any]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(1 for v in vals if v) / len(vals), 4) if vals else None


def _mean(values: list[Any]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def summary_rows(records: list[VerificationRecord]) -> list[dict[str, Any]]:
    """Per parser x construction x kind x depth: share of checked items whose structure was recovered.

    Each row is a mapping over :data:`SUMMARY_COLUMNS` (None where a column does not apply).
    """
    groups: dict[tuple[str, str, int], list[VerificationRecord]] = defaultdict(list)
    for r in records:
        groups[(str(r.construction), r.kind, r.depth)].append(r)
    order = sorted(groups, key=lambda k: (k[0], k[1] != "test", k[1], k[2]))
    rows = []
    for parser in (*PARSERS, "verified"):
        for construction, kind, depth in order:
            recs = groups[(construction, kind, depth)]
            row: dict[str, Any] = {c: None for c in SUMMARY_COLUMNS}
            row.update(parser=parser, construction=construction, kind=kind, depth=depth, n=len(recs))
            if parser == "verified":
                row.update(checked=len(recs), recovered=sum(1 for r in recs if r.verified), not_run=0, errors=0)
            else:
                row.update(_check_columns(parser, [getattr(r, parser) for r in recs]))
            row["share"] = round(row["recovered"] / row["checked"], 4) if row["checked"] else None
            rows.append(row)
    return rows


def _check_columns(parser: str, checks: list[Any]) -> dict[str, Any]:
    """The columns of one parser's row from its checks of the items in one cell."""
    statuses = [c.status for c in checks]
    out: dict[str, Any] = {"checked": sum(1 for s in statuses if s in ("ok", "failed", "error")),
                           "recovered": statuses.count("ok"), "not_run": statuses.count("not_run"),
                           "errors": statuses.count("error")}
    if parser == "grammar":
        out.update(ambiguous=sum(1 for c in checks if c.ambiguous),
                   bad_rejected=_share([c.bad_rejected for c in checks]))
    if parser in ("spacy", "benepar"):
        out.update(depth_ok=_share([c.depth_ok for c in checks]),
                   mean_measured_depth=_mean([c.measured_depth for c in checks]))
    if parser == "spacy":
        out.update(root_ok=_share([c.root_ok for c in checks]), subject_ok=_share([c.subject_ok for c in checks]))
    if parser == "benepar":
        out.update(split_ok=_share([c.split_ok for c in checks]), labeled_f1=_mean([c.labeled_f1 for c in checks]),
                   unlabeled_f1=_mean([c.unlabeled_f1 for c in checks]))
    return out


# The printed table: (row label, parser, column) per line of a construction's block.
TABLE_LINES = (("n", "grammar", "n"), ("grammar", "grammar", "share"), ("  ambiguous", "grammar", "ambiguous"),
               ("spacy", "spacy", "share"), ("  root", "spacy", "root_ok"), ("  subject", "spacy", "subject_ok"),
               ("  depth", "spacy", "depth_ok"), ("benepar", "benepar", "share"), ("  split", "benepar", "split_ok"),
               ("  depth", "benepar", "depth_ok"), ("  F1 lab", "benepar", "labeled_f1"),
               ("  F1 unlab", "benepar", "unlabeled_f1"), ("verified", "verified", "share"))


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a plain-text table: one block per construction, depths as columns."""
    out = [f"verification of {summary['folder']}: {summary['records']} of {summary['items']} items checked, "
           f"{summary['verified']} verified" + ("" if summary["complete"] else " (INCOMPLETE: run again to finish)")]
    for name, info in summary["parsers"].items():
        state = "ran" if info.get("ran") else "NOT RUN"
        detail = info.get("model") or info.get("parser") or ""
        out.append(f"  {name:<8} {state}" + (f"  {detail}" if detail else "")
                   + (f"  ({info['reason']})" if info.get("reason") else ""))
    rows = summary["rows"]
    for construction in dict.fromkeys(r["construction"] for r in rows):
        for kind in dict.fromkeys(r["kind"] for r in rows if r["construction"] == construction):
            cells = [r for r in rows if r["construction"] == construction and r["kind"] == kind]
            out += ["", f"{construction} [{kind}] - share of items whose structure was recovered"]
            out += _block(cells)
    if summary.get("notes"):
        out.append("")
        out += [f"note: {note}" for note in summary["notes"]]
    out.append("(n/r = not run; - = check does not apply; parser failure with depth is a finding about the parser)")
    return "\n".join(out).rstrip("\n")


def _block(rows: list[dict[str, Any]]) -> list[str]:
    """One construction x kind: a header of depths and one line per :data:`TABLE_LINES` entry."""
    depths = list(dict.fromkeys(r["depth"] for r in rows))
    cell = {(r["parser"], r["depth"]): r for r in rows}
    out = [f"{'depth':<11}" + "".join(f"{d:>7}" for d in depths)]
    for label, parser, key in TABLE_LINES:
        vals = []
        for d in depths:
            r = cell.get((parser, d), {})
            v = r.get(key)
            if key == "share" and parser != "verified" and r.get("checked") == 0:
                vals.append("n/r")
            elif v is None:
                vals.append("-")
            elif isinstance(v, float):
                vals.append(f"{v:.2f}")
            else:
                vals.append(str(v))
        if parser == "benepar" and label.startswith("  ") and all(v == "-" for v in vals):
            continue
        out.append(f"{label:<11}" + "".join(f"{v:>7}" for v in vals))
    return out


def write_summary(folder: Path, summary: dict[str, Any]) -> None:
    """Save the rows as ``verification_summary.csv`` and the whole summary as ``verification_summary.json``."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in summary["rows"]:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in SUMMARY_COLUMNS})
    write_text_atomic(folder / SUMMARY_CSV, buf.getvalue())
    write_text_atomic(folder / SUMMARY_JSON, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
