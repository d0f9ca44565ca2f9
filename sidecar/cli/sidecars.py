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

from sidecar.cli.common import ConfigProblem, open_index
from sidecar.errors import ConfigError, QueryError, SidecarError
from sidecar.metadata.record import Record
from sidecar.metadata.sidecar_xml import (
    Identity, atomic_write, is_sidecar_name, keep_human_edits, read, render, sidecar_path,
)
from sidecar.metadata.sidecar_xml.locate import AudioFinder, MovedSound, audio_beside, own_sidecars

__all__ = ["import_sidecars", "apply", "export"]


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

class SidecarPlaces:
    """Where sidecars live: the --mirror given, else the mirrors of the configuration."""

    def __init__(self, mirror):
        from sidecar.config import load
        try:
            config = load()
        except ConfigError as exc:
            raise ConfigProblem(str(exc)) from exc
        self.mirror = mirror
        self.config = config
        self.mirrors = ([tuple(mirror)] if mirror else []) + list(config.mirrors.items())

    def mirror_for(self, audio: str):
        """The mirror a sidecar of audio is written to (None: beside it)."""
        if self.mirror:
            root = os.path.abspath(self.mirror[0])
            real = os.path.abspath(audio)
            if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                return self.mirror
        return self.config.mirror_for(audio)

    def audio_of(self, sidecar: str) -> str:
        """Where the sound of a sidecar should be (mapped back from the mirror holding it)."""
        real = os.path.abspath(sidecar)
        for root, mirror_root in self.mirrors:
            inside = os.path.abspath(os.path.expanduser(mirror_root)).rstrip(os.sep) + os.sep
            if real.startswith(inside):
                return str(audio_beside(real, (os.path.expanduser(root), os.path.expanduser(mirror_root))))
        return str(audio_beside(real))

    def has_own(self, audio: str) -> bool:
        """Whether audio has a sidecar of its own (beside it or in a mirror)."""
        return bool(own_sidecars(audio, self.mirrors))


def _not_found(audio: str, found: MovedSound, where: str) -> str:
    """The one line that says why an orphaned sidecar's sound was not taken."""
    if found.ambiguous:
        return (f"ambiguous: {len(found.candidates)} sounds hold its audio and have no sidecar of their own "
                f"({', '.join(found.candidates)}); none was taken")
    if found.with_sidecar:
        return (f"sound not found: no {os.path.basename(audio)} beside it, and every sound with its audio "
                f"has a sidecar of its own ({', '.join(found.with_sidecar)})")
    return f"sound not found: no {os.path.basename(audio)} beside it and {where}"


def _audio_fingerprint(path: str) -> str:
    from sidecar.formats import audio_fingerprint
    return audio_fingerprint(path)


def _sidecars(paths: Iterable[str], mirror) -> Iterator[str]:
    """Sidecar files named by paths: sidecars themselves, sounds (their sidecar), or folders walked."""
    from sidecar.formats import AUDIO_EXTENSIONS
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    full = os.path.join(folder, name)
                    if is_sidecar_name(name) and not os.path.islink(full):
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


_UNKNOWN: Any = object()


def _indexed_file(store, audio: str, record: Record, human: Iterable[str], sidecar: str,
                  fingerprint: str | None = None, existing=_UNKNOWN):
    """An index row for audio with record, keeping what the index already knew (existing: its row)."""
    from sidecar.index.interfaces import IndexedFile
    from sidecar.formats import recognise
    st = os.stat(audio)
    found = recognise(audio)
    if existing is _UNKNOWN:
        existing = store.files.get(audio)
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

def _move_sidecar(journal, places: SidecarPlaces, sidecar: str, record: Record, identity: Identity,
                  human: set[str], audio: str) -> tuple[str, str]:
    """Put the sidecar of a moved sound beside it (or in its mirror); (where it is now, a note).

    The document is written whole at the new place, with the sound's new name, path and
    size, then the old one is removed; its undo journal entry moves with it.
    """
    try:
        target = sidecar_path(audio, places.mirror_for(audio))
    except ConfigError as exc:
        return sidecar, f"matched by fingerprint; sidecar left where it was: {exc}"
    if os.path.lexists(target):
        return sidecar, f"matched by fingerprint; sidecar left where it was: {target} exists"
    moved_identity = Identity(name=os.path.basename(audio), size=os.stat(audio).st_size,
                              fingerprint=identity.fingerprint, path=audio)
    # the journal entry moves with the document: a sidecar the service created and nobody
    # changed stays the service's own at the new place, a person's edits stay theirs
    service_bytes = journal is not None and journal.holds_written_bytes(sidecar)
    if journal is not None:
        journal.flag_if_changed(sidecar)
    atomic_write(target, render(record, moved_identity, human=human))
    if journal is not None:
        journal.rename(sidecar, target)
        if service_bytes:
            from sidecar.pipeline.write import journal_sidecar_written
            journal_sidecar_written(journal, target)
    try:
        os.unlink(sidecar)
    except OSError as exc:
        return str(target), (f"matched by fingerprint; sidecar copied to {target}, "
                             f"the old one could not be removed ({exc.strerror or exc})")
    return str(target), f"matched by fingerprint; sidecar moved to {target}"


