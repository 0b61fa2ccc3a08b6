"""The report's plain-language findings: a headline over all curves and one paragraph per curve.

Every sentence is built here from the tables of :mod:`depthkit.analysis` (which holds no prose), and
each claim follows one rule, stated where it is made: a slope "falls" or "rises" only when
:func:`depthkit.analysis.slope_trend` says so (Holm over the report's curves, grouped fits
agreeing); a curve "breaks" only when an interval lies wholly below the threshold, and "holds"
only when every interval lies wholly above it; a paired difference (controls, ladders,
conditions) is "reliable" only at Holm-adjusted p < 0.05 with its interval excluding zero. No
signed difference is ever averaged across constructions. Paragraphs about the evidence beside
the curves (answer bias, verification, parsers, tasks, suites) are in :mod:`.beside`.
"""

from __future__ import annotations

import math

import pandas as pd

from ..analysis import ALPHA, CELL, GEE_METHOD, MIXED_METHOD, Analysis, cell_rows, glance
from ..tasks.info import chance_level, task_info, task_names, task_order
from .beside import beside_sentences, one_answer_lines
from .display import fmt_ci

# what each verdict rule (a judgment's ``verdict_by``) compares; the report says which one leads each task
MEASURES = {
    "critical": "log P(good) vs log P(bad) over the critical region (from the differing word to the end)",
    "sum": "log P(good) vs log P(bad) over the whole sentence",
    "mean": "the per-token mean log-probability of the two members",
    "target": "log P(good) vs log P(bad) over the differing words alone",
    "relative": "P(Yes | good) > P(Yes | bad): the two yes/no prompts compared, free of a yes/no bias "
                "(Hu & Levy 2023)",
    "absolute": "the grammatical sentence judged acceptable (items without an ungrammatical twin)",
    "both-orders": "the good member's label preferred on average over both A/B orders (position bias removed)",
    "answer": "the answer naming the good member in one counterbalanced A/B order (a position bias counts in)",
    "logprobs": "the yes/no answers themselves (good accepted and bad rejected): an answer bias counts in",
    "text": "the yes/no answers read from generated text: an answer bias counts in",
    "prediction": "the suite's own prediction (region-surprisal inequalities)",
}
COVARIATE_NAMES = {"n_words": "word count", "sv_distance": "subject-verb distance"}


