"""The report's sections in order: their text, notices, figures and tables (shared by HTML and Markdown)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ..analysis import COLLINEAR_R, Analysis
from .beside import one_answer_lines
from .display import (LABELS, Shown, display_accuracy, display_bias, display_breaking, display_collinearity,
                      display_conditions, display_contrasts, display_controls, display_critical, display_ladder,
                      display_match, display_parsers, display_references, display_regression, display_suites,
                      display_tasks, display_verified)
from .figures import Figure
from .narrative import measure_lines
from .tables import TABLE_FILES


@dataclass(frozen=True)
class Section:
    """One section of the report: ``notices`` (what is missing, shown highlighted) come before ``text``."""

    id: str
    title: str
    text: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    tables: tuple[Shown, ...] = ()
    details: tuple[Shown, ...] = ()
    notices: tuple[str, ...] = ()


def _shown(caption: str, frame: pd.DataFrame, table: str | None = None) -> Shown:
    """A display table with the report's label columns, linked to the CSV of ``table`` (a TABLE_FILES key)."""
    return Shown(caption, frame, LABELS, TABLE_FILES[table] if table else None)


def sections(analysis: Analysis, figures: Sequence[Figure], tables: Mapping[str, pd.DataFrame]) -> list[Section]:
    """The report's sections in order; ``tables`` are the CSV tables (:func:`~depthkit.report.tables.report_tables`)."""
    fig = {f.name: f for f in figures}
    out = []
    if not analysis.accuracy.empty or analysis.suites.empty:  # runs of imported suites only have no depth to show
        out.append(_curve_section(analysis, fig))
        out += _design_sections(analysis, fig)
        if "construction_depth_heatmap" in fig:
            out.append(Section("heatmap", "Construction x depth", (), (fig["construction_depth_heatmap"],)))
        out.append(_regression_section(analysis, tables["regression"]))
    out += _verification_sections(analysis, fig)
    out += _prompted_sections(analysis)
    out += _suite_sections(analysis, fig)
    return out


def _curve_section(analysis: Analysis, fig: Mapping[str, Figure]) -> Section:
    thr = analysis.threshold
    text = ("Each task is shown by its lead verdict: " + " ".join(measure_lines(analysis)),
            f"Breaking depth: the smallest depth whose whole Wilson 95% interval lies below {thr:g} (set with "
            "--threshold); a curve holds only where every interval lies above it, and is undecided otherwise. With "
            "n items a depth can only count as broken at the accuracy given in the table; where that is below "
            "chance, the curve could not have broken even at chance. Cells: accuracy [95% interval] · number of "
            "judgments with a verdict.")
    notices = tuple(one_answer_lines(analysis.one_answer))
    underpowered = analysis.breaking[analysis.breaking["underpowered"].astype(bool)] if not analysis.breaking.empty \
        else analysis.breaking
    if not underpowered.empty:
        notices += (f"{len(underpowered)} of {len(analysis.breaking)} curves have too few items per depth for the "
                    f"threshold {thr:g}: even a model at chance would not count as broken (see the last columns of "
                    "the breaking table). Generate more items per depth, or read their breaking status as undecided.",)
    return Section("curve", "Accuracy vs depth", text, (fig["accuracy_vs_depth"],) if "accuracy_vs_depth" in fig else (),
                   (_shown("Breaking depth", display_breaking(analysis.breaking, thr), "breaking"),
                    _shown("Accuracy per depth (test items)", display_accuracy(analysis.accuracy), "accuracy")),
                   notices=notices)


