"""The verdict: how the three checks of an item decide ``verified``, and the rule in words."""

from __future__ import annotations

from typing import Any

from ..schema import Item

PARSERS = ("grammar", "spacy", "benepar")
RULE = ("verified = grammar ok (good parses, exactly one structure, which is the intended tree; bad rejected "
        "when there is a bad) AND spacy ok (matrix verb is the root and the controller its subject, where "
        "these apply; otherwise the clause depth) AND, only when benepar ran, benepar ok (subject/predicate "
        "split and clause depth recovered); not_run grammar/spacy and benepar errors never count as passed")


def decide(grammar: dict[str, Any], spacy: dict[str, Any], benepar: dict[str, Any]) -> tuple[bool, str]:
    """The overall verdict and the rule (or the failing checks) that decided it; see RULE."""
    used, failed = [], []
    if grammar.get("status") == "ok":
        used.append("grammar unambiguous")
    else:
        failed.append("grammar " + _why_grammar(grammar))
    if spacy.get("status") == "ok":
        parts = [k for k in ("root", "subject") if spacy.get(f"{k}_ok") is True] or ["depth"]
        used.append("spacy " + "+".join(parts))
    else:
        parts = [k for k in ("root", "subject", "depth") if spacy.get(f"{k}_ok") is False]
        failed.append(f"spacy {spacy.get('status')}" + (f" ({'+'.join(parts)})" if parts else ""))
    if benepar.get("status") == "ok":
        parts = [k for k in ("split", "depth") if benepar.get(f"{k}_ok") is True]
        used.append("benepar " + "+".join(parts))
    elif benepar.get("status") != "not_run":
        parts = [k for k in ("split", "depth") if benepar.get(f"{k}_ok") is False]
        failed.append(f"benepar {benepar.get('status')}" + (f" ({'+'.join(parts)})" if parts else ""))
    if failed:
        return False, "not verified: " + ", ".join(failed)
    return True, " and ".join(used)


def _why_grammar(g: dict[str, Any]) -> str:
    if g.get("status") != "failed":
        return str(g.get("status"))
    if not g.get("in_language"):
        return "failed (good not in the language)"
    if g.get("ambiguous"):
        return f"failed (ambiguous: {g.get('n_parses')} parses)"
    if g.get("bad_rejected") is False:
        return "failed (bad also parses)"
    return "failed (intended tree not found)"


def make_record(item: Item, grammar: dict[str, Any], spacy: dict[str, Any],
                benepar: dict[str, Any]) -> dict[str, Any]:
    verified, verified_by = decide(grammar, spacy, benepar)
    return {"item_id": item.id, "depth": item.depth, "construction": item.construction, "kind": item.kind,
            "grammar": grammar, "spacy": spacy, "benepar": benepar, "verified": verified, "verified_by": verified_by}
