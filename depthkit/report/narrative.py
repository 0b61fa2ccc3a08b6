"""The report's plain-language findings: a headline over all curves and one paragraph per curve.

Every sentence is built here from the tables of :mod:`depthkit.analysis` (which holds no prose).
"""

from __future__ import annotations

import math

import pandas as pd

from ..analysis import CELL, MIXED_METHOD, Analysis, cell_rows, glance
from ..tasks.info import chance_level, task_info, task_names, task_order
from .display import fmt_ci


def headline(analysis: Analysis) -> list[str]:
    """Two or three sentences over all curves: how many fall with depth, and where they break."""
    table = glance(analysis)
    if table.empty:
        return ["No judgment with a verdict was found."]
    counts = table["trend"].value_counts()
    n = len(table)
    verbs = {"falls": ("falls with depth", "fall with depth"), "no reliable change": ("shows no reliable change",
             "show no reliable change"), "rises": ("rises with depth", "rise with depth"),
             "not fitted": ("could not be fitted", "could not be fitted")}
    parts = [f"{counts[t]} {verbs[t][0] if counts[t] == 1 else verbs[t][1]}" for t in verbs if counts.get(t, 0)]
    lines = [f"Of {n} accuracy-vs-depth curve{'s' if n > 1 else ''} (model x task x construction; logistic regression "
             f"with word count and subject-verb distance held fixed where they vary): {', '.join(parts)}."]
    broken = table[table["breaking_depth"].notna()].sort_values("breaking_depth")
    if broken.empty:
        lines.append(f"No curve has a depth whose whole 95% interval lies below {analysis.threshold:g}.")
    else:
        first = broken.iloc[0]
        lines.append(f"{len(broken)} of {n} break below {analysis.threshold:g} within the depths tested; the earliest: "
                     f"{first.model} on {first.task}, {first.construction}, at depth {int(first.breaking_depth)}.")
    gaps = table["control_gap_last"].dropna()
    if not gaps.empty:
        lines.append(f"At the deepest depth, length-matched controls score on average {gaps.mean():+.2f} above "
                     "the deep "
                     "items they match (positive: depth, not length, costs accuracy).")
    return lines


def summary(analysis: Analysis) -> list[tuple[str, str]]:
    """Plain-language findings as (heading, text): one per curve, then verification, parsers and tasks."""
    out: list[tuple[str, str]] = []
    acc = analysis.accuracy
    for key, group in acc.groupby(CELL, sort=True):
        model, task, construction = key
        if group["n"].sum() == 0:
            n_judged = int(group["n_no_verdict"].sum())
            out.append((f"{model} · {task} · {construction}",
                        f"No verdicts: none of its {n_judged} judgments of test items could be scored right or wrong "
                        f"(items without an ungrammatical twin give a {_paired_tasks()} task nothing to compare), so "
                        "this curve says nothing about depth."))
            continue
        group = group[group["n"] > 0].sort_values("depth")
        first, last = group.iloc[0], group.iloc[-1]
        text = f"Accuracy {fmt_ci(first.accuracy, first.ci_low, first.ci_high)} at depth {first.depth} (n = {first.n})"
        if len(group) > 1:
            text += (f", {fmt_ci(last.accuracy, last.ci_low, last.ci_high)} at depth {last.depth} "
                     f"(n = {last.n}; 95% intervals in brackets).")
        else:
            text += "; only one depth was evaluated."
        text += " " + _slope_sentence(analysis.slopes, key) + _grouped_sentence(analysis.mixed, key)
        brk = cell_rows(analysis.breaking, key)
        if not brk.empty and pd.notna(brk.iloc[0]["breaking_depth"]):
            at = int(brk.iloc[0]["breaking_depth"])
            if at == int(brk.iloc[0]["min_depth"]):
                text += (f" Its whole interval lies below {analysis.threshold:g} already at depth {at}, the shallowest "
                         "depth tested: there is no working baseline for depth to break.")
            else:
                text += (f" It breaks at depth {at}: the first depth whose whole interval lies below "
                         f"{analysis.threshold:g}.")
        elif not brk.empty:
            text += f" No depth up to {int(last.depth)} has its whole interval below {analysis.threshold:g}."
        chance = float(last["chance"]) if "chance" in last and pd.notna(last["chance"]) else \
            analysis.chance.get(task, chance_level(task))
        if last.ci_high < chance and _asks_about_each_member(task):
            text += (f" At depth {last.depth} it is below chance ({chance:g}): for prompted judgments this usually "
                     "means an answer bias (e.g. rejecting almost every sentence; see the answer-bias table), not a "
                     "preference for the ungrammatical variant.")
        elif last.ci_high < chance:
            text += (f" At depth {last.depth} it is below chance ({chance:g}): the model systematically prefers "
                     "the ungrammatical variant.")
        elif last.ci_low <= chance:
            text += f" At depth {last.depth} it cannot be told apart from chance ({chance:g})."
        else:
            text += f" At depth {last.depth} it is still above chance ({chance:g})."
        text += _control_sentence(analysis.controls, key)
        out.append((f"{model} · {task} · {construction}", text))
    out.extend(_bias_sentences(analysis.bias))
    out.extend(_verified_sentences(analysis.verified))
    out.extend(_parser_sentences(analysis))
    out.extend(_task_sentences(analysis.tasks))
    return out


