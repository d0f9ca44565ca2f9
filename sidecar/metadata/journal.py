"""The undo journal: everything of a file but its audio, kept before the first write.

For each file the journal holds the bytes before the audio payload (head), the bytes
after it (tail), the audio span, a hash of the audio and a hash of the whole original (for rows
made since the source of a rewrite is read once, the hash of its parts: see parts_sha256).
Undo puts head + the file's current audio + tail into a temporary file, checks that
the result hashes to the original, and renames it over the file. The scheme needs
only a function that finds the audio span, so it serves every container: each row names
it by a stable name and version (`wav/1`, see sidecar/formats), never by where it lives in
the code. Rows of older versions named a Python function (`sidecar.metadata.riff.reader:
audio_span`); LEGACY_NAMES reads them, so every file journaled before still undoes.

A file the service creates (a sidecar document) gets a marker row instead; after each
write the service records the sha256 of the bytes it wrote (`mark_written`), and undo
removes the file only while it still holds exactly those bytes.

Rows live in the index database, in its journal store (see index/interfaces.py), head and
tail zlib-compressed; this module does the file work around them.
"""

from __future__ import annotations

import hashlib
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from ..errors import SidecarError, StoreError
from ..index.interfaces import JournalRow, JournalStore
from .read_once import Original
from .safe_write import atomic_replace
from .stream_copy import BLOCK, ShortSource, stream

SpanFn = Callable[[str | Path], tuple[int, int]]
CREATED = "created"     # span_fn marker of a file the service created (undo removes it)
WHOLE = "whole/1"       # a document without audio: the journal keeps all of it
SIDECAR_DOCUMENT = "sidecar-xml/1"     # keep reason of a sidecar the service created
#: original_sha256 of a created file that someone changed between two writes of the service
CHANGED = "changed"
CHANGED_REASON = "changed since SFX Sidecar wrote it"
MISSING_REASON = "no such file (moved or deleted?)"

class JournalError(SidecarError):
    """A file cannot be journaled or restored."""


class Journaled(Protocol):
    """What the journal needs of a format: a stable name (with its version) and its audio span."""

    journal_name: str

    def audio_span(self, path: str) -> tuple[int, int]: ...


@dataclass(frozen=True)
class Span:
    """An audio-span function under the stable name the journal stores for it."""

    journal_name: str
    audio_span: SpanFn


#: a document with no audio in it (a sidecar): the journal keeps every byte
WHOLE_DOCUMENT = Span(WHOLE, lambda path: (0, 0))

#: what the journal of older versions stored (a function's module:qualname) -> the stable name
LEGACY_NAMES = {
    "sidecar.metadata.riff.reader:audio_span": "wav/1",            # WAV, RF64 and BW64 alike
    "sidecar.metadata.riff.aiff:audio_span": "aiff/1",
    "sidecar.library.fingerprint:file_audio_span": "sniffed/1",    # the format its bytes tell
    "sidecar.pipeline.write:no_audio": WHOLE,
    "sidecar.pipeline.write:sidecar_kept_reason": SIDECAR_DOCUMENT,
}

#: functions handed to record_original in this process, by name (a format outside the registry)
_KNOWN: dict[str, Callable] = {}


def _resolve(name: str) -> Callable:
    """The function a row names: its audio span, or (a created file) the reason to keep it."""
    if name in _KNOWN:
        return _KNOWN[name]
    name = LEGACY_NAMES.get(name, name)
    if name == WHOLE:
        return WHOLE_DOCUMENT.audio_span
    if name == SIDECAR_DOCUMENT:
        from .sidecar_xml import human_fields_reason
        return human_fields_reason
    from sidecar.formats import journal_span
    found = journal_span(name)
    if found is None:
        raise JournalError(f"journal names an unknown audio-span function {name!r}")
    return found


