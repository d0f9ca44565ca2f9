"""One pass over a RIFF/RF64/BW64 WAVE file: where every chunk starts and how long it is.

Only headers are read; payloads are skipped with seeks, so walking a file of several
gigabytes costs a few reads. Sizes of 0xFFFFFFFF are resolved through `ds64`. A RIFF
size that disagrees with the file is tolerated (the chunks actually present are read
and a write sets the size right); anything that would make a write lose bytes is an
error with a reason.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from .errors import RiffError

FORMS = (b"RIFF", b"RF64", b"BW64")
_FILLERS = ("JUNK", "JUNQ", "PAD ", "FLLR", "FILR")
FILLER_IDS = frozenset(_FILLERS) | frozenset(x.lower() for x in _FILLERS)
#: Chunks that may appear only once; a second one makes the file ambiguous.
UNIQUE_IDS = ("fmt ", "data", "ds64", "bext", "iXML", "fact")
MAX_U32 = 0xFFFFFFFF
DS64_MIN = 28


@dataclass(frozen=True)
class Chunk:
    """One chunk as found in the file: `offset` is where its 8-byte header starts."""

    id: str
    offset: int
    size: int               # payload bytes, ds64-resolved; the pad byte is not counted
    has_pad: bool = False   # a pad byte follows an odd payload in the file
    list_type: str = ""     # for LIST chunks: INFO, adtl, ...
    raw_size: int = 0       # the 32-bit size field as stored

    @property
    def data_offset(self) -> int:
        return self.offset + 8

    @property
    def end(self) -> int:
        """First byte after the chunk, pad byte included when present."""
        return self.data_offset + self.size + (1 if self.has_pad else 0)

    @property
    def key(self) -> str:
        return f"LIST/{self.list_type}" if self.id == "LIST" else self.id


@dataclass(frozen=True)
class Ds64:
    """The RF64 size table (EBU Tech 3306): 64-bit sizes for a file past 4 GiB."""

    riff_size: int
    data_size: int
    sample_count: int
    table: tuple[tuple[str, int], ...] = ()

    @classmethod
    def read(cls, data: bytes) -> "Ds64":
        if len(data) < DS64_MIN:
            raise RiffError(f"ds64 chunk is {len(data)} bytes, shorter than {DS64_MIN}")
        riff_size, data_size, count, n = struct.unpack_from("<QQQI", data, 0)
        if 28 + 12 * n > len(data):
            raise RiffError(f"ds64 table claims {n} entries but the chunk holds fewer")
        table = tuple(
            (data[28 + 12 * i:32 + 12 * i].decode("latin-1"),
             struct.unpack_from("<Q", data, 32 + 12 * i)[0])
            for i in range(n)
        )
        return cls(riff_size, data_size, count, table)

    def to_bytes(self, size: int = DS64_MIN) -> bytes:
        body = struct.pack("<QQQI", self.riff_size, self.data_size, self.sample_count, len(self.table))
        body += b"".join(cid.encode("latin-1") + struct.pack("<Q", n) for cid, n in self.table)
        return body.ljust(size, b"\0")


@dataclass(frozen=True)
class Layout:
    """Everything the walker learnt about a file."""

    form: str                  # RIFF, RF64 or BW64
    declared_size: int         # the RIFF (or ds64) size field
    file_size: int
    chunks: tuple[Chunk, ...]
    ds64: Ds64 | None = None
    trailing: int = 0          # offset of unparseable bytes after the last chunk (0 if none)
    notes: tuple[str, ...] = field(default_factory=tuple)  # tolerated irregularities

    def find(self, key: str) -> Chunk | None:
        return next((c for c in self.chunks if c.key == key), None)

    def require(self, key: str) -> Chunk:
        chunk = self.find(key)
        if chunk is None:
            raise RiffError(f"no {key.strip()!r} chunk")
        return chunk

    @property
    def chunks_end(self) -> int:
        return self.chunks[-1].end if self.chunks else 12


def _plausible_id(raw: bytes) -> bool:
    return len(raw) == 4 and all(0x20 <= b <= 0x7E for b in raw) and raw[0] != 0x20


def walk(f: BinaryIO) -> Layout:
    """Index the chunks of an open WAVE file (positioned anywhere)."""
    file_size = os.fstat(f.fileno()).st_size
    f.seek(0)
    head = f.read(12)
    if len(head) < 12:
        raise RiffError(f"file is {len(head)} bytes, too short for a RIFF header")
    magic, declared, form_type = head[:4], struct.unpack_from("<I", head, 4)[0], head[8:12]
    if magic not in FORMS:
        raise RiffError(f"not a RIFF/RF64/BW64 file (starts with {head[:4]!r})")
    if form_type != b"WAVE":
        raise RiffError(f"RIFF form is {form_type!r}, not WAVE")
    if magic == b"RIFF" and declared < 4:
        raise RiffError(f"RIFF size is {declared}, smaller than the 4-byte form type")
    notes: list[str] = []
    chunks: list[Chunk] = []
    ds64: Ds64 | None = None
    declared_end = 8 + declared
    pos, trailing = 12, 0
    while pos + 8 <= file_size:
        f.seek(pos)
        hdr = f.read(8)
        raw_id, raw_size = hdr[:4], struct.unpack_from("<I", hdr, 4)[0]
        if not _plausible_id(raw_id):
            if pos >= declared_end and magic == b"RIFF":
                trailing = pos
                notes.append(f"{file_size - pos} bytes after the RIFF end are not chunks")
                break
            raise RiffError(f"bytes at offset {pos} are not a chunk header ({raw_id!r})")
        cid = raw_id.decode("ascii")
        size = raw_size
        if magic != b"RIFF" and not chunks:
            if cid != "ds64":
                raise RiffError(f"{magic.decode()} file lacks the ds64 chunk (first chunk is {cid!r})")
            f.seek(pos + 8)
            ds64 = Ds64.read(f.read(min(raw_size, 1 << 16)))
            declared = ds64.riff_size
            declared_end = 8 + declared
        elif raw_size == MAX_U32 and ds64 is not None:
            size = ds64.data_size if cid == "data" else dict(ds64.table).get(cid, -1)
            if size < 0:
                raise RiffError(f"chunk {cid!r} at offset {pos} has size 0xFFFFFFFF and no ds64 entry")
        end = pos + 8 + size
        if end > file_size:
            if pos >= declared_end and magic == b"RIFF":
                trailing = pos
                notes.append(f"{file_size - pos} bytes after the RIFF end are not chunks")
                break
            raise RiffError(
                f"truncated: chunk {cid!r} at offset {pos} declares {size} bytes "
                f"but the file ends {file_size - pos - 8} bytes into it")
        has_pad = False
        if size % 2 and end < file_size:
            f.seek(end)
            nxt = f.read(5)
            # BWF MetaEdit's tolerance: a chunk ID right after an odd payload means no pad byte
            has_pad = not (nxt[:1] != b"\0" and _plausible_id(nxt[:4]) and not _plausible_id(nxt[1:5]))
            if not has_pad:
                notes.append(f"chunk {cid!r} at offset {pos} lacks its pad byte")
        list_type = ""
        if cid == "LIST" and size >= 4:
            f.seek(pos + 8)
            list_type = f.read(4).decode("latin-1")
        chunks.append(Chunk(cid, pos, size, has_pad, list_type, raw_size))
        pos = end + (1 if has_pad else 0)
    else:
        if pos < file_size:
            trailing = pos
            notes.append(f"{file_size - pos} stray bytes at the end")
    if magic != b"RIFF" and ds64 is None:
        raise RiffError(f"{magic.decode()} file lacks the ds64 chunk")
    seen: set[str] = set()
    for c in chunks:
        if c.key in UNIQUE_IDS or c.key == "LIST/INFO":
            if c.key in seen:
                raise RiffError(f"2 {c.key.strip()} chunks")
            seen.add(c.key)
    if declared_end != (trailing or chunks_end(chunks)):
        notes.append(f"RIFF size {declared} disagrees with the chunks present")
    return Layout(magic.decode(), declared, file_size, tuple(chunks), ds64, trailing, tuple(notes))


def chunks_end(chunks: list[Chunk]) -> int:
    return chunks[-1].end if chunks else 12


def read_payload(f: BinaryIO, chunk: Chunk, limit: int | None = None) -> bytes:
    """The payload of a chunk (at most `limit` bytes)."""
    f.seek(chunk.data_offset)
    n = chunk.size if limit is None else min(chunk.size, limit)
    data = f.read(n)
    if len(data) != n:
        raise RiffError(f"chunk {chunk.id!r} at offset {chunk.offset} is cut short")
    return data


def header(cid: str, size: int) -> bytes:
    return cid.encode("latin-1") + struct.pack("<I", min(size, MAX_U32))


def chunk_bytes(cid: str, payload: bytes) -> bytes:
    """A complete chunk: header, payload and the pad byte when the payload is odd."""
    return header(cid, len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")