def _grouped_sentence(mixed: pd.DataFrame, key: tuple) -> str:
    cell = cell_rows(mixed, key)
    cell = cell[cell["term"] == "depth"]
    fitted = cell[cell["status"] == "ok"]
    if cell.empty:
        return ""
    if fitted.empty:
        why = str(cell.iloc[0]["note"]).removeprefix("skipped: ")
        return f" No model with lexical frames as grouping was fitted ({why})."
    parts = []
    for row in fitted.itertuples():
        name = "mixed model" if row.method == MIXED_METHOD else "GEE"
        parts.append(f"{name} ×{math.exp(row.coef):.2f} [{math.exp(row.ci_low):.2f}, {math.exp(row.ci_high):.2f}]")
    return f" With lexical frames as grouping: {'; '.join(parts)} per level."


def _slope_sentence(slopes: pd.DataFrame, key: tuple) -> str:
    cell = cell_rows(slopes, key)
    rows = cell[cell["term"] == "depth"]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    if row["status"] in ("skipped", "failed"):
        return f"No slope was fitted ({str(row['note']).removeprefix('skipped: ')})."
    names = {"n_words": "word count", "sv_distance": "subject-verb distance"}
    covariates = [names.get(t, t) for t in cell["term"].unique() if t != "depth"]
    held = f" holding {' and '.join(covariates)} fixed" if covariates else ""
    ratio = (f"odds of a correct verdict ×{row['odds_ratio']:.2f} per level, 95% CI ×{math.exp(row['ci_low']):.2f} "
             f"to ×{math.exp(row['ci_high']):.2f}, p {_fmt_p(row['p'])}")
    if row["ci_high"] < 0:
        verdict = f"Accuracy falls reliably with depth{held} ({ratio})."
    elif row["ci_low"] > 0:
        verdict = f"Accuracy rises with depth{held} ({ratio})."
    else:
        verdict = f"Depth has no reliable effect{held} ({ratio}; the interval includes no change)."
    if row["status"] == "separation":
        verdict += (" The predictors separate right from wrong answers perfectly, so this is a penalized (Firth) "
                    "estimate.")
    return verdict


