"""The write and verify stages: every enabled container, atomically, with the audio proven unchanged.

Each format writes itself (sidecar/formats): WAV, RF64 and AIFF through the project's chunk
writers (bext, iXML, INFO, text chunks and the ID3 chunk, in place when there is room), the
others through mutagen on a temporary copy that replaces the original only after its audio
fingerprint is compared.
"""

from __future__ import annotations

import os

from sidecar import formats
from sidecar.errors import AudioError, ContainerError, FileError, VerifyError
from sidecar.metadata.journal import WHOLE_DOCUMENT
from sidecar.metadata.merge import OWN_ALL, Ownership
from sidecar.metadata.record import Record


def write_embedded(path: str, record: Record, fmt: str | None = None, *, journal=None,
                   riff: bool = True, embedded_tags: bool = True, owner: Ownership = OWN_ALL,
                   repair: bool = False) -> list[str]:
    """Write the record into the file itself; returns the containers written. Raises FileError.

    fmt: the format's name (else recognised from the file). owner: which values already in
    each container the service may replace. A value another tool or a person wrote stays in
    its container (a file may carry a recorder's key lines in its bext and a person's words in
    its INFO comment). repair: a chunk file is rewritten whole, so that the framing a damaged
    header got wrong is made right.
    """
    path = str(path)
    try:
        found = formats.of(path, fmt)
        if riff and found.chunk_writer:
            # the project's RIFF and AIFF writers check the audio themselves (an in-place update never
            # touches it) and hand the journal what their one pass over the source read, so a 2 GB
            # master is read once, not once for the journal and once more for the copy
            return found.write(path, record, chunks=True, embedded_tags=embedded_tags, owner=owner,
                               repair=repair, keep_original=_journal_keeper(journal, path, found))
        if journal is not None:
            journal.record_original(path, found)
        return found.write(path, record, chunks=riff, embedded_tags=embedded_tags, owner=owner, repair=repair)
    except FileError:
        raise
    except (ContainerError, AudioError, VerifyError) as exc:
        raise FileError(path, "write", str(exc)) from exc
    except OSError as exc:
        raise FileError(path, "write", exc.strerror or str(exc)) from exc


def journal_sidecar(journal, doc_path) -> None:
    """Before writing a sidecar: keep the old one, or note that the service creates it.

    A sidecar the service created and someone changed since is flagged, so that undo
    keeps it even after the service writes it again (with the person's edits kept).
    """
    if journal is None:
        return
    if os.path.exists(doc_path):
        journal.record_original(str(doc_path), WHOLE_DOCUMENT)
        journal.flag_if_changed(str(doc_path))
    else:
        journal.record_created(str(doc_path), sidecar_document=True)


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


def _journal_keeper(journal, path: str, fmt):
    """The writers' keep_original for this file: None when nothing is to be journaled."""
    if journal is None or journal.has(path):
        return None
    return lambda read: journal.record_original(path, fmt, read)
