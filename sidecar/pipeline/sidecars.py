"""Sidecar documents already beside a library: import them into the index, apply a person's
edits in them to the sounds, and follow a sound that moved away from its sidecar.

The command line (cli/sidecars.py) parses options and prints the rows these functions return.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sidecar.config import Config
from sidecar.errors import ConfigError, SidecarError
from sidecar.formats import AUDIO_EXTENSIONS, audio_fingerprint, recognise
from sidecar.index.interfaces import IndexedFile
from sidecar.metadata.record import Record
from sidecar.metadata.sidecar_xml import (
    Identity, atomic_write, is_sidecar_name, keep_human_edits, read, render, sidecar_path,
)
from sidecar.metadata.sidecar_xml.locate import AudioFinder, MovedSound, audio_beside, own_sidecars
from sidecar.pipeline.edit import holding_claim
from sidecar.pipeline.write import journal_sidecar_written, write_embedded


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


class SidecarPlaces:
    """Where sidecars live: the --mirror given, else the mirrors of the configuration."""

    def __init__(self, mirror, config: Config):
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


def not_found(audio: str, found: MovedSound, where: str) -> str:
    """The one line that says why an orphaned sidecar's sound was not taken."""
    if found.ambiguous:
        return (f"ambiguous: {len(found.candidates)} sounds hold its audio and have no sidecar of their own "
                f"({', '.join(found.candidates)}); none was taken")
    if found.with_sidecar:
        return (f"sound not found: no {os.path.basename(audio)} beside it, and every sound with its audio "
                f"has a sidecar of its own ({', '.join(found.with_sidecar)})")
    return f"sound not found: no {os.path.basename(audio)} beside it and {where}"


def sidecars_named(paths: Iterable[str], mirror) -> Iterator[str]:
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
            yield str(sidecar_path(path, mirror))      # ConfigError: the mirror cannot hold it
        else:
            yield os.path.abspath(path)


_UNKNOWN: Any = object()


def indexed_file(store, audio: str, record: Record, human: Iterable[str], sidecar: str,
                  fingerprint: str | None = None, existing=_UNKNOWN):
    """An index row for audio with record, keeping what the index already knew (existing: its row)."""
    st = os.stat(audio)
    found = recognise(audio)
    if existing is _UNKNOWN:
        existing = store.files.get(audio)
    written = dict(existing.written) if existing else {}
    written["sidecar"] = sidecar
    human_fields = sorted(set(existing.human_fields if existing else []) | set(human))
    return IndexedFile(path=audio, size=st.st_size, mtime_ns=st.st_mtime_ns,
                       fingerprint=fingerprint or (existing.fingerprint if existing else "")
                       or audio_fingerprint(audio),
                       format=found.format if found else "", record=record, written=written,
                       human_fields=human_fields, classified=existing.classified if existing else "")


