"""The write and verify stages: every enabled container, atomically, with the audio proven unchanged.

WAV and RF64 go through the project's RIFF writer (bext, iXML, INFO and the ID3
chunk, in place when there is room), AIFF through its chunk writer; the other
formats through mutagen on a temporary copy that replaces the original only after
its audio fingerprint is compared.
"""

from __future__ import annotations

import contextlib
import os
import shutil

from sidecar.errors import AudioError, ContainerError, FileError, VerifyError
from sidecar.library.fingerprint import audio_fingerprint, file_audio_span
from sidecar.library.formats import recognise
from sidecar.metadata import tags
from sidecar.metadata.genre import foreign_genre
from sidecar.metadata.merge import OWN_ALL, Ownership
from sidecar.metadata.record import Record
from sidecar.metadata.safe_write import fsync_dir, temp_path

RIFF_FORMATS = ("wav", "rf64")
CHUNK_FORMATS = RIFF_FORMATS + ("aiff",)     # written through the project's own chunk writers


def write_embedded(path: str, record: Record, fmt: str | None = None, *, journal=None,
                   riff: bool = True, embedded_tags: bool = True, owner: Ownership = OWN_ALL,
                   repair: bool = False) -> list[str]:
    """Write the record into the file itself; returns the containers written. Raises FileError.

    owner: which values already in each container the service may replace. A value another
    tool or a person wrote stays in its container (a file may carry a recorder's key lines in
    its bext and a person's words in its INFO comment). repair: a RIFF file is rewritten whole,
    so that the framing a damaged header got wrong is made right.
    """
    path = str(path)
    try:
        if fmt is None:
            found = recognise(path)
            if found is None:
                raise FileError(path, "write", "not an audio file SFX Sidecar handles")
            fmt = found.format
        # the project's RIFF and AIFF writers check the audio themselves (an in-place update never
        # touches it) and hand the journal what their one pass over the source read, so a 2 GB
        # master is read once, not once for the journal and once more for the copy
        if riff and fmt in CHUNK_FORMATS:
            return _write_chunks(path, fmt, record, embedded_tags, owner, repair, _journal_keeper(journal, path))
        if journal is not None:
            journal.record_original(path, file_audio_span)
        if not embedded_tags or fmt == "rf64":
            return []
        _write_tags_atomic(path, fmt, record, audio_fingerprint(path, fmt), owner)
        return ["tags"]
    except FileError:
        raise
    except (ContainerError, AudioError, VerifyError) as exc:
        raise FileError(path, "write", str(exc)) from exc
    except OSError as exc:
        raise FileError(path, "write", exc.strerror or str(exc)) from exc


def no_audio(path) -> tuple[int, int]:
    """The audio span of a document that holds none: the journal keeps all of it."""
    return 0, 0


def sidecar_kept_reason(path: str) -> str | None:
    """At undo of a sidecar the service created: words on the fields a person made in it.

    The journal decides by the bytes the service last wrote (see journal_sidecar_written)
    and adds these words to the reason it keeps a changed sidecar. Only for an entry
    without recorded bytes (a journal of an older version) do they decide alone: fields
    marked human may come from the sound's own tags, so they tell less than the bytes.
    """
    from sidecar.metadata import sidecar_xml

    _record, _identity, human = sidecar_xml.read(path)
    if human:
        return f"human-made fields in it: {', '.join(sorted(human))}"
    return None


def journal_sidecar(journal, doc_path) -> None:
    """Before writing a sidecar: keep the old one, or note that the service creates it.

    A sidecar the service created and someone changed since is flagged, so that undo
    keeps it even after the service writes it again (with the person's edits kept).
    """
    if journal is None:
        return
    if os.path.exists(doc_path):
        journal.record_original(str(doc_path), no_audio)
        journal.flag_if_changed(str(doc_path))
    else:
        journal.record_created(str(doc_path), sidecar_kept_reason)


def journal_sidecar_written(journal, doc_path) -> None:
    """After writing a sidecar: remember its bytes, so undo removes a created one only unchanged."""
    if journal is None or not os.path.isfile(doc_path):
        return
    from sidecar.metadata.journal import file_sha256

    journal.mark_written(str(doc_path), file_sha256(doc_path))


def write_sidecar_journaled(journal, audio_path, record: Record, identity, mirror=None, human=()):
    """Journal, write and mark one sidecar (sidecar_xml.write between the two journal calls)."""
    from sidecar.metadata import sidecar_xml

    doc_path = sidecar_xml.sidecar_path(audio_path, mirror)
    journal_sidecar(journal, doc_path)
    written = sidecar_xml.write(audio_path, record, identity, mirror=mirror, human=human)
    journal_sidecar_written(journal, written)
    return written


def _journal_keeper(journal, path: str):
    """The writers' keep_original for this file: None when nothing is to be journaled."""
    if journal is None or journal.has(path):
        return None
    return lambda read: journal.record_original(path, file_audio_span, read)


def _write_chunks(path: str, fmt: str, record: Record, embedded_tags: bool, owner: Ownership,
                  repair: bool, keep_original=None) -> list[str]:
    """WAV, RF64 and AIFF: the project's chunk writer, with the ID3 tag as one of its chunks."""
    from sidecar.metadata import riff
    from sidecar.metadata.riff import aiff

    existing = tags.existing_id3(path, fmt) if embedded_tags else None
    held = [str(t) for frame in (existing.getall("TCON") if existing is not None else []) for t in frame.text]
    if fmt in RIFF_FORMATS:
        held.append(_info_genre(path))
    genre = not foreign_genre(held, owner)
    id3 = tags.id3_bytes(record, existing, owner, genre) if embedded_tags else None
    if fmt == "aiff":
        result = aiff.write(path, record, id3=id3, owner=owner, repair=repair, keep_original=keep_original)
    else:
        result = riff.write(path, record, id3=id3, owner=owner, repair=repair, genre=genre,
                            keep_original=keep_original)
    return [c.strip() for c in result.chunks if c.strip().lower() != "id3"] + (["tags"] if id3 else [])


def _info_genre(path: str) -> str:
    from sidecar.metadata.riff.reader import load
    with open(path, "rb") as f:
        info = load(f).info
    return info.as_dict().get("IGNR", "") if info is not None else ""


def _write_tags_atomic(path: str, fmt: str, record: Record, before: str, owner: Ownership = OWN_ALL) -> None:
    tmp = str(temp_path(path))
    try:
        shutil.copy2(path, tmp)
        tags.write(tmp, fmt, record, owner)
        if audio_fingerprint(tmp, fmt) != before:   # PCM bytes, or decoded samples
            raise VerifyError("the audio of the tagged copy differs from the original; nothing was replaced")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(os.path.dirname(os.path.abspath(path)))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