def _fmt_p(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "not available"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _with_depth(inseparable: str) -> str:
    """``depth and word count`` / ``depth, word count and subject-verb distance``."""
    names = ["depth"] + [COVARIATE_NAMES.get(n.strip(), n.strip()) for n in inseparable.split(",") if n.strip()]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def measure_lines(analysis: Analysis) -> list[str]:
    """One line per task: which verdict the report leads with for it."""
    table = analysis.table
    lines = []
    for task in task_order(table["task"].unique()):
        rules = sorted({str(v) for v in table.loc[table["task"] == task, "verdict_by"].dropna()})
        described = "; ".join(f"{MEASURES.get(r, f'verdict by {r}')} (verdict_by {r})" for r in rules) or \
            "no verdict rule recorded"
        lines.append(f"{task}: {described}.")
    return lines


def headline(analysis: Analysis) -> list[str]:
    """A few sentences over all curves: trends, breaking (with what n allows), controls, bias-only tasks."""
    table = glance(analysis)
    lines = one_answer_lines(analysis.one_answer)
    if table.empty:
        if not analysis.suites.empty:
            return lines + ["These runs hold no depthkit items with a verdict, only imported suites (no depth): see "
                            "External suites."]
        return lines + ["No judgment with a verdict was found."]
    counts = table["trend"].value_counts()
    n = len(table)
    verbs = {"falls": ("falls with depth", "fall with depth"), "no reliable change": ("shows no reliable change",
             "show no reliable change"), "rises": ("rises with depth", "rise with depth"),
             "not fitted": ("could not be fitted", "could not be fitted")}
    parts = [f"{counts[t]} {verbs[t][0] if counts[t] == 1 else verbs[t][1]}" for t in verbs if counts.get(t, 0)]
    out = [f"Of {n} accuracy-vs-depth curve{'s' if n > 1 else ''} (model x task x construction; a logistic regression "
           f"on test items, its depth slope tested with Holm's correction over the {n} curves and counted only when "
           f"the set- and lemma-grouped fits agree): {', '.join(parts)}."]
    inseparable = table[table["inseparable"] != ""]
    for what, group in inseparable.groupby("inseparable", sort=True):
        constructions = sorted(group["construction"].unique())
        has_controls = not analysis.controls.empty and analysis.controls["construction"].isin(constructions).any()
        separate = ("the paired contrast with the structure-matched controls separates them, as far as the controls "
                    "match (see the match table)" if has_controls
                    else "only controls (generate with --controls) could separate them")
        out.append(f"In {', '.join(constructions)}, {_with_depth(what)} cannot be separated (they rise together, "
                   f"|r| > 0.9): those slopes measure them together; {separate}.")
    out += _breaking_headline(analysis, n)
    out += _controls_headline(table)
    return lines + out


def _breaking_headline(analysis: Analysis, n: int) -> list[str]:
    brk = analysis.breaking
    scored = brk[brk["status"] != "no verdicts"]
    if scored.empty:
        return []
    thr = analysis.threshold
    out = []
    broken = scored[scored["status"] == "breaks"].sort_values("breaking_depth")
    if broken.empty:
        out.append(f"No curve has a depth whose whole 95% interval lies below {thr:g}.")
    else:
        first = broken.iloc[0]
        out.append(f"{len(broken)} of {n} break below {thr:g} within the depths tested; the earliest: {first.model} on "
                   f"{first.task}, {first.construction}, at depth {int(first.breaking_depth)}.")
    holds = int((scored["status"] == "holds").sum())
    undecided = int((scored["status"] == "undecided").sum())
    if undecided:
        out.append(f"{undecided} {'is' if undecided == 1 else 'are'} undecided (an interval contains {thr:g}, so these "
                   f"items cannot say whether {'it breaks' if undecided == 1 else 'they break'}); {holds} "
                   f"hold{'s' if holds == 1 else ''} (every interval above {thr:g}).")
    weak = scored[scored["underpowered"].astype(bool)]
    if not weak.empty:
        w = weak.sort_values("n_min").iloc[0]
        need = "" if pd.isna(w["n_for_chance"]) else f"; about {int(w['n_for_chance'])} items per depth would be needed"
        detect = f"at accuracy {w['detectable']:.3f} or below" if not math.isnan(w["detectable"]) else "at no accuracy"
        out.append(f"Power: with {int(w['n_min'])} items at a depth, a depth counts as broken only {detect}; "
                   f"{len(weak)} of {n} curves could not break even at chance{need}. For those, no breaking depth "
                   "is not evidence that the model copes.")
    return out


def _controls_headline(table: pd.DataFrame) -> list[str]:
    rows = table[table["control_gap_last"].notna()]
    if rows.empty:
        return []
    reliable = rows["control_p_holm"] < ALPHA
    deep_worse = int((reliable & (rows["control_gap_low"] > 0)).sum())
    controls_worse = int((reliable & (rows["control_gap_high"] < 0)).sum())
    rest = len(rows) - deep_worse - controls_worse
    return [f"At the deepest depth, the deep items score reliably below their own structure-matched depth-0 controls "
            f"in {deep_worse} of {len(rows)} curves (paired McNemar, Holm); the controls score reliably lower in "
            f"{controls_worse}; in {rest} the paired interval includes no difference."]


def summary(analysis: Analysis) -> list[tuple[str, str]]:
    """Plain-language findings as (heading, text): one per curve, then the evidence beside the curves."""
    out: list[tuple[str, str]] = []
    trends = glance(analysis)
    for key, group in analysis.accuracy.groupby(CELL, sort=True):
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
        trend = cell_rows(trends, key)
        text += " " + _slope_sentence(analysis.slopes, key, trend.iloc[0] if not trend.empty else None)
        text += _grouped_sentence(analysis.mixed, key)
        text += _ladder_sentence(analysis.ladder, key)
        text += _breaking_sentence(analysis, key, int(last.depth))
        text += _chance_sentence(analysis, task, last)
        text += _control_sentence(analysis, key)
        text += _condition_sentence(analysis.contrasts, key)
        out.append((f"{model} · {task} · {construction}", text))
    out.extend(beside_sentences(analysis))
    return out


def _slope_sentence(slopes: pd.DataFrame, key: tuple, trend: pd.Series | None) -> str:
    cell = cell_rows(slopes, key)
    rows = cell[cell["term"] == "depth"]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    if row["status"] in ("skipped", "failed"):
        return f"No slope was fitted ({str(row['note']).removeprefix('skipped: ')})."
    covariates = [COVARIATE_NAMES.get(t, t) for t in cell["term"].unique() if t != "depth"]
    held = f" holding {' and '.join(covariates)} fixed" if covariates else ""
    ratio = (f"odds of a correct verdict ×{row['odds_ratio']:.2f} per level, 95% CI ×{math.exp(row['ci_low']):.2f} "
             f"to ×{math.exp(row['ci_high']):.2f}, p {_fmt_p(row['p'])}, Holm-adjusted p {_fmt_p(row['p_holm'])}")
    verdict = trend["trend"] if trend is not None else "no reliable change"
    if verdict == "falls":
        text = f"Accuracy falls reliably with depth{held} ({ratio})."
    elif verdict == "rises":
        text = f"Accuracy rises reliably with depth{held} ({ratio})."
    else:
        text = f"No reliable change with depth{held} ({ratio})"
        direction = row["ci_high"] < 0 or row["ci_low"] > 0
        if direction and not row["p_holm"] < ALPHA:
            text += ": the interval excludes no change, but not after Holm's correction over the report's curves."
        elif direction and trend is not None and trend["grouped"] == "include no change":
            text += ": this fit's interval excludes no change, but the set- and lemma-grouped fits do not."
        else:
            text += "; the interval includes no change."
    if row.get("inseparable"):
        text += (f" {_with_depth(row['inseparable']).capitalize()} cannot be separated in these items (they rise "
                 "together): this slope measures them together.")
    if row["status"] == "separation":
        text += (" The predictors separate right from wrong answers perfectly, so this is a penalized (Firth) "
                 "estimate.")
    return text


def _grouped_sentence(mixed: pd.DataFrame, key: tuple) -> str:
    cell = cell_rows(mixed, key)
    if cell.empty:
        return ""
    cell = cell[cell["term"] == "depth"]
    fitted = cell[cell["status"] == "ok"]
    if fitted.empty:
        why = str(cell.iloc[0]["note"]).removeprefix("skipped: ")
        return f" No model with sets and lemmas as grouping was fitted ({why})."
    parts = []
    for row in fitted.itertuples():
        name = "mixed model" if row.method == MIXED_METHOD else "GEE" if row.method == GEE_METHOD else row.method
        parts.append(f"{name} ×{math.exp(row.coef):.2f} [{math.exp(row.ci_low):.2f}, {math.exp(row.ci_high):.2f}]")
    return f" With sets (and target lemmas) as grouping: {'; '.join(parts)} per level."


def _paired_text(row, first: str, second: str) -> str:
    return (f"{second} {row.accuracy_second:.2f} vs {first} {row.accuracy_first:.2f} over {row.n_pairs} pairs "
            f"(difference {row.difference:+.2f} [{row.diff_low:+.2f}, {row.diff_high:+.2f}], McNemar Holm-adjusted "
            f"p {_fmt_p(row.p_holm)})")


def _reliable(row) -> bool:
    return bool(row.p_holm < ALPHA and (row.diff_high < 0 or row.diff_low > 0))


def _not_reliable(low: float, high: float) -> str:
    """Why a paired difference is not called reliable (its interval, or Holm's correction)."""
    if low > 0 or high < 0:
        return ("the interval excludes no difference, but the test does not survive Holm's correction over the "
                "table's rows")
    return "the paired interval includes no difference"


def _ladder_sentence(ladder: pd.DataFrame, key: tuple) -> str:
    rows = cell_rows(ladder, key)
    if rows.empty:
        return ""
    row = rows.sort_values("depth").iloc[-1]
    text = (f" The same sets at depth {row.depth} and at depth {row.base_depth}: "
            f"{_paired_text(row, f'depth {row.base_depth}', f'depth {row.depth}')}")
    if _reliable(row):
        return text + (": the same frames lose accuracy when embedded deeper." if row.difference < 0
                       else ": the same frames gain accuracy when embedded deeper.")
    return text + f": not reliable ({_not_reliable(row.diff_low, row.diff_high)})."


def _breaking_sentence(analysis: Analysis, key: tuple, last_depth: int) -> str:
    brk = cell_rows(analysis.breaking, key)
    if brk.empty:
        return ""
    row = brk.iloc[0]
    thr = analysis.threshold
    if row["status"] == "breaks":
        at = int(row["breaking_depth"])
        if at == int(row["min_depth"]):
            return (f" Its whole interval lies below {thr:g} already at depth {at}, the shallowest depth tested: "
                    "there is no working baseline for depth to break.")
        return f" It breaks at depth {at}: the first depth whose whole interval lies below {thr:g}."
    if row["status"] == "holds":
        return f" Every depth up to {last_depth} has its whole interval above {thr:g}: it holds there."
    if row["status"] != "undecided":
        return ""
    text = (f" Undecided whether it breaks: the interval at depth {row['undecided_depths'].replace(' ', ', ')} "
            f"contains {thr:g}.")
    if row["underpowered"]:
        detect = (f"at {row['detectable']:.3f} or below" if not math.isnan(row["detectable"]) else "at no accuracy")
        text += (f" With {int(row['n_min'])} items a depth counts as broken only {detect}, below chance "
                 f"({row['chance']:g}): this curve could not have broken even at chance.")
    return text


def _chance_sentence(analysis: Analysis, task: str, last: pd.Series) -> str:
    chance = float(last["chance"]) if "chance" in last and pd.notna(last["chance"]) else \
        analysis.chance.get(task, chance_level(task))
    if last.ci_high < chance and _asks_about_each_member(task):
        return (f" At depth {last.depth} it is below chance ({chance:g}): for prompted judgments this usually "
                "means an answer bias (e.g. rejecting almost every sentence; see the answer-bias table), not a "
                "preference for the ungrammatical variant.")
    if last.ci_high < chance:
        return (f" At depth {last.depth} it is below chance ({chance:g}): the model systematically prefers "
                "the ungrammatical variant.")
    if last.ci_low <= chance:
        return f" At depth {last.depth} it cannot be told apart from chance ({chance:g})."
    return f" At depth {last.depth} it is still above chance ({chance:g})."


def _control_sentence(analysis: Analysis, key: tuple) -> str:
    rows = cell_rows(analysis.controls, key).sort_values("depth") if not analysis.controls.empty else analysis.controls
    if rows.empty:
        return ""
    row = rows.iloc[-1]
    text = (f" Against their own structure-matched depth-0 controls, the depth-{row.depth} items score "
            f"{row.accuracy_test:.2f} and the controls {row.accuracy_control:.2f} over {row.n_test} pairs (controls − "
            f"deep {row.gap:+.2f} [{row.gap_low:+.2f}, {row.gap_high:+.2f}], McNemar Holm-adjusted p "
            f"{_fmt_p(row.p_holm)})")
    if row.p_holm < ALPHA and row.gap_low > 0:
        text += ": the loss comes with depth, not with what the controls hold equal"
    elif row.p_holm < ALPHA and row.gap_high < 0:
        text += ": the controls are harder than the deep items, so depth does not explain the errors here"
    else:
        text += (f": {_not_reliable(row.gap_low, row.gap_high)}, so these data cannot tell depth from what the "
                 "controls hold equal at that depth")
    return text + _match_caveat(analysis, key[2], int(row.depth)) + "."


def _match_caveat(analysis: Analysis, construction: str, depth: int) -> str:
    match = analysis.match
    if match.empty:
        return ""
    rows = match[(match["construction"] == construction) & (match["depth"] == depth)]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    missed = [f"{COVARIATE_NAMES.get(f, f)} ({row[f'exact_{f}']:.0%} exact)" for f in ("sv_distance", "attractors")
              if pd.notna(row[f"exact_{f}"]) and row[f"exact_{f}"] < 1]
    return f" (the controls match only partly in {', '.join(missed)}; see the match table)" if missed else ""


def _condition_sentence(contrasts: pd.DataFrame, key: tuple) -> str:
    rows = cell_rows(contrasts, key)
    if rows.empty:
        return ""
    rows = rows[rows["factor"] == "attractor_condition"]
    if rows.empty:
        return ""
    reliable = [r for r in rows.itertuples() if _reliable(r)]
    if not reliable:
        return (" No depth shows a reliable difference between attractors that mismatch and match the controller "
                "(paired within sets, Holm).")
    parts = [f"depth {r.depth}: {_paired_text(r, 'match', 'mismatch')}" for r in reliable]
    return " Attractor mismatch vs match differs reliably at " + "; ".join(parts) + "."


def _paired_tasks() -> str:
    """The tasks that compare the two members of a pair, e.g. ``minimal-pair or forced-choice``."""
    return " or ".join(name for name in task_names() if task_info(name).paired)


def _asks_about_each_member(task: str) -> bool:
    """A prompted task judging each member alone: below chance there means an answer bias (see the bias table)."""
    info = task_info(task)
    return info is not None and info.prompted and not info.paired


def method_notes(analysis: Analysis) -> list[str]:
    """How to read the report: what accuracy counts, which intervals and tests, and chance for the tasks shown."""
    return ["Accuracy counts judgments with a verdict; judgments without one (correct = null) are left out and "
            "counted separately.",
            "Each task's lead verdict: " + " ".join(measure_lines(analysis)),
            "Intervals on accuracies and agreement rates are Wilson 95% score intervals over items; on paired "
            "differences (controls, sets across depths, conditions) Newcombe's method-10 interval, with exact McNemar "
            "tests.",
            "Multiple comparisons: the depth-slope tests of all curves form one family, and each table of paired tests "
            "another, corrected with Holm's step-down method; 'reliable' means Holm-adjusted p < 0.05 (and, for "
            "slopes, set- and lemma-grouped fits pointing the same way).",
            "Slopes are fitted on test items only; word count and subject-verb distance enter where they vary and "
            "can be told apart from depth (|r| <= 0.9); otherwise the report says the two cannot be separated.",
            "A depth breaks when its whole interval lies below the threshold; with n items that needs an accuracy at "
            "or below the value given in the breaking table, and a curve that could not break even at chance is "
            "never reported as holding.",
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
                extra = info.description
                if info.chance_one_member is not None:
                    extra += f"; {info.chance_one_member:g} on items without an ungrammatical twin, where it asks once"
                described.append(f"{name} ({extra})")
            else:
                described.append(name)
        listed = described[0] if len(described) == 1 else f"{', '.join(described[:-1])} and {described[-1]}"
        parts.append(f"{level:g} for {listed}")
    return "Chance (the accuracy of guessing, from each task's facts): " + "; ".join(parts) + "."