def move_sidecar(journal, places: SidecarPlaces, sidecar: str, record: Record, identity: Identity,
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
            journal_sidecar_written(journal, target)
    try:
        os.unlink(sidecar)
    except OSError as exc:
        return str(target), (f"matched by fingerprint; sidecar copied to {target}, "
                             f"the old one could not be removed ({exc.strerror or exc})")
    return str(target), f"matched by fingerprint; sidecar moved to {target}"


def import_one(store, finder: AudioFinder, places: SidecarPlaces, journal, sidecar: str) -> Row:
    record, identity, human = read(sidecar)
    audio = places.audio_of(sidecar)
    old_audio = None
    status, reason = "imported", ""
    if not os.path.isfile(audio):
        known = [f.path for f in store.files.find_by_fingerprint(identity.fingerprint)] if identity.fingerprint else []
        found = finder.moved_sound(identity, known=known, has_sidecar=places.has_own)
        if found.path is None:
            where = f"no other file with its fingerprint under {', '.join(finder.roots)}"
            return Row(sidecar, "failed", reason=not_found(audio, found, where))
        old_audio, audio, status = audio, found.path, "moved"
    fingerprint = finder.fingerprint_of(audio)
    if fingerprint is None:
        return Row(sidecar, "failed", audio, reason="the sound cannot be read to fingerprint it")
    if identity.fingerprint and fingerprint != identity.fingerprint:
        reason = "the audio changed since the sidecar was written"
    # under the sound's claim, as a person's edit: no scan or daemon writes it meanwhile
    with holding_claim(store, audio):
        existing = store.files.get(audio)
        if existing is None and old_audio is not None:
            existing = store.files.get(old_audio)        # the row of the sound before it moved
        indexed_record = record
        if existing is not None:
            indexed_record = keep_human_edits(existing.record, record, human)
            indexed_record.fill_from(record)
        where = sidecar
        if old_audio is not None:
            where, reason = move_sidecar(journal, places, sidecar, record, identity, human, audio)
            if journal is not None:
                journal.rename(old_audio, audio)   # undo follows the sound
        row = indexed_file(store, audio, indexed_record, human, where, fingerprint, existing)
        with store.atomic():
            if old_audio is not None:
                store.files.delete(old_audio)            # the index holds the sound once, where it is now
            store.files.upsert(row)
    return Row(sidecar, status, audio, sorted(human), reason)


def failure_reason(exc: Exception, sidecar: str) -> str:
    text = str(exc) if not isinstance(exc, OSError) else (exc.strerror or str(exc))
    return text[len(sidecar) + 2:] if text.startswith(sidecar + ": ") else text


def apply_one(store, write_embedded, places: SidecarPlaces, finder: AudioFinder, sidecar: str,
               dry_run: bool) -> Row:
    record, identity, human = read(sidecar)
    audio = places.audio_of(sidecar)
    if not os.path.isfile(audio):
        # only a sound the index knows, with its audio and no sidecar of its own, is taken
        known = [f.path for f in store.files.find_by_fingerprint(identity.fingerprint)] if identity.fingerprint else []
        found = finder.moved_sound(identity, known=known, has_sidecar=places.has_own, search=False)
        if found.path is None:
            where = "no other indexed file with its fingerprint (run import-sidecars to match a moved sound)"
            return Row(sidecar, "failed", reason=not_found(audio, found, where))
        audio = found.path
    if not human:
        return Row(sidecar, "unchanged", audio, reason="no field edited by a person")
    if dry_run:
        return Row(sidecar, "would-apply", audio, sorted(human))
    # under the sound's claim, as a person's edit: what the last writer indexed is read and kept
    with holding_claim(store, audio):
        existing = store.files.get(audio)
        base = existing.record if existing is not None else record
        merged = keep_human_edits(base, record, human)
        write_embedded(audio, merged)
        store.files.upsert(indexed_file(store, audio, merged, human, sidecar))
    return Row(sidecar, "applied", audio, sorted(human))


def import_sidecars(app, paths: Iterable[str], roots: Iterable[str] = (), mirror=None) -> list[Row]:
    """Bring the sidecars named by paths into the app's index, without classifying; a sound that
    moved is matched by its audio fingerprint under roots (default: the folders given).
    ConfigError: a sound's sidecar cannot be placed under the mirror."""
    paths = list(paths)
    store, journal = app.store, app.journal
    places = SidecarPlaces(mirror, app.config)
    search_roots = list(roots) or [p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)) for p in paths]
    finder = AudioFinder(search_roots, audio_fingerprint)
    rows = []
    # listed before any is read: a sidecar moved beside its sound is not met a second time
    for sidecar in list(sidecars_named(paths, mirror)):
        try:
            rows.append(import_one(store, finder, places, journal, sidecar))
        except (SidecarError, OSError) as exc:
            rows.append(Row(sidecar, "failed", reason=failure_reason(exc, sidecar)))
    return rows


def apply_sidecars(app, paths: Iterable[str], mirror=None, dry_run: bool = False) -> Iterator[Row]:
    """Write the fields a person edited in the sidecars named by paths into the sounds, journaled
    first so that `sidecar undo` gives each file back. ConfigError as for import_sidecars."""
    places = SidecarPlaces(mirror, app.config)
    finder = AudioFinder([], audio_fingerprint)

    def journaled_write(path: str, record: Record) -> list[str]:
        return write_embedded(path, record, journal=app.journal)

    for sidecar in sidecars_named(paths, mirror):
        try:
            yield apply_one(app.store, journaled_write, places, finder, sidecar, dry_run)
        except (SidecarError, OSError) as exc:
            yield Row(sidecar, "failed", reason=failure_reason(exc, sidecar))