def _import_one(store, finder: AudioFinder, places: SidecarPlaces, journal, sidecar: str) -> Row:
    record, identity, human = read(sidecar)
    audio = places.audio_of(sidecar)
    old_audio = None
    status, reason = "imported", ""
    if not os.path.isfile(audio):
        known = [f.path for f in store.files.find_by_fingerprint(identity.fingerprint)] if identity.fingerprint else []
        found = finder.moved_sound(identity, known=known, has_sidecar=places.has_own)
        if found.path is None:
            where = f"no other file with its fingerprint under {', '.join(finder.roots)}"
            return Row(sidecar, "failed", reason=_not_found(audio, found, where))
        old_audio, audio, status = audio, found.path, "moved"
    fingerprint = finder.fingerprint_of(audio)
    if fingerprint is None:
        return Row(sidecar, "failed", audio, reason="the sound cannot be read to fingerprint it")
    if identity.fingerprint and fingerprint != identity.fingerprint:
        reason = "the audio changed since the sidecar was written"
    existing = store.files.get(audio)
    if existing is None and old_audio is not None:
        existing = store.files.get(old_audio)        # the row of the sound before it moved
    indexed_record = record
    if existing is not None:
        indexed_record = keep_human_edits(existing.record, record, human)
        indexed_record.fill_from(record)
    where = sidecar
    if old_audio is not None:
        where, reason = _move_sidecar(journal, places, sidecar, record, identity, human, audio)
        if journal is not None:
            journal.rename(old_audio, audio)   # undo follows the sound
    row = _indexed_file(store, audio, indexed_record, human, where, fingerprint, existing)
    with store.atomic():
        if old_audio is not None:
            store.files.delete(old_audio)            # the index holds the sound once, where it is now
        store.files.upsert(row)
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
    person edited become human-made in the index.

    A sidecar whose sound is gone is matched by the sound's audio fingerprint to
    a sound that has no sidecar of its own (a copy of the same audio with its own
    sidecar is another sound); several such sounds are ambiguous and reported,
    never guessed. For a sound that moved, its index row moves with it, and the
    sidecar is moved beside it (or into its mirror folder): written whole at the
    new place, with the sound's new name and path, then removed from the old one.
    """
    app = open_index()
    store = app.store
    places = SidecarPlaces(mirror)
    journal = app.journal
    search_roots = list(roots) or [p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)) for p in paths]
    finder = AudioFinder(search_roots, _audio_fingerprint)
    rows = []
    try:
        # listed before any is read: a sidecar moved beside its sound is not met a second time
        for sidecar in list(_sidecars(paths, mirror)):
            try:
                rows.append(_import_one(store, finder, places, journal, sidecar))
            except (SidecarError, OSError) as exc:
                rows.append(Row(sidecar, "failed", reason=_reason(exc, sidecar)))
    finally:
        journal.close()
    _finish(rows, as_json, "import-sidecars")


def _reason(exc: Exception, sidecar: str) -> str:
    text = str(exc) if not isinstance(exc, OSError) else (exc.strerror or str(exc))
    return text[len(sidecar) + 2:] if text.startswith(sidecar + ": ") else text


# -- apply ----------------------------------------------------------------------

def _apply_one(store, write_embedded, places: SidecarPlaces, finder: AudioFinder, sidecar: str,
               dry_run: bool) -> Row:
    record, identity, human = read(sidecar)
    audio = places.audio_of(sidecar)
    if not os.path.isfile(audio):
        # only a sound the index knows, with its audio and no sidecar of its own, is taken
        known = [f.path for f in store.files.find_by_fingerprint(identity.fingerprint)] if identity.fingerprint else []
        found = finder.moved_sound(identity, known=known, has_sidecar=places.has_own, search=False)
        if found.path is None:
            where = "no other indexed file with its fingerprint (run import-sidecars to match a moved sound)"
            return Row(sidecar, "failed", reason=_not_found(audio, found, where))
        audio = found.path
    if not human:
        return Row(sidecar, "unchanged", audio, reason="no field edited by a person")
    existing = store.files.get(audio)
    base = existing.record if existing is not None else record
    merged = keep_human_edits(base, record, human)
    if dry_run:
        return Row(sidecar, "would-apply", audio, sorted(human))
    write_embedded(audio, merged)
    store.files.upsert(_indexed_file(store, audio, merged, human, sidecar))
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

    from sidecar.pipeline.write import write_embedded

    app = open_index()
    store = app.store
    places = SidecarPlaces(mirror)
    finder = AudioFinder([], _audio_fingerprint)
    # every write is journaled first, so `sidecar undo` gives the file back as it was
    journaled_write = partial(write_embedded, journal=app.journal)
    rows = []
    for sidecar in _sidecars(paths, mirror):
        try:
            rows.append(_apply_one(store, journaled_write, places, finder, sidecar, dry_run))
        except (SidecarError, OSError) as exc:
            rows.append(Row(sidecar, "failed", reason=_reason(exc, sidecar)))
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
