"""Commands for sidecars and exports: `import-sidecars`, `apply` and `export`.

Each command checks its input, calls the library, prints rows (one JSON
document with --json) on stdout and every warning or failure on stderr.
Exit status: 0 success, 1 when some files failed, 2 for a usage or
configuration error.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import click

from sidecar.errors import ConfigError, QueryError, SidecarError
from sidecar.metadata.record import Record
from sidecar.metadata.sidecar_xml import keep_human_edits, read, sidecar_path
from sidecar.metadata.sidecar_xml._files import SUFFIX
from sidecar.metadata.sidecar_xml.locate import AudioFinder, audio_beside

__all__ = ["import_sidecars", "apply", "export"]


class ConfigProblem(click.ClickException):
    """A configuration error: the index or a needed part cannot be used (exit status 2)."""

    exit_code = 2


@dataclass
class Row:
    """One line of a command's report."""

    sidecar: str
    status: str                 # imported | moved | applied | unchanged | would-apply | failed
    path: str = ""
    human_fields: list[str] = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sidecar": self.sidecar, "status": self.status,
                "human_fields": self.human_fields, "reason": self.reason}


# -- shared plumbing -----------------------------------------------------------

def _open_store():
    try:
        from sidecar.index.store import Store
    except ImportError as exc:
        raise ConfigProblem(f"the index is not available ({exc})") from exc
    try:
        return Store.open()
    except Exception as exc:  # sqlite3.Error, OSError: the configured database cannot be used
        raise ConfigProblem(f"cannot open the index ({exc}); set SIDECAR_DB to a writable file") from exc


def _audio_fingerprint(path: str) -> str:
    from sidecar.library.fingerprint import audio_fingerprint
    return audio_fingerprint(path)


def _is_sidecar_name(name: str) -> bool:
    from sidecar.library.formats import AUDIO_EXTENSIONS
    return name.lower().endswith(SUFFIX) and os.path.splitext(name[: -len(SUFFIX)])[1].lower() in AUDIO_EXTENSIONS


def _sidecars(paths: Iterable[str], mirror) -> Iterator[str]:
    """Sidecar files named by paths: sidecars themselves, sounds (their sidecar), or folders walked."""
    from sidecar.library.formats import AUDIO_EXTENSIONS
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    full = os.path.join(folder, name)
                    if _is_sidecar_name(name) and not os.path.islink(full):
                        yield os.path.abspath(full)
        elif os.path.splitext(path)[1].lower() in AUDIO_EXTENSIONS:
            try:
                yield str(sidecar_path(path, mirror))
            except ConfigError as exc:
                raise click.UsageError(str(exc)) from exc
        else:
            yield os.path.abspath(path)


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


def _indexed_file(store, audio: str, record: Record, human: Iterable[str], sidecar: str,
                  fingerprint: str | None = None):
    """An index row for audio with record, keeping what the index already knew."""
    from sidecar.index.store import IndexedFile
    from sidecar.library.formats import recognise
    st = os.stat(audio)
    found = recognise(audio)
    existing = store.get(audio)
    written = dict(existing.written) if existing else {}
    written["sidecar"] = sidecar
    human_fields = sorted(set(existing.human_fields if existing else []) | set(human))
    return IndexedFile(path=audio, size=st.st_size, mtime_ns=st.st_mtime_ns,
                       fingerprint=fingerprint or (existing.fingerprint if existing else "")
                       or _audio_fingerprint(audio),
                       format=found.format if found else "", record=record, written=written,
                       human_fields=human_fields, classified=existing.classified if existing else "")


_mirror_option = click.option(
    "--mirror", nargs=2, type=click.Path(file_okay=False), default=None, metavar="ROOT MIRROR",
    help="Sidecars of the library ROOT live under the folder MIRROR (a read-only library).")
_json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")


# -- import-sidecars ------------------------------------------------------------

