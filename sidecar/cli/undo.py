"""`sidecar undo FILE...` and `sidecar undo --all`: give files back as they were."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from ..metadata.journal import Journal, UndoResult


@click.command("undo")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--all", "undo_all", is_flag=True, help="Restore every file in the journal.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--db", type=click.Path(dir_okay=False), default=None, envvar="SIDECAR_DB",
              help="Index database holding the journal (default: $SIDECAR_DB).")
def undo(files: tuple[str, ...], undo_all: bool, as_json: bool, db: str | None) -> None:
    """Restore files byte for byte to what they were before SFX Sidecar first wrote them.

    The audio of each file must still be the audio that was journaled; a file whose
    audio changed is left alone and reported.
    """
    if bool(files) == undo_all:
        raise click.UsageError("give one or more FILEs, or --all")
    with Journal(db) as journal:
        results: list[UndoResult] = journal.undo_all() if undo_all else [journal.undo(f) for f in files]
    if as_json:
        click.echo(json.dumps([asdict(r) for r in results], ensure_ascii=False))
    for r in results:
        if r.ok:
            if not as_json:
                click.echo(f"restored {r.path}")
        else:
            click.echo(f"{r.path}: undo failed: {r.reason}", err=True)
    if any(not r.ok for r in results):
        click.get_current_context().exit(1)
