"""The report's prose about the evidence beside the curves: answer bias, bias-only tasks, verification,
parsers, two tasks on the same items, external suites and published reference points.

Numbers come from :mod:`depthkit.analysis`; the per-curve paragraphs are in :mod:`.narrative`.
"""

from __future__ import annotations

import math

import pandas as pd

from ..analysis import Analysis


def _pct(value: float) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"


def one_answer_lines(one_answer: pd.DataFrame) -> list[str]:
    """One line per model x task whose answers were all one answer (every construction named)."""
    lines = []
    if one_answer.empty:
        return lines
    for (model, task), group in one_answer.groupby(["model", "task"], sort=True):
        answers = sorted(set(group["answer"]))
        what = ", ".join(sorted(group["construction"]))
        lines.append(f"{model} on {task} answered '{answers[0]}' to every one of its {int(group['n_answers'].sum())} "
                     f"questions ({int(group['n_items'].sum())} test items; {what}), and its verdicts follow the answers "
                     f"(verdict by {', '.join(sorted(set(group['verdict_by'])))}): they show that bias, not grammar, so "
                     "no curve is drawn for it (see the answer-bias table).")
    return lines


def beside_sentences(analysis: Analysis) -> list[tuple[str, str]]:
    """(heading, text) findings after the per-curve paragraphs."""
    return (_bias_sentences(analysis.bias) + _verified_sentences(analysis.verified) + _parser_sentences(analysis)
            + _task_sentences(analysis.tasks) + _suite_sentences(analysis))


def _bias_sentences(bias: pd.DataFrame) -> list[tuple[str, str]]:
    out = []
    for row in bias.itertuples():
        parts = [f"The lead verdict ({row.verdict_by}) is right on {_pct(row.accuracy)} of {row.n} items."]
        if not math.isnan(row.accept_good):
            parts.append(f"Asked yes/no, the model accepts {_pct(row.accept_good)} of the grammatical and "
                         f"{_pct(row.accept_bad)} of the ungrammatical sentences.")
        if not math.isnan(row.p_yes_good):
            parts.append(f"Mean P(Yes): {row.p_yes_good:.2f} for grammatical, {row.p_yes_bad:.2f} for ungrammatical "
                         "sentences.")
        if not math.isnan(row.position_bias):
            parts.append(f"It prefers the first position by {row.position_bias:+.2f} log-odds on average (removed from "
                         "the verdict by averaging both orders).")
        if not math.isnan(row.absolute_accuracy):
            parts.append(f"The answer-following verdict it replaces would be right on {_pct(row.absolute_accuracy)}.")
        if row.n_answers and row.top_answer_share >= 0.8:
            parts.append(f"{_pct(row.top_answer_share)} of its {row.n_answers} answers are '{row.top_answer}': the "
                         "answers themselves follow a bias, not the grammar.")
        out.append((f"Answer bias · {row.model} · {row.task} · {row.construction}", " ".join(parts)))
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
        where = (f" Their accuracies differ (McNemar p < 0.05, not corrected over depths) at depth {', '.join(differ)}."
                 if differ else " At no depth do their accuracies differ (McNemar p < 0.05).")
        absolute = []
        for task, column in ((a, "absolute_a"), (b, "absolute_b")):
            values = group[column].dropna()
            if len(values):
                weights = group.loc[values.index, "n_shared"]
                absolute.append(f"{task}'s answer-following verdict would be right on "
                                f"{float((values * weights).sum() / weights.sum()):.0%}")
        extra = (" Beside the lead verdicts: " + "; ".join(absolute) + ".") if absolute else ""
        lines.append((f"Same items, two tasks · {model} · {construction}", f"{a} is right on {acc_a:.0%} and {b} on "
                     f"{acc_b:.0%} of {n} items judged by both; their verdicts agree on {agree:.0%}.{where}{extra} The "
                     "literature finds prompted judgments underestimate what log-probabilities show; report both."))
    return lines


def _suite_sentences(analysis: Analysis) -> list[tuple[str, str]]:
    out = []
    refs = analysis.references
    suites = analysis.suites
    for (model, task, suite, construction), group in suites.groupby(["model", "task", "suite", "construction"],
                                                                    sort=True):
        row = group.iloc[0]
        text = (f"{row.accuracy:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}] (n = {row.n}, {task}, verdict by "
                f"{row.verdict_by or 'unrecorded'}).")
        for m in group[group["match_grammar"].notna()].itertuples():
            if m.match_n:
                text += (f" The matching depthkit items ({m.match_construction}, depth {int(m.match_depth)}, "
                         f"{m.match_task}): {m.match_accuracy:.2f} [{m.match_ci_low:.2f}, {m.match_ci_high:.2f}] "
                         f"(n = {int(m.match_n)}).")
            else:
                text += f" Its depthkit match ({m.match_grammar} at depth {int(m.match_depth)}) is not in this report."
        if not refs.empty:
            points = refs[(refs["suite"] == suite) & (refs["name"] == construction)].drop_duplicates("id")
            if not points.empty:
                text += " Published: " + "; ".join(f"{p.model} {p.accuracy:.3f} ({p.items} items, {p.citation})"
                                                   for p in points.itertuples()) + "."
        out.append((f"External suite · {model} · {suite} · {construction}", text))
    return out


__all__ = ["beside_sentences", "one_answer_lines"]