def _design_sections(analysis: Analysis, fig: Mapping[str, Figure]) -> list[Section]:
    out = []
    if not analysis.ladder.empty:
        out.append(Section(
            "ladders", "The same sets at every depth",
            ("Items come in sets: one lexical frame realised at every depth (a ladder) and in every condition. Each "
             "row pairs the items of one set and condition at a deeper depth (second) with the same set at its "
             "shallowest depth (first); a shallowest item without an attractor stands for the deeper item whose "
             "attractors match the controller. Counts of pairs, the paired difference with Newcombe's 95% interval, "
             "the exact McNemar test and Holm's correction over the rows of this table.",), (),
            (_shown("Deeper vs shallowest depth of the same sets", display_ladder(analysis.ladder), "ladder"),)))
    else:
        out.append(Section("ladders", "The same sets at every depth", notices=(
            "No set spans two depths (the items were drawn independently per depth), so depths are compared between "
            "different sentences only. Generate with ladders (--design ladder) to compare the same frames across "
            "depths.",)))
    if not analysis.conditions.empty:
        figures = (fig["accuracy_by_condition"],) if "accuracy_by_condition" in fig else ()
        tables = (_shown("Accuracy by condition (test items)", display_conditions(analysis.conditions), "conditions"),)
        if not analysis.contrasts.empty:
            tables += (_shown("One condition factor at a time, paired within sets",
                              display_contrasts(analysis.contrasts), "contrasts"),)
        out.append(Section(
            "conditions", "Accuracy by condition",
            ("Every set carries every condition: the controller's value (e.g. singular or plural subject) and, where "
             "a noun stands between controller and target, whether that noun's value matches the controller "
             "(attractors 'match') or not ('mismatch'). Attraction shows as lower accuracy on mismatch items. The "
             "paired table compares items of one set and depth that differ in that one factor.",),
            figures, tables))
    out.append(_controls_section(analysis, fig))
    return out


def _controls_section(analysis: Analysis, fig: Mapping[str, Figure]) -> Section:
    title = "Deep items vs their structure-matched controls"
    match = (_shown("How well the controls matched their items", display_match(analysis.match), "match"),) \
        if not analysis.match.empty else ()
    if "controls_vs_depth" not in fig:
        return Section("controls", title, tables=match, notices=(
            "These items have no controls: generate with --controls to compare each deep item with a depth-0 "
            "sentence of the same condition, subject-verb distance, attractors and length.",))
    return Section(
        "controls", title,
        ("Each test item of depth 1 or more has one control: a depth-0 sentence in the same condition (the same "
         "controller value and target words), matched as far as the grammar allows in subject-verb distance, then "
         "attractor count, then length; its `match` records what is left different. Depth-0 items are their own "
         "baseline. Each row pairs the items of one depth with their own controls (McNemar counts, Newcombe's "
         "interval, Holm over the table); the match table says how equal the controls were, per construction and "
         "depth: a contrast with controls that missed the item's distance says less about depth alone.",),
        (fig["controls_vs_depth"],),
        (_shown("Each deep item beside its own control", display_controls(analysis.controls), "controls"),) + match)


def _regression_section(analysis: Analysis, regression: pd.DataFrame) -> Section:
    tables = (_shown("Depth term, every model", display_regression(regression, True), "regression"),)
    if not analysis.collinearity.empty:
        tables = (_shown("Depth, length and distance in these items", display_collinearity(analysis.collinearity),
                         "collinearity"),) + tables
    return Section(
        "regression", "The slope: logistic regression of correctness on depth",
        ("correct ~ depth (+ n_words, + sv_distance where they vary and can be told apart from depth), fitted per "
         "model, task and construction on test items only; the controls are the paired contrast above. An odds ratio "
         "below 1 means the odds of a correct verdict shrink with each extra level of depth. A covariate whose "
         f"correlation with depth exceeds {COLLINEAR_R:g} (or that with the others predicts depth that well) is left "
         "out and named: the depth term then measures depth and it together, and the report says they cannot be "
         "separated rather than reporting a null from a model that cannot tell them apart. Perfect separation is "
         "handled with Firth's penalized likelihood and flagged. The p-values of the depth terms are corrected with "
         "Holm's method over every curve of the report.",
         "With sets and target lemmas as grouping (a set is one lexical frame at every depth and condition; the "
         "target lemma is the verb whose two forms the pair flips): a mixed logit with crossed random intercepts for "
         "set and lemma, fitted by variational Bayes (statsmodels BinomialBayesMixedGLM; posterior mean, mean ± 1.96 "
         "posterior SD, normal-approximation p; its effects are conditional on set and lemma, so larger than the "
         "others; VB intervals tend to be too narrow), and a GEE logit with set clusters (exchangeable correlation, "
         "robust standard errors). A trend is called reliable only when the plain fit survives Holm's correction and "
         "every grouped fit points the same way."),
        (), tables, (_shown("All terms", display_regression(regression, False), "regression"),))


