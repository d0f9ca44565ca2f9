"""`sidecar undo FILE...` and `sidecar undo --all`: give files back as they were."""

from __future__ import annotations

import json
import os
from dataclasses import asdict

import click

from .common import db_option, open_index
from ..metadata.journal import UndoResult
from ..pipeline.undo import audio_of as _audio_of, given_back as _given_back, is_sidecar as _is_sidecar
from ..pipeline.undo import undo_sound as _undo_file


def _config():
    """The configuration (for sidecar mirrors); a broken one is reported and mirrors are left out."""
    from ..config import Config, load
    from ..errors import ConfigError
    try:
        return load()
    except ConfigError as exc:
        click.echo(f"warning: {exc}; sidecars in mirror folders are not looked for", err=True)
        return Config()


def _forget_in_index(app, paths: list[str]) -> None:
    """The index follows the files: rows of the sounds given back go."""
    try:
        for path in paths:
            app.store.files.delete(path)
    except Exception as exc:  # the files are back; an index that cannot be updated is only reported
        click.echo(f"warning: the index still lists {len(paths)} restored file(s): {exc}", err=True)


@click.command("undo")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--all", "undo_all", is_flag=True, help="Restore every file in the journal.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@db_option(help="Index database holding the journal (default: $SIDECAR_DB).")
def undo(files: tuple[str, ...], undo_all: bool, as_json: bool, db_path: str | None) -> None:
    """Restore files byte for byte to what they were before SFX Sidecar first wrote them.

    FILE's sidecar (beside it, or under the mirror folder configured for its root)
    is undone with it: a sidecar SFX Sidecar created is removed unless it changed
    since SFX Sidecar last wrote it, and a sidecar it replaced gets its old bytes
    back. The audio of each file must still be the audio that was journaled; a file
    whose audio changed, or that was moved or deleted, is left alone and reported.

    The index forgets every file given back, so a later scan classifies and writes
    it again, unless its root is read_only.
    """
    if bool(files) == undo_all:
        raise click.UsageError("give one or more FILEs, or --all")
    cfg = _config()
    groups: dict[str, list[UndoResult]] = {}     # sound -> the results of it and its sidecars
    results: list[UndoResult] = []
    app = open_index(db_path, cfg)
    journal = app.journal
    try:
        if undo_all:
            for result in journal.undo_all():
                audio = _audio_of(result.path, cfg) if _is_sidecar(result.path) else result.path
                groups.setdefault(os.path.abspath(audio), []).append(result)
                results.append(result)
        else:
            for f in files:
                audio, found = _undo_file(journal, f, cfg)
                groups.setdefault(os.path.abspath(audio), []).extend(found)
                results += found
        given_back = _given_back(journal, groups)
        _forget_in_index(app, given_back)
    finally:
        app.close()
    if as_json:
        click.echo(json.dumps([asdict(r) for r in results], ensure_ascii=False))
    for r in results:
        if r.ok:
            if not as_json:
                click.echo(f"{r.status} {r.path}")
        elif r.status == "kept":
            click.echo(f"{r.path}: kept: {r.reason}", err=True)
        else:
            click.echo(f"{r.path}: undo failed: {r.reason}", err=True)
    if any(not r.ok for r in results):
        click.get_current_context().exit(1)
