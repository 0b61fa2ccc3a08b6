"""The report's sections in order: their text, notices, figures and tables (shared by HTML and Markdown)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ..analysis import Analysis
from .display import (LABELS, Shown, display_accuracy, display_bias, display_breaking, display_controls,
                      display_critical, display_parsers, display_regression, display_tasks, display_verified)
from .figures import Figure
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
    regression = tables["regression"]
    out = [Section(
        "curve", "Accuracy vs depth",
        (f"Breaking depth: the smallest depth whose whole Wilson 95% interval lies below {analysis.threshold:g} "
         "(set with --threshold). Cells: accuracy [95% interval] · number of judgments with a verdict.",),
        (fig["accuracy_vs_depth"],),
        (_shown("Breaking depth", display_breaking(analysis.breaking, analysis.threshold), "breaking"),
         _shown("Accuracy per depth (test items)", display_accuracy(analysis.accuracy), "accuracy")))]
    if "controls_vs_depth" in fig:
        out.append(Section(
            "controls", "Deep items vs length-matched controls",
            ("Each control is a depth-0 sentence matched to one test item in word count (and subject-verb distance as "
             "far as the grammar allows; each control's `match` records the differences); it is shown at the depth "
             "of the item it matches.",),
            (fig["controls_vs_depth"],),
            (_shown("Tests and their controls", display_controls(analysis.controls), "controls"),)))
    else:
        out.append(Section("controls", "Deep items vs length-matched controls", notices=(
            "These items have no controls: generate with --controls to separate depth from sentence length.",)))
    if "construction_depth_heatmap" in fig:
        out.append(Section("heatmap", "Construction x depth", (), (fig["construction_depth_heatmap"],)))
    out.append(Section(
        "regression", "The slope: logistic regression of correctness on depth",
        ("correct ~ depth + n_words (+ sv_distance where the grammar has agreement), fitted per model, task and "
         "construction on test items and their controls: controls enter at depth 0, which is what separates depth "
         "from length. An odds ratio below 1 means the odds of a correct verdict shrink with each extra level of "
         "depth, the other terms held fixed. Perfect separation is handled with Firth's penalized likelihood and "
         "flagged.",
         "With lexical frames as grouping (items differing only in their words share a frame): a mixed logit with a "
         "random intercept per frame, fitted by variational Bayes (statsmodels BinomialBayesMixedGLM; posterior mean, "
         "mean ± 1.96 posterior SD, normal-approximation p; its effects are conditional on the frame, so larger than "
         "the others; VB intervals tend to be too narrow), and a GEE logit with frame clusters (exchangeable "
         "correlation, robust standard errors). Items themselves cannot be the grouping: each item is judged once per "
         "model and task."),
        (),
        (_shown("Depth term, every model", display_regression(regression, True), "regression"),),
        (_shown("All terms", display_regression(regression, False), "regression"),)))
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
    if not analysis.bias.empty:
        out.append(Section(
            "bias", "Answer bias of prompted judgments",
            ("A prompted judgment is right only when the grammatical member is accepted and the ungrammatical one "
             "rejected. When both acceptance rates are high (or both low) the model answers from a bias, and its "
             "accuracy says little about grammar.",), (),
            (_shown("Acceptance rates (test items)", display_bias(analysis.bias)),)))
    if not analysis.tasks.empty:
        out.append(Section(
            "tasks", "Task types on the same items",
            ("Two tasks judged the same items with the same model. The literature (Hu & Levy 2023; Hu et al. 2024) "
             "finds prompted judgments underestimate what minimal-pair log-probabilities show. McNemar p tests "
             "whether the two accuracies differ on these items.",), (),
            (_shown("Task comparison", display_tasks(analysis.tasks), "tasks"),)))
    return out
