"""`depthkit verify`: check that each generated item really has its intended structure.

Three independent checks per item: the generating grammar (chart parse, ambiguity), spaCy's
dependency parse and benepar's constituency parse. Notebook API::

    from depthkit.verify import verify_folder, load_verified_ids
    summary = verify_folder("generated/object-rc")
    ids = load_verified_ids("generated/object-rc")

Heavy parsers (spaCy, torch, benepar) load only when a run needs them.
"""

from __future__ import annotations

__all__ = ["verify_folder", "load_verified_ids", "load_verification", "format_summary", "download_benepar",
           "RULE"]


def __getattr__(name: str):  # lazy, so `import depthkit.verify` stays cheap
    if name == "verify_folder":
        from .runner import verify_folder

        return verify_folder
    if name in ("load_verified_ids", "load_verification"):
        from . import records

        return getattr(records, name)
    if name == "format_summary":
        from .summary import format_summary

        return format_summary
    if name == "RULE":
        from .verdict import RULE

        return RULE
    if name == "download_benepar":
        from .benepar_check import download_benepar

        return download_benepar
    raise AttributeError(name)


def __dir__() -> list[str]:  # tab completion shows the lazy names too
    return sorted(set(globals()) | set(__all__))
