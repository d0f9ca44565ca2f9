"""The write and verify stages: every enabled container, atomically, with the audio proven unchanged.

WAV and RF64 go through the project's RIFF writer (bext, iXML, INFO and the ID3
chunk, in place when there is room); the other formats through mutagen on a
temporary copy that replaces the original only after its audio is compared.
"""

from __future__ import annotations

import contextlib
import os
import shutil

from sidecar.audio.decode import decode
from sidecar.errors import AudioError, ContainerError, FileError, VerifyError
from sidecar.library.fingerprint import audio_span, file_audio_span, hash_span, samples_fingerprint
from sidecar.library.formats import PCM_FORMATS, recognise
from sidecar.metadata import tags
from sidecar.metadata.record import Record
from sidecar.metadata.safe_write import fsync_dir, temp_path

RIFF_FORMATS = ("wav", "rf64")


def audio_identity(path: str, fmt: str) -> str:
    """What must not change: PCM payload bytes, or decoded samples for compressed formats."""
    if fmt in PCM_FORMATS:
        return hash_span(path, *audio_span(path, fmt))
    return samples_fingerprint(decode(path, fmt))


def write_embedded(path: str, record: Record, fmt: str | None = None, *, journal=None,
                   riff: bool = True, embedded_tags: bool = True) -> list[str]:
    """Write the record into the file itself; returns the containers written. Raises FileError."""
    path = str(path)
    try:
        if fmt is None:
            found = recognise(path)
            if found is None:
                raise FileError(path, "write", "not an audio file SFX Sidecar handles")
            fmt = found.format
        if journal is not None:
            journal.record_original(path, file_audio_span)
        # the project's RIFF and AIFF writers compare the audio themselves (byte for byte on a
        # rewrite; an in-place update never touches it), so a 2 GB master is not hashed twice more
        if fmt in RIFF_FORMATS and riff:
            return _write_riff(path, fmt, record, embedded_tags)
        if fmt == "aiff" and riff:
            return _write_aiff(path, record, embedded_tags)
        if not embedded_tags or fmt == "rf64":
            return []
        _write_tags_atomic(path, fmt, record, audio_identity(path, fmt))
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
    """At undo: a sidecar a person has edited since the service wrote it is kept."""
    from sidecar.metadata import sidecar_xml

    _record, _identity, human = sidecar_xml.read(path)
    if human:
        return f"kept: a person edited {', '.join(sorted(human))} in it"
    return None


def journal_sidecar(journal, doc_path) -> None:
    """Before writing a sidecar: keep the old one, or note that the service creates it."""
    if journal is None:
        return
    if os.path.exists(doc_path):
        journal.record_original(str(doc_path), no_audio)
    else:
        journal.record_created(str(doc_path), sidecar_kept_reason)


def _write_riff(path: str, fmt: str, record: Record, embedded_tags: bool) -> list[str]:
    from sidecar.metadata import riff as riff_module

    id3 = tags.id3_bytes(record, tags.existing_id3(path, fmt)) if embedded_tags else None
    result = riff_module.write(path, record, id3=id3)
    return [c.strip() for c in result.chunks if c.strip().lower() != "id3"] + (["tags"] if id3 else [])


def _write_aiff(path: str, record: Record, embedded_tags: bool) -> list[str]:
    from sidecar.metadata.riff import aiff

    id3 = tags.id3_bytes(record, tags.existing_id3(path, "aiff")) if embedded_tags else None
    result = aiff.write(path, record, id3=id3)
    return [c.strip() for c in result.chunks if c.strip().lower() != "id3"] + (["tags"] if id3 else [])


def _write_tags_atomic(path: str, fmt: str, record: Record, before: str) -> None:
    tmp = str(temp_path(path))
    try:
        shutil.copy2(path, tmp)
        tags.write(tmp, fmt, record)
        if audio_identity(tmp, fmt) != before:
            raise VerifyError("the audio of the tagged copy differs from the original; nothing was replaced")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(os.path.dirname(os.path.abspath(path)))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