def _verification_sections(analysis: Analysis, fig: Mapping[str, Figure]) -> list[Section]:
    out = []
    notice: list[str] = []  # said once: in the verified section if there is one, else under parsers
    if analysis.benepar_available is None:
        notice.append("No verification.jsonl was found next to these items (or only one made for an earlier "
                      "items.jsonl), so there is no verified-only comparison and no parser agreement. Run `depthkit "
                      "verify` on the generated folder.")
    elif analysis.benepar_available is False:
        notice.append("No constituency (benepar) model was available during verification: no item was checked against "
                      "a constituency parse, and 'verified' rests on the other checks only.")
    if not analysis.verified.empty:
        shown = _shown("Accuracy on all vs verified test items", display_verified(analysis.verified), "verified")
        out.append(Section("verified", "Verified-only vs all items", tables=(shown,), notices=tuple(notice)))
        notice = []
    parser_figures = (fig["parser_agreement_vs_depth"],) if "parser_agreement_vs_depth" in fig else ()
    parser_text = ("A parser that disagrees with the intended tree at depth 3 is data about the parser, not proof "
                   "that the item is wrong.",) if parser_figures else ()
    parser_tables = () if analysis.parsers.empty else (
        _shown("Agreement with the intended tree (test items)", display_parsers(analysis.parsers), "parsers"),)
    out.append(Section("parsers", "Parser agreement vs depth", parser_text, parser_figures, parser_tables,
                       notices=tuple(notice)))
    if "critical_difference_by_depth" in fig:
        out.append(Section(
            "critical", "Critical-region log-probability differences",
            ("Shares of pairs preferring the grammatical variant: in the critical region (from the word where the pair "
             "differs to the end), on whole-sentence sums, and, where the judgments carry target scores, on the "
             "target words alone. For equal-length pairs that share everything before the target, the whole-sentence "
             "difference equals the critical-region difference, so those two shares agree; the target-only share "
             "leaves out the spillover onto the words that follow.",),
            (fig["critical_difference_by_depth"],),
            (_shown("good_critical − bad_critical", display_critical(analysis.critical), "critical"),)))
    return out


def _prompted_sections(analysis: Analysis) -> list[Section]:
    out = []
    if not analysis.bias.empty:
        out.append(Section(
            "bias", "Answer bias of prompted judgments",
            ("Prompted tasks lead with a verdict free of answer bias: judgment compares P(Yes) for the grammatical "
             "and the ungrammatical member (Hu & Levy 2023); forced-choice averages the preference for the good "
             "member's label over both A/B orders. Beside it: the answer-following verdict (both members answered "
             "right; or the answer in one order), the acceptance rates, the mean P(Yes), the first-position bias and "
             "the commonest answer. When both acceptance rates are high (or both low), or one answer dominates, the "
             "answers follow a bias, and only the lead verdict says something about grammar.",), (),
            (_shown("Lead verdict beside the answers (test items)", display_bias(analysis.bias), "bias"),)))
    if not analysis.tasks.empty:
        out.append(Section(
            "tasks", "Task types on the same items",
            ("Two tasks judged the same items with the same model. The literature (Hu & Levy 2023; Hu et al. 2024) "
             "finds prompted judgments underestimate what minimal-pair log-probabilities show. McNemar p tests "
             "whether the two accuracies differ on these items (per depth, not corrected); the answer-following "
             "columns give each prompted task's answer-following verdict on the same items.",), (),
            (_shown("Task comparison", display_tasks(analysis.tasks), "tasks"),)))
    return out


def _suite_sections(analysis: Analysis, fig: Mapping[str, Figure]) -> list[Section]:
    out = []
    if not analysis.suites.empty:
        out.append(Section(
            "suites", "External suites",
            ("Items imported with `depthkit import` (BLiMP paradigms, SyntaxGym suites) have no depth: each paradigm "
             "is its own row, scored by the suite's own measure, beside the depthkit grammar and depth that test the "
             "same thing (the matches in the references file) for the same model.",),
            (fig["suites"],) if "suites" in fig else (),
            (_shown("Suite paradigms beside their depthkit match", display_suites(analysis.suites), "suites"),)))
    if not analysis.references.empty:
        out.append(Section(
            "references", "Published reference points",
            ("Published accuracies for the same paradigms (drawn because the report was asked with --reference). "
             "They come from other models, sometimes from humans, measured as each row says: read them as "
             "landmarks, not as a test of this model.",), (),
            (_shown("Reference points", display_references(analysis.references), "references"),)))
    return out