def file_sha256(path: str | Path) -> str:
    """The sha256 (hex) of a whole file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


#: original_sha256 of a row whose original is hashed by its parts (see parts_sha256)
PARTS = "parts:"


def parts_sha256(head: bytes, audio_sha256: str, tail: bytes) -> str:
    """The original's hash from its parts: the head (its length first, so the parts cannot be
    cut differently), the audio's own SHA-256 and the tail. As strong as a hash of the whole
    file (a collision here needs one in SHA-256), and the audio is hashed once, not twice:
    journaling a 2 GB master, and undoing it, cost one SHA-256 pass over it instead of two."""
    h = hashlib.sha256(len(head).to_bytes(8, "little"))
    h.update(head)
    h.update(bytes.fromhex(audio_sha256))
    h.update(tail)
    return PARTS + h.hexdigest()


def _one_line(exc: BaseException) -> str:
    """An exception as the one line a user reads."""
    if isinstance(exc, FileNotFoundError):
        return MISSING_REASON
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if isinstance(exc, (SidecarError, zlib.error)):
        return text or type(exc).__name__
    return f"unexpected {type(exc).__name__}" + (f": {text}" if text else "")


def _hash_range(f, offset: int, length: int, *hashes, out=None) -> None:
    """Feed `length` bytes from `offset` to every hash (and to `out`), reading them once."""
    try:
        stream(f, offset, length, list(hashes), out)
    except ShortSource as exc:
        raise JournalError("file is shorter than its audio span") from exc


#: what the journal lists of a file (its row without head and tail)
Entry = JournalRow


@dataclass(frozen=True)
class UndoResult:
    path: str
    ok: bool
    status: str        # restored | removed | kept | not-journaled | failed
    reason: str = ""


class Journal:
    """Keeps and gives back what a file was before the service first wrote it."""

    def __init__(self, rows: JournalStore, *, owner=None):
        self.rows = rows
        self._owner = owner      # the store opened for this journal alone (Journal.at), closed with it

    @classmethod
    def at(cls, location: str | Path | None = None) -> "Journal":
        """The journal of the index at a path or URL (default: the index's default)."""
        from sidecar.index.store import open_store
        try:
            store = open_store(str(location) if location else None)
        except StoreError as exc:
            raise JournalError(str(exc)) from exc
        return cls(store.journal, owner=store)

    def close(self) -> None:
        if self._owner is not None:
            self._owner.close()
            self._owner = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _key(path: str | Path) -> str:
        return str(Path(path).resolve())

    def has(self, path: str | Path) -> bool:
        return self.rows.has(self._key(path))

    def record_original(self, path: str | Path, fmt: Journaled, read: Original | None = None) -> bool:
        """Keep the file's non-audio bytes, once; True when a row was added.
        fmt: the file's format (sidecar/formats), or a Span; its audio_span(path) -> (offset, length).
        read: the file as a rewrite just read it (hashes, head and tail from its one pass),
        used when its audio span is fmt's; otherwise the file is read here."""
        key = self._key(path)
        if fmt.journal_name not in _KNOWN:
            _KNOWN[fmt.journal_name] = fmt.audio_span
        if self.has(key):
            return False
        offset, length = fmt.audio_span(path)
        if read is not None and (read.audio_offset, read.audio_length) == (offset, length):
            size, audio_sha, head, tail = read.size, read.audio_sha256, read.head, read.tail
        else:
            audio = hashlib.sha256()
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if offset < 0 or length < 0 or offset + length > size:
                    raise JournalError(f"audio span {offset}+{length} lies outside the file ({size} bytes)")
                head = f.read(offset)
                _hash_range(f, offset, length, audio)
                tail = f.read()
            audio_sha = audio.hexdigest()
        self.rows.add(JournalRow(key, time.time(), size, offset, length, audio_sha,
                                 parts_sha256(head, audio_sha, tail), fmt.journal_name,
                                 zlib.compress(head), zlib.compress(tail)))
        return True

    def record_created(self, path: str | Path, sidecar_document: bool = False) -> bool:
        """Note a file the service is about to create; undo removes it again.

        After writing it, the service calls mark_written with the sha256 of the bytes it
        wrote; undo then removes the file only while it holds those bytes. For a sidecar
        document, the fields a person made in it are a reason to keep it: that reason
        decides alone for a row without a recorded sha256 (a journal of an older version),
        and otherwise only adds its words to the reason a changed file is kept.
        """
        key = self._key(path)
        if self.has(key) or os.path.exists(key):
            return False
        marker = CREATED + (("|" + SIDECAR_DOCUMENT) if sidecar_document else "")
        self.rows.add(JournalRow(key, time.time(), -1, 0, 0, "", "", marker))
        return True

    def _created_row(self, key: str) -> JournalRow | None:
        row = self.rows.get(key)
        return row if row is not None and row.span_fn.startswith(CREATED) else None

    def mark_written(self, path: str | Path, sha256_hex: str) -> bool:
        """Remember the sha256 of the bytes the service just wrote into a file it created.

        Only a created-file row changes (the row of a replaced original keeps the original's
        hash), and never one flagged as changed by someone else. True when recorded.
        """
        key = self._key(path)
        if self._created_row(key) is None:
            return False
        return self.rows.set_original_sha256(key, sha256_hex, unless=CHANGED)

    def holds_written_bytes(self, path: str | Path) -> bool:
        """Whether a file the service created holds exactly the bytes the service last wrote."""
        key = self._key(path)
        row = self._created_row(key)
        if row is None or row.original_sha256 in ("", CHANGED):
            return False
        return os.path.isfile(key) and file_sha256(key) == row.original_sha256

    def flag_if_changed(self, path: str | Path) -> bool:
        """Before the service writes a file it created again: note whether it changed since.

        A created file whose bytes differ from the ones the service last wrote holds
        someone's work; its row is flagged, and undo keeps the file from then on.
        True when the row is (now) flagged.
        """
        key = self._key(path)
        row = self._created_row(key)
        if row is None:
            return False
        written = row.original_sha256
        if written == CHANGED:
            return True
        if not written or not os.path.isfile(key):
            return False
        if file_sha256(key) == written:
            return False
        self.rows.set_original_sha256(key, CHANGED)
        return True

    def _undo_created(self, key: str, marker: str, written: str) -> UndoResult:
        _, _, keep_name = marker.partition("|")
        if os.path.lexists(key):
            changed = written == CHANGED or (bool(written) and file_sha256(key) != written)
            if changed or not written:       # without recorded bytes, the keep reason decides alone
                try:
                    words = _resolve(keep_name)(key) if keep_name else None
                except Exception as exc:  # a document that no longer parses is someone's work too
                    words = f"cannot tell whether a person edited it ({_one_line(exc)})"
                if changed:
                    reason = CHANGED_REASON + (f" ({words})" if words else "")
                else:
                    reason = f"may hold a person's edits ({words})" if words else None
                if reason:
                    return UndoResult(key, False, "kept", reason)
            os.unlink(key)
        self.rows.delete(key)
        return UndoResult(key, True, "removed")

    def entries(self) -> list[Entry]:
        return self.rows.entries()

    def undo(self, path: str | Path) -> UndoResult:
        """Give one file back; any failure is a result with a one-line reason, never an exception."""
        try:
            return self._undo(path)
        except Exception as exc:
            return UndoResult(str(path), False, "failed", _one_line(exc))

    def _undo(self, path: str | Path) -> UndoResult:
        key = self._key(path)
        row = self.rows.get(key)
        if row is None:
            return UndoResult(str(path), False, "not-journaled", "no journal entry for this file")
        length, audio_sha, original_sha, span_name = row.audio_length, row.audio_sha256, row.original_sha256, row.span_fn
        head, tail, size = row.head, row.tail, row.size
        if span_name.startswith(CREATED):
            return self._undo_created(key, span_name, original_sha)
        if not os.path.lexists(key):
            return UndoResult(str(path), False, "failed", MISSING_REASON)
        offset, now_length = _resolve(span_name)(key)
        if now_length != length:
            raise JournalError(f"audio is {now_length} bytes now, {length} when journaled; not restored")
        head, tail = zlib.decompress(head), zlib.decompress(tail)
        by_parts = original_sha.startswith(PARTS)
        with open(key, "rb") as src, atomic_replace(key) as dst:
            # a row hashed by its parts needs the audio hashed once; an older row, the whole file too
            whole = None if by_parts else hashlib.sha256(head)
            audio = hashlib.sha256()
            dst.write(head)
            _hash_range(src, offset, length, *([audio] if whole is None else [audio, whole]), out=dst)
            if audio.hexdigest() != audio_sha:
                raise JournalError("the audio changed since the file was journaled; not restored")
            dst.write(tail)
            if whole is None:
                restored = parts_sha256(head, audio.hexdigest(), tail)
            else:
                whole.update(tail)
                restored = whole.hexdigest()
            if restored != original_sha or dst.tell() != size:
                raise JournalError("restored bytes do not match the original; not restored")
        self.rows.delete(key)
        return UndoResult(str(path), True, "restored")

    def undo_all(self) -> list[UndoResult]:
        """Every entry, oldest first; one entry that cannot be undone never stops the others."""
        return [self.undo(e.path) for e in self.entries()]

    def rename(self, old_path: str | Path, new_path: str | Path) -> bool:
        """Move the entry of a file that was renamed or moved; True when an entry moved.

        No entry for old_path: nothing happens. When new_path already has an entry, that
        one is kept and the entry of old_path (a file no longer there) is dropped.
        """
        old, new = self._key(old_path), self._key(new_path)
        if old == new:
            return False
        return self.rows.rename(old, new)

    def forget(self, path: str | Path) -> None:
        self.rows.delete(self._key(path))

