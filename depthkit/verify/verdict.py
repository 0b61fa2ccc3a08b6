"""The verdict: how the three checks of an item decide ``verified``, and the rule in words."""

from __future__ import annotations

from ..schema import BeneparCheck, GrammarCheck, Item, SpacyCheck, VerificationRecord

PARSERS = ("grammar", "spacy", "benepar")
RULE = ("verified = grammar ok (good parses, exactly one structure, which is the intended tree; bad rejected "
        "when there is a bad) AND spacy ok (matrix verb is the root and the controller its subject, where "
        "these apply; otherwise the clause depth) AND, only when benepar ran, benepar ok (subject/predicate "
        "split and clause depth recovered); not_run grammar/spacy and benepar errors never count as passed")


def decide(grammar: GrammarCheck, spacy: SpacyCheck, benepar: BeneparCheck) -> tuple[bool, str]:
    """The overall verdict and the rule (or the failing checks) that decided it; see RULE."""
    used, failed = [], []
    if grammar.status == "ok":
        used.append("grammar unambiguous")
    else:
        failed.append("grammar " + _why_grammar(grammar))
    if spacy.status == "ok":
        parts = [k for k in ("root", "subject") if getattr(spacy, f"{k}_ok") is True] or ["depth"]
        used.append("spacy " + "+".join(parts))
    else:
        parts = [k for k in ("root", "subject", "depth") if getattr(spacy, f"{k}_ok") is False]
        failed.append(f"spacy {spacy.status}" + (f" ({'+'.join(parts)})" if parts else ""))
    if benepar.status == "ok":
        parts = [k for k in ("split", "depth") if getattr(benepar, f"{k}_ok") is True]
        used.append("benepar " + "+".join(parts))
    elif benepar.status != "not_run":
        parts = [k for k in ("split", "depth") if getattr(benepar, f"{k}_ok") is False]
        failed.append(f"benepar {benepar.status}" + (f" ({'+'.join(parts)})" if parts else ""))
    if failed:
        return False, "not verified: " + ", ".join(failed)
    return True, " and ".join(used)


def _why_grammar(g: GrammarCheck) -> str:
    if g.status != "failed":
        return g.status
    if not g.in_language:
        return "failed (good not in the language)"
    if g.ambiguous:
        return f"failed (ambiguous: {g.n_parses} parses)"
    if g.bad_rejected is False:
        return "failed (bad also parses)"
    return "failed (intended tree not found)"


def make_record(item: Item, grammar: GrammarCheck, spacy: SpacyCheck, benepar: BeneparCheck) -> VerificationRecord:
    """The verification record of ``item`` from its three checks, with the verdict."""
    verified, verified_by = decide(grammar, spacy, benepar)
    return VerificationRecord(item_id=item.id, depth=item.depth, construction=item.construction, kind=item.kind,
                              grammar=grammar, spacy=spacy, benepar=benepar, verified=verified,
                              verified_by=verified_by)