def _import_one(store, finder: AudioFinder, sidecar: str, mirror) -> Row:
    record, identity, human = read(sidecar)
    audio = str(audio_beside(sidecar, mirror))
    status, reason = "imported", ""
    if not os.path.isfile(audio):
        moved = next((f.path for f in store.find_by_fingerprint(identity.fingerprint)
                      if identity.fingerprint and os.path.isfile(f.path)), None)
        moved = moved or finder.find(identity, hints=[identity.path])
        if moved is None:
            return Row(sidecar, "failed", reason=f"sound not found: no {os.path.basename(audio)} beside it "
                                                 f"and no file with its fingerprint under {', '.join(finder.roots)}")
        audio, status, reason = moved, "moved", f"matched by fingerprint from {sidecar}"
    fingerprint = finder.fingerprint_of(audio)
    if fingerprint is None:
        return Row(sidecar, "failed", audio, reason="the sound cannot be read to fingerprint it")
    if identity.fingerprint and fingerprint != identity.fingerprint:
        reason = "the audio changed since the sidecar was written"
    existing = store.get(audio)
    if existing is not None:
        merged = keep_human_edits(existing.record, record, human)
        merged.fill_from(record)
        record = merged
    store.upsert(_indexed_file(store, audio, record, human, sidecar, fingerprint))
    return Row(sidecar, status, audio, sorted(human), reason)


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
    person edited become human-made in the index. A sidecar whose sound has
    moved is matched by the sound's audio fingerprint.
    """
    store = _open_store()
    search_roots = list(roots) or [p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)) for p in paths]
    finder = AudioFinder(search_roots, _audio_fingerprint)
    rows = []
    for sidecar in _sidecars(paths, mirror):
        try:
            rows.append(_import_one(store, finder, sidecar, mirror))
        except (SidecarError, OSError) as exc:
            rows.append(Row(sidecar, "failed", reason=_reason(exc, sidecar)))
    _finish(rows, as_json, "import-sidecars")


def _reason(exc: Exception, sidecar: str) -> str:
    text = str(exc) if not isinstance(exc, OSError) else (exc.strerror or str(exc))
    return text[len(sidecar) + 2:] if text.startswith(sidecar + ": ") else text


# -- apply ----------------------------------------------------------------------

def _apply_one(store, write_embedded, sidecar: str, mirror, dry_run: bool) -> Row:
    record, identity, human = read(sidecar)
    audio = str(audio_beside(sidecar, mirror))
    if not os.path.isfile(audio):
        moved = [f.path for f in store.find_by_fingerprint(identity.fingerprint)
                 if identity.fingerprint and os.path.isfile(f.path)]
        if not moved:
            return Row(sidecar, "failed", reason="sound not found beside its sidecar "
                                                 "(run import-sidecars to match a moved sound)")
        audio = moved[0]
    if not human:
        return Row(sidecar, "unchanged", audio, reason="no field edited by a person")
    existing = store.get(audio)
    base = existing.record if existing is not None else record
    merged = keep_human_edits(base, record, human)
    if dry_run:
        return Row(sidecar, "would-apply", audio, sorted(human))
    write_embedded(audio, merged)
    store.upsert(_indexed_file(store, audio, merged, human, sidecar))
    return Row(sidecar, "applied", audio, sorted(human))


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
    from functools import partial

    from sidecar.metadata.journal import Journal
    from sidecar.pipeline.write import write_embedded

    store = _open_store()
    # every write is journaled first, so `sidecar undo` gives the file back as it was
    journaled_write = partial(write_embedded, journal=Journal(store.path))
    rows = []
    for sidecar in _sidecars(paths, mirror):
        try:
            rows.append(_apply_one(store, journaled_write, sidecar, mirror, dry_run))
        except (SidecarError, OSError) as exc:
            rows.append(Row(sidecar, "failed", reason=_reason(exc, sidecar)))
    _finish(rows, as_json, "apply")


# -- export -----------------------------------------------------------------------

@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xml"]), default="csv", show_default=True,
              help="csv: one row per file (Soundminer/UCS columns); xml: one collection document.")
@click.option("--query", "-q", default=None, help="Only files matching this search, e.g. 'door -metal'.")
@click.option("-o", "--output", default="-", type=click.Path(dir_okay=False), show_default=True,
              help="File to write (written whole or not at all); '-' is stdout.")
@click.option("--bom/--no-bom", default=False, show_default=True,
              help="Start the CSV with a UTF-8 byte-order mark, which Excel needs to read accents and CJK.")
def export(fmt: str, query: str | None, output: str, bom: bool) -> None:
    """Export the index (or the files a query finds) for library managers."""
    from sidecar.exports import write_collection, write_csv
    from sidecar.exports.output import atomic_output
    store = _open_store()
    try:
        items = store.search(query) if query else list(store.all())
    except (QueryError, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="--query") from exc

    def produce(out) -> int:
        if fmt == "xml":
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
    click.echo(f"export: {count} files as {fmt} to {'stdout' if output == '-' else output}", err=True)