def _fmt_p(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "not available"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _control_sentence(controls: pd.DataFrame, key: tuple) -> str:
    rows = cell_rows(controls, key).sort_values("depth")
    rows = rows[(rows["n_test"] > 0) & (rows["n_control"] > 0)]
    if rows.empty:
        return ""
    row = rows.iloc[-1]
    text = (f" Length-matched depth-0 controls for the depth-{row.depth} items score "
            f"{fmt_ci(row.accuracy_control, row.ci_low_control, row.ci_high_control)} against "
            f"{fmt_ci(row.accuracy_test, row.ci_low_test, row.ci_high_test)}")
    if row.ci_low_control > row.ci_high_test:
        text += ": the loss comes with depth, not with length."
    elif row.ci_high_control < row.ci_low_test:
        text += ": the controls are harder than the deep items, so length (not depth) drives errors here."
    else:
        text += ": the intervals overlap, so these data cannot tell depth from length at that depth."
    return text


def _bias_sentences(bias: pd.DataFrame) -> list[tuple[str, str]]:
    out = []
    for row in bias.itertuples():
        text = (f"The model accepts {row.accept_good:.0%} of the grammatical and {row.accept_bad:.0%} of the "
                f"ungrammatical sentences (n = {row.n} pairs).")
        if (row.accept_good >= 0.8 and row.accept_bad >= 0.8) or (row.accept_good <= 0.2 and row.accept_bad <= 0.2):
            text += " Its answers mostly follow a bias toward one answer, not the grammar."
        out.append((f"Answer bias · {row.model} · {row.task} · {row.construction}", text))
    return out


def _verified_sentences(verified: pd.DataFrame) -> list[tuple[str, str]]:
    if verified.empty:
        return []
    rows = verified[(verified["n_verified"] > 0) & (verified["n_all"] > 0)]
    share = verified["n_verified"].sum() / max(1, verified["n_all"].sum())
    if rows.empty:
        return [("Verified items",
                 "No test item with a verdict passed verification; the verified-only columns are empty.")]
    gap = (rows["accuracy_verified"] - rows["accuracy_all"]).abs()
    worst = rows.loc[gap.idxmax()]
    return [("Verified-only vs all items", f"{share:.0%} of judged test items passed verification; restricting to "
             f"them changes accuracy by at most {gap.max():.2f} (at depth {worst.depth}, {worst.model}, "
             f"{worst.task}).")]


def _parser_sentences(analysis: Analysis) -> list[tuple[str, str]]:
    out = []
    names = {"spacy": "spaCy's dependency parse", "benepar": "benepar's constituency parse",
             "grammar": "the grammar's own chart parse"}
    for construction, rows in analysis.parsers.groupby("construction", sort=True):
        parts = []
        for check, group in rows.groupby("check", sort=False):
            group = group[group["n"] > 0].sort_values("depth")
            if group.empty:
                continue
            first, last = group.iloc[0], group.iloc[-1]
            parts.append(f"{names.get(check, check)} agrees with the intended tree for {first.agreement:.0%} of "
                         f"depth-{first.depth} items and {last.agreement:.0%} at depth {last.depth}")
        if parts:
            text = "; ".join(parts)
            out.append((f"Parser agreement · {construction}", text[0].upper() + text[1:] + ". A parser failing "
                        "with depth is a finding about the parser, not proof the items are wrong."))
    if analysis.benepar_available is False:
        out.append(("No constituency parser", "No constituency (benepar) model was available during verification: "
                    "no item was checked against a constituency parse, and 'verified' rests on the other checks only."))
    elif analysis.benepar_available is None:
        out.append(("No verification", "No usable verification.jsonl was found for these items (none, or one made "
                    "for an earlier items.jsonl): run `depthkit verify` to add parser agreement and the verified-only "
                    "comparison."))
    return out


def _task_sentences(tasks: pd.DataFrame) -> list[tuple[str, str]]:
    lines = []
    for (model, construction, a, b), group in tasks.groupby(["model", "construction", "task_a", "task_b"], sort=True):
        n = int(group["n_shared"].sum())
        acc_a = float((group["accuracy_a"] * group["n_shared"]).sum() / n)
        acc_b = float((group["accuracy_b"] * group["n_shared"]).sum() / n)
        agree = float((group["agreement"] * group["n_shared"]).sum() / n)
        differ = [str(d) for d, p in zip(group["depth"], group["mcnemar_p"]) if p < 0.05]
        where = (f" Their accuracies differ reliably (McNemar p < 0.05) at depth {', '.join(differ)}." if differ
                 else " At no depth do their accuracies differ reliably (McNemar p < 0.05).")
        lines.append((f"Same items, two tasks · {model} · {construction}", f"{a} is right on {acc_a:.0%} and {b} on "
                     f"{acc_b:.0%} of {n} items judged by both; their verdicts agree on {agree:.0%}.{where} The "
                     "literature finds prompted judgments underestimate what log-probabilities show; report both."))
    return lines


def _paired_tasks() -> str:
    """The tasks that compare the two members of a pair, e.g. ``minimal-pair or forced-choice``."""
    return " or ".join(name for name in task_names() if task_info(name).paired)


def _asks_about_each_member(task: str) -> bool:
    """A prompted task judging each member alone: below chance there means an answer bias (see the bias table)."""
    info = task_info(task)
    return info is not None and info.prompted and not info.paired


def method_notes(analysis: Analysis) -> list[str]:
    """How to read the report: what accuracy counts, which intervals, and chance for the tasks shown."""
    return ["Accuracy counts judgments with a verdict; judgments without one (correct = null) are left out and "
            "counted separately.",
            "Intervals on accuracies and agreement rates are Wilson 95% score intervals over items.",
            _chance_note(task_order(analysis.table["task"].unique()))]


def _chance_note(tasks: list[str]) -> str:
    """Chance per task from its facts, e.g. ``0.5 for minimal-pair and forced-choice; 0.25 for judgment (...)``."""
    by_level: dict[float, list[str]] = {}
    for task in tasks:
        by_level.setdefault(chance_level(task), []).append(task)
    parts = []
    for level, names in by_level.items():
        described = []
        for name in names:
            info = task_info(name)
            if info is not None and not info.paired:
                extra = f"{info.description}, right only when every answer is"
                if info.chance_one_member is not None:
                    extra += f"; {info.chance_one_member:g} on items without an ungrammatical twin, where it asks once"
                described.append(f"{name} ({extra})")
            else:
                described.append(name)
        listed = described[0] if len(described) == 1 else f"{', '.join(described[:-1])} and {described[-1]}"
        parts.append(f"{level:g} for {listed}")
    return "Chance (the accuracy of guessing, from each task's facts): " + "; ".join(parts) + "."
