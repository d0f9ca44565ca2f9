"""Commands for sidecars and exports: `import-sidecars`, `apply` and `export`.

Each command checks its input, calls the library (pipeline/sidecars.py, exports/), prints rows (one JSON
document with --json) on stdout and every warning or failure on stderr.
Exit status: 0 success, 1 when some files failed, 2 for a usage or
configuration error.
"""

from __future__ import annotations

import io
import json
import sys
from typing import TYPE_CHECKING

import click

from sidecar.cli.common import open_index
from sidecar.errors import ConfigError, QueryError, SidecarError

if TYPE_CHECKING:
    from sidecar.pipeline.sidecars import Row

__all__ = ["import_sidecars", "apply", "export"]


# -- shared plumbing -----------------------------------------------------------

def _emit(rows: list[Row], as_json: bool) -> None:
    for r in rows:  # every failure gets its one line on stderr, with or without --json
        if r.status == "failed":
            click.echo(f"{r.sidecar}: {r.reason}", err=True)
    if as_json:
        body = ",\n".join(json.dumps(r.to_json(), ensure_ascii=False) for r in rows)
        click.echo(f"[\n{body}\n]" if rows else "[]")
        return
    for r in rows:
        if r.status != "failed":
            extra = f" (human: {', '.join(r.human_fields)})" if r.human_fields else ""
            note = f" [{r.reason}]" if r.reason else ""
            click.echo(f"{r.status}\t{r.path or r.sidecar}{extra}{note}")


def _finish(rows: list[Row], as_json: bool, verb: str) -> None:
    _emit(rows, as_json)
    failed = sum(r.status == "failed" for r in rows)
    click.echo(f"{verb}: {len(rows) - failed} done, {failed} failed", err=True)
    if failed:
        click.get_current_context().exit(1)


_mirror_option = click.option(
    "--mirror", nargs=2, type=click.Path(file_okay=False), default=None, metavar="ROOT MIRROR",
    help="Sidecars of the library ROOT live under the folder MIRROR (a read-only library).")
_json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")


# -- import-sidecars ------------------------------------------------------------

@click.command("import-sidecars")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Library root searched for sounds that moved away from their sidecar "
                   "(repeatable; default: the folders given).")
@_mirror_option
@_json_option
def import_sidecars(paths: tuple[str, ...], roots: tuple[str, ...], mirror, as_json: bool) -> None:
    """Bring existing sidecar documents into the index, without classifying.

    PATH is a sidecar, a sound, or a folder searched for sidecars. Fields a
    person edited become human-made in the index.

    A sidecar whose sound is gone is matched by the sound's audio fingerprint to
    a sound that has no sidecar of its own (a copy of the same audio with its own
    sidecar is another sound); several such sounds are ambiguous and reported,
    never guessed. For a sound that moved, its index row moves with it, and the
    sidecar is moved beside it (or into its mirror folder): written whole at the
    new place, with the sound's new name and path, then removed from the old one.
    """
    from sidecar.pipeline.sidecars import import_sidecars as import_all
    try:
        rows = import_all(open_index(), paths, roots, mirror)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    _finish(rows, as_json, "import-sidecars")


# -- apply ----------------------------------------------------------------------

@click.command("apply")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_mirror_option
@click.option("--dry-run", is_flag=True, help="Show what would be written; change nothing.")
@_json_option
def apply(paths: tuple[str, ...], mirror, dry_run: bool, as_json: bool) -> None:
    """Write the fields a person edited in sidecars into the sounds' embedded metadata.

    PATH is a sidecar, a sound, or a folder searched for sidecars. Every write
    goes through the safe writers (temporary copy, audio verified, rename) and
    the index takes the person's values as human-made.
    """
    from sidecar.pipeline.sidecars import apply_sidecars
    try:
        rows = list(apply_sidecars(open_index(), paths, mirror, dry_run))
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    _finish(rows, as_json, "apply")


# -- export -----------------------------------------------------------------------

@click.command("export")
@click.option("--format", "kind", type=click.Choice(["csv", "xml"]), default="csv", show_default=True,
              help="csv: one row per file (Soundminer/UCS columns); xml: one collection document.")
@click.option("--query", "-q", default=None, help="Only files matching this search, e.g. 'door -metal'.")
@click.option("-o", "--output", default="-", type=click.Path(dir_okay=False), show_default=True,
              help="File to write (written whole or not at all); '-' is stdout.")
@click.option("--bom/--no-bom", default=False, show_default=True,
              help="Start the CSV with a UTF-8 byte-order mark, which Excel needs to read accents and CJK.")
def export(kind: str, query: str | None, output: str, bom: bool) -> None:
    """Export the index (or the files a query finds) for library managers."""
    from sidecar.exports import write_collection, write_csv
    from sidecar.exports.output import atomic_output
    app = open_index()
    try:
        items = app.search(query) if query else list(app.store.files.all())
    except (QueryError, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="--query") from exc

    def produce(out) -> int:
        if kind == "xml":
            return write_collection(items, out, query=query)
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        try:
            return write_csv(items, text, bom=bom)
        finally:
            text.flush()
            text.detach()

    try:
        if output == "-":
            count = produce(sys.stdout.buffer)
        else:
            with atomic_output(output) as out:
                count = produce(out)
    except OSError as exc:
        raise click.ClickException(f"{output}: cannot write ({exc.strerror or exc})") from exc
    except SidecarError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"export: {count} files as {kind} to {'stdout' if output == '-' else output}", err=True)
