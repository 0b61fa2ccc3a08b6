"""The report's tables as shown: numbers formatted as text, one readable frame per analysis table.

Pure formatting: each ``display_*`` takes an analysis table and returns a frame of text cells;
:class:`Shown` says which columns are labels and which CSV the table comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..analysis import FIRTH_METHOD, GEE_METHOD, LOGIT_METHOD, MIXED_METHOD


def missing(value: Any) -> bool:
    """Whether a cell holds no value (None, NaN, NA); lists and other non-scalars are values."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other non-scalars
        return False


def fmt_num(value: Any, digits: int = 2) -> str:
    """``0.83``; a dash when missing."""
    return "—" if missing(value) else f"{float(value):.{digits}f}"


def fmt_ci(value: Any, low: Any, high: Any, digits: int = 2) -> str:
    """``0.83 [0.61, 0.94]``: a value and its interval; a dash when missing."""
    if missing(value):
        return "—"
    return f"{float(value):.{digits}f} [{float(low):.{digits}f}, {float(high):.{digits}f}]"


def fmt_p(value: Any) -> str:
    """A p-value: ``< 0.001`` or three decimals; a dash when missing."""
    if missing(value):
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_count(value: Any) -> str:
    """A whole number; a dash when missing."""
    return "—" if missing(value) else str(int(value))


@dataclass(frozen=True)
class Shown:
    """A table as the report shows it: text cells, which columns are labels, the CSV it comes from."""

    caption: str
    frame: pd.DataFrame | None
    labels: tuple[str, ...]
    csv: str | None = None


LABELS = ("model", "task", "construction", "method", "term", "check", "task A", "task B", "note", "grammar", "status",
          "controller", "attractors", "contrast", "suite", "paradigm", "reference model", "citation", "measure",
          "source", "depthkit match", "cannot be separated from depth", "verdict by", "top answer", "compared with")


def fmt_diff(value: Any, low: Any, high: Any) -> str:
    """``+0.70 [+0.43, +0.83]``: a signed difference and its interval; a dash when missing."""
    if missing(value):
        return "—"
    return f"{float(value):+.2f} [{float(low):+.2f}, {float(high):+.2f}]"


def fmt_share(value: Any) -> str:
    """``80%``; a dash when missing."""
    return "—" if missing(value) else f"{float(value):.0%}"


