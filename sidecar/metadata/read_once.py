"""A rewrite that reads its source once: the undo journal's hash and the copy from one pass.

A rewrite of a file without room for its metadata needs three things of the original: its
bytes copied, the hash the undo journal keeps of its audio (see journal.parts_sha256), and the
journal's copy of everything but the audio (head and tail). ReadOnce reads the source from
start to end exactly once and serves all three: the bytes before the audio are kept in memory
(the journal keeps them anyway), the audio streams from the source to the copy, hashed on
the way (stream_copy.stream), and the bytes after it are read last.

Verifying the copy without reading its audio back (see verify_copy): the bytes hashed are the
very buffer handed to write(), written at consecutive offsets by calls that either write all
of it or raise; the writer checks the copy's exact length and re-parses its chunks, so the
audio sits at the planned offset with its size. What a full read-back would add is a check of
the kernel's page cache against itself (the copy was just written there, so that is where it is
read from), not of the disk. The first and last MiB of the copy's audio are still read back and
compared with the source's bytes: a cheap guard against an offset mistake in the writer itself.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import VerifyError
from .safe_write import ChangedMeanwhile
from .stream_copy import ShortSource, stream

PROBE = 1024 * 1024        # audio bytes compared at each end of the copy


@dataclass(frozen=True)
class Original:
    """A file as a rewrite read it, for the undo journal (see Journal.record_original)."""

    size: int
    audio_offset: int
    audio_length: int
    audio_sha256: str
    head: bytes
    tail: bytes


class ReadOnce:
    """The source of a rewrite, read once from start to end (see the module's notes).

    copy() must be called for regions in file order, as a rewrite writes them; the audio
    span is streamed, everything else comes from memory. hashes: compute what the journal
    keeps (skipped when nothing will be journaled, saving the CPU of a SHA-256 pass).
    """

    def __init__(self, src: BinaryIO, audio_offset: int, audio_length: int, *, hashes: bool):
        self.src = src
        self.stat = os.fstat(src.fileno())
        self.audio_offset, self.audio_length = audio_offset, audio_length
        self.audio_end = audio_offset + audio_length
        if self.audio_end > self.stat.st_size:
            raise ShortSource(f"the audio ({audio_length} bytes at {audio_offset}) runs past the end "
                              f"of the file ({self.stat.st_size} bytes)")
        self.hashes = hashes
        src.seek(0)
        self.head = src.read(audio_offset)
        if len(self.head) != audio_offset:
            raise ShortSource("file shrank while it was copied (before its audio)")
        self._tail: bytes | None = None
        self._audio_sha = ""
        self._first = bytearray()
        self._last = b""
        self.streamed = False

    # --- the pass ---------------------------------------------------------------

    def tail(self) -> bytes:
        """Every byte after the audio, read once (after the audio streamed, when it is copied)."""
        if self._tail is None:
            self.src.seek(self.audio_end)
            self._tail = self.src.read()
        return self._tail

    def copy(self, dst: BinaryIO, offset: int, length: int) -> None:
        """Write the source's bytes [offset, offset + length) to the end of dst."""
        end = offset + length
        if offset < self.audio_offset:
            piece = self.head[offset:min(end, self.audio_offset)]
            if len(piece) != min(end, self.audio_offset) - offset:
                raise ShortSource(f"file shrank while it was copied (at offset {offset})")
            dst.write(piece)
        if offset <= self.audio_offset and end >= self.audio_end and not self.streamed:
            self._stream(dst)          # (an empty audio span counts as copied too)
        elif offset < self.audio_end and end > self.audio_offset:
            raise RuntimeError("internal: a region cuts the audio span or copies it twice")
        if end > self.audio_end:
            start = max(offset, self.audio_end) - self.audio_end
            piece = self.tail()[start:end - self.audio_end]
            if len(piece) != end - self.audio_end - start:
                raise ShortSource(f"file shrank while it was copied (after offset {self.audio_end})")
            dst.write(piece)

    def _stream(self, dst: BinaryIO) -> None:
        audio = hashlib.sha256() if self.hashes else None

        def ends(block: memoryview, left: int) -> None:
            n = len(block)
            if len(self._first) < PROBE:
                self._first += block[:PROBE - len(self._first)]
            if left < PROBE:        # this block holds some of the last MiB
                self._last = (self._last + bytes(block[max(0, n - PROBE):]))[-PROBE:]

        stream(self.src, self.audio_offset, self.audio_length, [audio] if audio else [], dst, ends)
        self.streamed = True
        if audio is not None:
            self._audio_sha = audio.hexdigest()

    # --- after the pass -----------------------------------------------------------

    def unchanged(self, path: str | os.PathLike) -> None:
        """Raise ChangedMeanwhile when the file at path is no longer the one read (edited or
        replaced during the pass): the hash would not describe what the rename replaces."""
        now = os.fstat(self.src.fileno())
        try:
            there = os.stat(path)
        except FileNotFoundError:
            there = None
        same = (there is not None and (there.st_dev, there.st_ino) == (self.stat.st_dev, self.stat.st_ino)
                and (now.st_size, now.st_mtime_ns) == (self.stat.st_size, self.stat.st_mtime_ns))
        if not same:
            raise ChangedMeanwhile(errno.EAGAIN, "changed while it was being rewritten", str(path))

    def original(self) -> Original:
        """What the journal keeps of the source (only with hashes, after the pass)."""
        if not (self.hashes and self.streamed):
            raise RuntimeError("internal: the source has not been read with its hash")
        return Original(self.stat.st_size, self.audio_offset, self.audio_length, self._audio_sha,
                        self.head, self.tail())

    def verify_copy(self, check: BinaryIO, audio_offset: int) -> None:
        """Compare the ends of the copy's audio at audio_offset with the source's (see the module)."""
        if not self.streamed:
            raise RuntimeError("internal: the audio was not copied")
        check.seek(audio_offset)
        if check.read(len(self._first)) != self._first:
            raise VerifyError("audio bytes differ in the rewritten file (at its start)")
        check.seek(audio_offset + self.audio_length - len(self._last))
        if check.read(len(self._last)) != self._last:
            raise VerifyError("audio bytes differ in the rewritten file (at its end)")
