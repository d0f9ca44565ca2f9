"""What every container format answers: one class per family, one instance per format.

The rest of the project holds a format by its stable name (`Format.name`, stored in the
index and in the journal) and asks the registry (formats/__init__.py) for the object.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import struct

import numpy as np

from sidecar.audio.decode import Audio, decode
from sidecar.errors import AudioError, VerifyError
from sidecar.metadata import tags
from sidecar.metadata.merge import OWN_ALL, Ownership
from sidecar.metadata.record import Record
from sidecar.metadata.safe_write import fsync_dir, temp_path

_BLOCK = 1 << 20


def hash_span(path: str, start: int, length: int) -> str:
    """The fingerprint of audio stored as bytes: blake2b of the payload."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            block = f.read(min(_BLOCK, left))
            if not block:
                raise AudioError("audio ends before its declared size")
            h.update(block)
            left -= len(block)
    return "pcm:" + h.hexdigest()


def samples_fingerprint(audio: Audio) -> str:
    """The fingerprint of compressed audio: blake2b of the decoded samples."""
    h = hashlib.blake2b(digest_size=20)
    h.update(struct.pack("<II", audio.samplerate, audio.channels))
    h.update(np.ascontiguousarray(audio.samples, dtype="<f4").tobytes())
    return "dec:" + h.hexdigest()


class Format:
    """A container format: how to recognise it, decode it, find its audio, read and write it."""

    #: stable name: stored in the index and the journal, never renamed
    name: str = ""
    #: file name suffixes that announce it (a suffix may announce two formats: .wav, .ogg)
    suffixes: tuple[str, ...] = ()
    #: the version of audio_span the journal records; bump it (and keep the old one reachable
    #: through journal_span) when the span of a journaled file would be found differently
    journal_version: int = 1
    #: the audio is stored as bytes the fingerprint hashes (never decoded to know it)
    pcm: bool = False
    #: written by the project's own chunk writer (which proves the audio unchanged itself)
    chunk_writer: bool = False

    def __repr__(self) -> str:
        return f"<format {self.name}>"

    # -- recognise and decode ---------------------------------------------------------
    def detect(self, head: bytes) -> bool:
        """Whether the first bytes of a file (up to 4096) announce this format."""
        raise NotImplementedError

    def decode(self, path: str) -> Audio:
        return decode(path)

    # -- the audio and its fingerprint ------------------------------------------------
    def audio_span(self, path: str) -> tuple[int, int]:
        """Offset and length of the audio bytes; (0, 0) when no span survives tagging (the
        journal then keeps the whole original)."""
        return 0, 0

    def journal_span(self, version: int):
        """The audio_span a journal entry of this version was recorded with (None: unknown)."""
        return self.audio_span if version == self.journal_version else None

    @property
    def journal_name(self) -> str:
        """What the journal stores: the format's name and the version of its audio_span."""
        return f"{self.name}/{self.journal_version}"

    def fingerprint(self, path: str, audio: Audio | None = None) -> str:
        if self.pcm:
            return hash_span(path, *self.audio_span(path))
        return samples_fingerprint(audio if audio is not None else self.decode(path))

    # -- metadata ---------------------------------------------------------------------
    def read(self, path: str) -> Record:
        """Everything the file carries: its chunks, then its tags."""
        record = Record()
        for part in (self.read_chunk_fields(path), self.read_tags(path)):
            if part is not None:
                record.fill_from(part)
        return record

    def read_chunk_fields(self, path: str) -> Record | None:
        """The record the format's own chunks carry (None: it has none)."""
        return None

    def read_tags(self, path: str) -> Record:
        return Record()

    def chunk_readers(self) -> dict:
        """name -> read(path): the containers `sidecar show` lists besides the tags."""
        return {}

    def damage(self, path: str) -> list[str]:
        """What is wrong with the file's header (sizes and counts that disagree with the file)."""
        return []

    def write(self, path: str, record: Record, *, chunks: bool = True, embedded_tags: bool = True,
              owner: Ownership = OWN_ALL, repair: bool = False, keep_original=None) -> list[str]:
        """Write the record into the file; returns the containers written. keep_original: a chunk
        writer hands the undo journal what its one pass over the source read (riff.KeepOriginal)."""
        return []


class TaggedFormat(Format):
    """A format whose metadata is mutagen's tags alone, written to a copy that replaces the
    file only once the copy's audio fingerprint matches the original's."""

    opener = None               # the mutagen class
    family: tags.TagFamily = tags.ID3_TAGS

    def read_tags(self, path: str) -> Record:
        return tags.read(path, self.opener, self.family)

    def write_tags(self, path: str, record: Record, owner: Ownership = OWN_ALL) -> None:
        """The tags, in place (callers hand in a copy)."""
        tags.write(path, self.opener, self.family, record, owner)

    def write(self, path: str, record: Record, *, chunks: bool = True, embedded_tags: bool = True,
              owner: Ownership = OWN_ALL, repair: bool = False, keep_original=None) -> list[str]:
        if not embedded_tags:
            return []
        before = self.fingerprint(path)
        tmp = str(temp_path(path))
        try:
            shutil.copy2(path, tmp)
            self.write_tags(tmp, record, owner)
            if self.fingerprint(tmp) != before:    # PCM bytes, or decoded samples
                raise VerifyError("the audio of the tagged copy differs from the original; nothing was replaced")
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
            fsync_dir(os.path.dirname(os.path.abspath(path)))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return ["tags"]


def id3_size(head: bytes) -> int:
    """The size of an ID3v2 tag at the start of head, header included (0 when there is none)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    return 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
