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


def summary_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per parser x construction x kind x depth: share of checked items whose structure was recovered."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(str(r.get("construction")), str(r.get("kind")), int(r.get("depth", 0)))].append(r)
    order = sorted(groups, key=lambda k: (k[0], k[1] != "test", k[1], k[2]))
    rows = []
    for parser in (*PARSERS, "verified"):
        for construction, kind, depth in order:
            recs = groups[(construction, kind, depth)]
            row: dict[str, Any] = {c: None for c in SUMMARY_COLUMNS}
            row.update(parser=parser, construction=construction, kind=kind, depth=depth, n=len(recs))
            if parser == "verified":
                row.update(checked=len(recs), recovered=sum(1 for r in recs if r.get("verified") is True),
                           not_run=0, errors=0)
            else:
                parts = [r.get(parser) or {} for r in recs]
                statuses = [p.get("status") for p in parts]
                row.update(checked=sum(1 for s in statuses if s in ("ok", "failed", "error")),
                           recovered=statuses.count("ok"), not_run=statuses.count("not_run"),
                           errors=statuses.count("error"))
                if parser == "grammar":
                    row.update(ambiguous=sum(1 for p in parts if p.get("ambiguous")),
                               bad_rejected=_share([p.get("bad_rejected") for p in parts]))
                if parser in ("spacy", "benepar"):
                    row.update(depth_ok=_share([p.get("depth_ok") for p in parts]),
                               mean_measured_depth=_mean([p.get("measured_depth") for p in parts]))
                if parser == "spacy":
                    row.update(root_ok=_share([p.get("root_ok") for p in parts]),
                               subject_ok=_share([p.get("subject_ok") for p in parts]))
                if parser == "benepar":
                    row.update(split_ok=_share([p.get("split_ok") for p in parts]),
                               labeled_f1=_mean([p.get("labeled_f1") for p in parts]),
                               unlabeled_f1=_mean([p.get("unlabeled_f1") for p in parts]))
            row["share"] = round(row["recovered"] / row["checked"], 4) if row["checked"] else None
            rows.append(row)
    return rows


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a plain-text table: one block per construction, depths as columns."""
    out = io.StringIO()
    p = lambda text="": print(text, file=out)  # noqa: E731
    p(f"verification of {summary['folder']}: {summary['records']} of {summary['items']} items checked, "
      f"{summary['verified']} verified" + ("" if summary["complete"] else " (INCOMPLETE: run again to finish)"))
    for name, info in summary["parsers"].items():
        state = "ran" if info.get("ran") else "NOT RUN"
        detail = info.get("model") or info.get("parser") or ""
        p(f"  {name:<8} {state}" + (f"  {detail}" if detail else "") + (f"  ({info['reason']})" if info.get("reason") else ""))
    rows = summary["rows"]
    lines = [("n", "grammar", "n"), ("grammar", "grammar", "share"), ("  ambiguous", "grammar", "ambiguous"),
             ("spacy", "spacy", "share"), ("  root", "spacy", "root_ok"), ("  subject", "spacy", "subject_ok"),
             ("  depth", "spacy", "depth_ok"), ("benepar", "benepar", "share"), ("  split", "benepar", "split_ok"),
             ("  depth", "benepar", "depth_ok"), ("  F1 lab", "benepar", "labeled_f1"),
             ("  F1 unlab", "benepar", "unlabeled_f1"), ("verified", "verified", "share")]
    for construction in dict.fromkeys(r["construction"] for r in rows):
        for kind in dict.fromkeys(r["kind"] for r in rows if r["construction"] == construction):
            sel = [r for r in rows if r["construction"] == construction and r["kind"] == kind]
            depths = list(dict.fromkeys(r["depth"] for r in sel))
            cell = {(r["parser"], r["depth"]): r for r in sel}
            p()
            p(f"{construction} [{kind}] - share of items whose structure was recovered")
            p(f"{'depth':<11}" + "".join(f"{d:>7}" for d in depths))
            for label, parser, key in lines:
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
                p(f"{label:<11}" + "".join(f"{v:>7}" for v in vals))
    if summary.get("notes"):
        p()
        for note in summary["notes"]:
            p(f"note: {note}")
    p("(n/r = not run; - = check does not apply; parser failure with depth is a finding about the parser)")
    return out.getvalue().rstrip("\n")


def write_summary(folder: Path, summary: dict[str, Any]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in summary["rows"]:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in SUMMARY_COLUMNS})
    write_text_atomic(folder / SUMMARY_CSV, buf.getvalue())
    write_text_atomic(folder / SUMMARY_JSON, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