def display_accuracy(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Depth rows x (model · task) columns, each cell 'accuracy [CI] · n'."""
    if accuracy.empty:
        return pd.DataFrame()
    acc = accuracy.copy()
    acc["series"] = acc["model"] + " · " + acc["task"]

    def cell(r) -> str:
        if r["n"] == 0:
            return "no verdicts"
        text = f"{fmt_ci(r['accuracy'], r['ci_low'], r['ci_high'])} · n {int(r['n'])}"
        return text + (f" ({int(r['n_no_verdict'])} no verdict)" if r["n_no_verdict"] else "")

    acc["cell"] = acc.apply(cell, axis=1)
    wide = acc.pivot_table(index=["construction", "depth"], columns="series", values="cell", aggfunc="first")
    wide = wide.reset_index().fillna("—")
    wide.columns.name = None
    return wide


def display_breaking(breaking: pd.DataFrame, threshold: float) -> pd.DataFrame:
    rows = []
    for r in breaking.itertuples():
        found = r.status == "breaks"
        if found and int(r.breaking_depth) == r.min_depth:
            status = f"breaks at {int(r.breaking_depth)} (already at the shallowest depth)"
        elif found:
            status = f"breaks at {int(r.breaking_depth)}"
        elif r.status == "holds":
            status = f"holds to depth {r.max_depth}"
        elif r.status == "undecided":
            status = f"undecided (interval contains {threshold:g} at depth {r.undecided_depths.replace(' ', ', ')})"
        else:
            status = "no verdicts"
        power = "—" if not r.n_min else (f"≤ {r.detectable:.3f} with n {r.n_min}" if not missing(r.detectable)
                                         else f"never with n {r.n_min}")
        rows.append({"model": r.model, "task": r.task, "construction": r.construction,
                     f"breaking depth (CI below {threshold:g})": status,
                     "accuracy there": fmt_num(r.accuracy) if found else "—",
                     "CI upper bound": fmt_num(r.ci_high) if found else "—",
                     "a depth breaks only at accuracy": power,
                     "items per depth for chance to break": fmt_count(r.n_for_chance),
                     "could break at chance": "—" if not r.n_min else ("no" if r.underpowered else "yes")})
    return pd.DataFrame(rows)


def display_controls(controls: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth, "pairs": r.n_test,
        "deep items": fmt_ci(r.accuracy_test, r.ci_low_test, r.ci_high_test),
        "their depth-0 controls": fmt_ci(r.accuracy_control, r.ci_low_control, r.ci_high_control),
        "only deep right": r.only_test, "only control right": r.only_control,
        "controls − deep [95% CI]": fmt_diff(r.gap, r.gap_low, r.gap_high),
        "McNemar p": fmt_p(r.mcnemar_p), "Holm p": fmt_p(r.p_holm)} for r in controls.itertuples()])


def display_match(match: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "grammar": r.grammar, "construction": r.construction, "depth": r.depth, "controls": r.n_controls,
        "same number direction": fmt_share(r.same_direction),
        "exact sv_distance": fmt_share(r.exact_sv_distance), "exact attractors": fmt_share(r.exact_attractors),
        "exact length": fmt_share(r.exact_n_words), "mean |Δ| sv_distance": fmt_num(r.mean_abs_sv_distance, 1),
        "mean |Δ| attractors": fmt_num(r.mean_abs_attractors, 1), "mean |Δ| words": fmt_num(r.mean_abs_n_words, 1)}
        for r in match.itertuples()])


def _pair_cells(r) -> dict[str, Any]:
    return {"pairs": r.n_pairs, "both right": r.both_correct, "only first right": r.only_first,
            "only second right": r.only_second, "both wrong": r.both_wrong,
            "second − first [95% CI]": fmt_diff(r.difference, r.diff_low, r.diff_high),
            "McNemar p": fmt_p(r.mcnemar_p), "Holm p": fmt_p(r.p_holm)}


def display_ladder(ladder: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction,
        "compared with": f"depth {r.depth} (second) vs depth {r.base_depth} (first)",
        "accuracy first → second": f"{r.accuracy_first:.2f} → {r.accuracy_second:.2f}", **_pair_cells(r)}
        for r in ladder.itertuples()])


def display_contrasts(contrasts: pd.DataFrame) -> pd.DataFrame:
    names = {"attractor_condition": "attractors", "controller": "controller"}
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth,
        "contrast": f"{names.get(r.factor, r.factor)}: {r.second} (second) vs {r.first} (first)",
        "accuracy first → second": f"{r.accuracy_first:.2f} → {r.accuracy_second:.2f}", **_pair_cells(r)}
        for r in contrasts.itertuples()])


def display_conditions(conditions: pd.DataFrame) -> pd.DataFrame:
    """Construction x depth x condition rows, (model · task) columns, each cell 'accuracy [CI] · n'."""
    if conditions.empty:
        return pd.DataFrame()
    frame = conditions.assign(series=conditions["model"] + " · " + conditions["task"],
                              controller=conditions["controller"].fillna("—"),
                              attractors=conditions["attractor_condition"].fillna("none"))
    frame["cell"] = [f"{fmt_ci(r.accuracy, r.ci_low, r.ci_high)} · n {int(r.n)}" if r.n else "no verdicts"
                     for r in frame.itertuples()]
    wide = frame.pivot_table(index=["construction", "depth", "controller", "attractors"], columns="series",
                             values="cell", aggfunc="first").reset_index().fillna("—")
    wide.columns.name = None
    return wide


def display_collinearity(collinearity: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "construction": r.construction, "test items": r.n_items, "depths": r.depths,
        "r(depth, words)": fmt_num(r.r_n_words, 3), "r(depth, sv_distance)": fmt_num(r.r_sv_distance, 3),
        "R² of depth on both": fmt_num(r.r2_depth, 3),
        "VIF of depth": "∞" if r.vif_depth == math.inf else fmt_num(r.vif_depth, 1),
        "cannot be separated from depth": r.inseparable or "—"} for r in collinearity.itertuples()])


def display_regression(regression: pd.DataFrame, depth_only: bool) -> pd.DataFrame:
    rows = []
    frame = regression[regression["term"] == "depth"] if depth_only else regression
    order = {LOGIT_METHOD: 0, FIRTH_METHOD: 0, MIXED_METHOD: 1, GEE_METHOD: 2}  # plain fit, then the grouped ones
    frame = frame.assign(_order=frame["method"].map(lambda m: order.get(m, len(order))))
    frame = frame.sort_values(["model", "task", "construction", "_order"], kind="stable")
    for r in frame.itertuples():
        fitted = r.status not in ("skipped", "failed")
        row = {"model": r.model, "task": r.task, "construction": r.construction, "method": r.method}
        if not depth_only:
            row["term"] = r.term
        row.update({
            "odds ratio per unit [95% CI]":
                f"{r.odds_ratio:.2f} [{math.exp(r.ci_low):.2f}, {math.exp(r.ci_high):.2f}]" if fitted else "—",
            "coef (log-odds)": fmt_ci(r.coef, r.ci_low, r.ci_high) if fitted else "—",
            "p": fmt_p(r.p) if fitted else "—",
            "Holm p": fmt_p(r.p_holm) if fitted else "—",
            "n": fmt_count(r.n), "sets": fmt_count(r.n_groups), "lemmas": fmt_count(r.n_lemmas),
            "note": r.status if missing(r.note) or not str(r.note) else str(r.note),
        })
        rows.append(row)
    return pd.DataFrame(rows)


def display_verified(verified: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth,
        "all items": f"{fmt_ci(r.accuracy_all, r.ci_low_all, r.ci_high_all)} · n {r.n_all}",
        "verified only": (f"{fmt_ci(r.accuracy_verified, r.ci_low_verified, r.ci_high_verified)} · n {r.n_verified}"
                          if r.n_verified else "none verified"),
        "unverified items": r.n_unverified_items} for r in verified.itertuples()])


# what each verification check is called in tables and figures
CHECK_NAMES = {"grammar": "grammar chart parse", "spacy": "spaCy (dependency)", "benepar": "benepar (constituency)"}


def display_parsers(parsers: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "check": CHECK_NAMES.get(r.check, r.check), "construction": r.construction, "depth": r.depth,
        "agreement [95% CI]": fmt_ci(r.agreement, r.ci_low, r.ci_high) if r.n else "—",
        "decided": r.n, "not run": r.n_not_run, "error": r.n_error} for r in parsers.itertuples()])


def display_critical(critical: pd.DataFrame) -> pd.DataFrame:
    with_target = "share_positive_target" in critical and critical["share_positive_target"].notna().any()
    rows = []
    for r in critical.itertuples():
        row = {"model": r.model, "task": r.task, "construction": r.construction, "depth": r.depth, "n": r.n,
               "median [IQR] (nats)": f"{r.median:.2f} [{r.q25:.2f}, {r.q75:.2f}]", "mean": fmt_num(r.mean),
               "critical region prefers good": fmt_num(r.share_positive),
               "whole-sentence sum prefers good": fmt_num(r.share_positive_sum)}
        if with_target:
            row["target words alone prefer good"] = fmt_num(r.share_positive_target)
        rows.append(row)
    return pd.DataFrame(rows)


def display_glance(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction,
        "accuracy, shallowest": f"{r.accuracy_first:.2f} (depth {r.first_depth})",
        "accuracy, deepest": f"{r.accuracy_last:.2f} (depth {r.last_depth})",
        "odds ratio per level [95% CI]":
            "—" if missing(r.odds_ratio) else f"{r.odds_ratio:.2f} [{r.or_low:.2f}, {r.or_high:.2f}]",
        "Holm p": fmt_p(r.p_holm),
        "trend": r.trend + (f" (with {r.inseparable})" if r.inseparable and r.trend != "not fitted" else ""),
        "breaking": (f"breaks at {int(r.breaking_depth)}" if r.breaking_status == "breaks"
                     else r.breaking_status or "—"),
        "controls − deep, deepest [95% CI]": fmt_diff(r.control_gap_last, r.control_gap_low, r.control_gap_high)}
        for r in table.itertuples()])


def display_bias(bias: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "construction": r.construction, "verdict by": r.verdict_by, "items": r.n,
        "lead verdict": fmt_num(r.accuracy), "answer-following verdict": fmt_num(r.absolute_accuracy),
        "accepts grammatical": fmt_num(r.accept_good), "accepts ungrammatical": fmt_num(r.accept_bad),
        "mean P(Yes), grammatical": fmt_num(r.p_yes_good), "mean P(Yes), ungrammatical": fmt_num(r.p_yes_bad),
        "first-position bias (log-odds)": fmt_num(r.position_bias),
        "top answer": "—" if missing(r.top_answer) else f"{r.top_answer} ({fmt_share(r.top_answer_share)})"}
        for r in bias.itertuples()])


def display_tasks(tasks: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "construction": r.construction, "depth": r.depth, "task A": r.task_a, "task B": r.task_b,
        "items": r.n_shared, "accuracy A": fmt_num(r.accuracy_a), "accuracy B": fmt_num(r.accuracy_b),
        "both right": r.both_correct, "only A": r.only_a, "only B": r.only_b, "both wrong": r.both_wrong,
        "agreement": fmt_num(r.agreement), "McNemar p": fmt_p(r.mcnemar_p),
        "answer-following A": fmt_num(r.absolute_a), "answer-following B": fmt_num(r.absolute_b)}
        for r in tasks.itertuples()])


def display_suites(suites: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": r.model, "task": r.task, "suite": r.suite, "paradigm": r.construction,
        "verdict by": r.verdict_by or "—", "accuracy [95% CI]": fmt_ci(r.accuracy, r.ci_low, r.ci_high), "n": r.n,
        "depthkit match": (f"{r.match_grammar}, depth {int(r.match_depth)}" if isinstance(r.match_grammar, str)
                           else "—"),
        "depthkit accuracy there [95% CI]": _match_cell(r)}
        for r in suites.itertuples()])


def _match_cell(r) -> str:
    if not isinstance(r.match_grammar, str):
        return "—"
    if missing(r.match_n) or not r.match_n:
        return "not in this report"
    return f"{fmt_ci(r.match_accuracy, r.match_ci_low, r.match_ci_high)} · n {int(r.match_n)} ({r.match_task})"


def display_references(references: pd.DataFrame) -> pd.DataFrame:
    """One row per reference point; its depthkit matches joined in one cell."""
    rows = []
    for _, group in references.groupby("id", sort=False):
        r = group.iloc[0]
        matches = [f"{g}, depth {int(d)}" for g, d in zip(group["match_grammar"], group["match_depth"]) if not missing(g)]
        rows.append({"suite": r.suite, "paradigm": r["name"], "reference model": r.model, "accuracy": f"{r.accuracy:.3f}",
                     "items": r["items"], "measure": r.measure, "citation": r.citation, "source": r.source,
                     "depthkit match": "; ".join(matches) or "—"})
    return pd.DataFrame(rows)
