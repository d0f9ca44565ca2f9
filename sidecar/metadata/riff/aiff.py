"""AIFF/AIFC: the text chunks (NAME, AUTH, ANNO) and an `ID3 ` chunk, written in one rewrite.

AIFF is the big-endian cousin of RIFF (`FORM` + size + `AIFF`/`AIFC`). It has no bext or
iXML, so the record goes into the text chunks Apple defined and into a complete ID3v2 tag
(which Soundminer, REAPER and mutagen read). Every other chunk (`COMM`, `SSND`, `MARK`,
`INST`, `APPL`, `(c) `, ...) is kept byte for byte, in order. Files of this kind are
rewritten on every update (no in-place path): AIFF libraries are rarely large.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..merge import OWN_ALL, Ownership
from ..record import Record
from ..safe_write import atomic_replace
from .errors import RiffError, RiffWriteError
from .text import cleaned
from ..read_once import ReadOnce, ShortSource
from .writer import KeepOriginal, WriteResult

SUFFIXES = (".aif", ".aiff", ".aifc")
TEXT_IDS = ("NAME", "AUTH", "ANNO")
ID3_ID = "ID3 "


class AiffError(RiffError):
    """The AIFF/AIFC framing is malformed."""


@dataclass(frozen=True)
class AiffChunk:
    id: str
    offset: int
    size: int

    @property
    def data_offset(self) -> int:
        return self.offset + 8

    @property
    def end(self) -> int:
        return self.data_offset + self.size + self.size % 2


def walk(f: BinaryIO) -> tuple[str, list[AiffChunk]]:
    f.seek(0, 2)
    file_size = f.tell()
    f.seek(0)
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"FORM" or head[8:12] not in (b"AIFF", b"AIFC"):
        raise AiffError("not an AIFF/AIFC file")
    chunks: list[AiffChunk] = []
    pos = 12
    while pos + 8 <= file_size:
        f.seek(pos)
        raw = f.read(8)
        cid, size = raw[:4], struct.unpack(">I", raw[4:])[0]
        if not all(0x20 <= b <= 0x7E for b in cid):
            raise AiffError(f"bytes at offset {pos} are not a chunk header ({cid!r})")
        if pos + 8 + size > file_size:
            raise AiffError(f"truncated: chunk {cid.decode()!r} at offset {pos} runs past the end")
        chunks.append(AiffChunk(cid.decode("ascii"), pos, size))
        pos += 8 + size + size % 2
    ids = [c.id for c in chunks]
    for needed in ("COMM", "SSND"):
        if needed not in ids:
            raise AiffError(f"no {needed!r} chunk")
        if ids.count(needed) > 1:
            raise AiffError(f"2 {needed} chunks")
    return head[8:12].decode(), chunks


def _find(chunks: list[AiffChunk], cid: str) -> AiffChunk:
    return next(c for c in chunks if c.id == cid)


def _payload(f: BinaryIO, c: AiffChunk) -> bytes:
    f.seek(c.data_offset)
    return f.read(c.size)


def _text(data: bytes) -> str:
    data = data.split(b"\0", 1)[0]
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return data.decode("mac_roman").strip()


def _rate(ext: bytes) -> float:
    """The 80-bit IEEE 754 extended sample rate of COMM."""
    exponent, mantissa = struct.unpack(">HQ", ext)
    sign = -1 if exponent & 0x8000 else 1
    exponent &= 0x7FFF
    return 0.0 if exponent == 0 and mantissa == 0 else sign * mantissa * 2.0 ** (exponent - 16383 - 63)


def audio_span(path: str | Path) -> tuple[int, int]:
    """Offset and length of the sample bytes in SSND (after its offset/blockSize words)."""
    with open(path, "rb") as f:
        _, chunks = walk(f)
        ssnd = _find(chunks, "SSND")
        f.seek(ssnd.data_offset)
        skip = struct.unpack(">I", f.read(4))[0] if ssnd.size >= 8 else 0
    start = ssnd.data_offset + 8 + skip
    return start, max(0, ssnd.data_offset + ssnd.size - start)


def read_text(f: BinaryIO, chunks: list[AiffChunk]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in chunks:
        if c.id in TEXT_IDS + ("(c) ",) and c.id not in out:
            out[c.id] = _text(_payload(f, c))
    return out


def read(path: str | Path) -> Record:
    with open(path, "rb") as f:
        _, chunks = walk(f)
        text = read_text(f, chunks)
        comm = _payload(f, _find(chunks, "COMM"))
    if len(comm) < 18:
        raise AiffError(f"COMM chunk is {len(comm)} bytes, shorter than 18")
    channels, frames, bits = struct.unpack(">hIh", comm[:8])
    rate = _rate(comm[8:18])
    return Record(TrackTitle=text.get("NAME", ""), Designer=text.get("AUTH", ""),
                  Description=text.get("ANNO", ""), Channels=channels or None,
                  BitDepth=bits or None, SampleRate=int(rate) or None,
                  Duration=frames / rate if rate else None)


def _values(record: Record) -> dict[str, str]:
    rec = cleaned(record)
    values = {"NAME": rec.TrackTitle or rec.FXName, "AUTH": rec.Designer, "ANNO": rec.Description}
    return {k: v for k, v in values.items() if v}


def _text_chunk(cid: str, text: str) -> bytes:
    # Apple's text chunks are 8-bit text that readers (exiftool, macOS) take as Mac Roman;
    # what it cannot hold goes into the ID3 chunk exactly
    data = text.encode("mac_roman", "replace")
    return cid.encode() + struct.pack(">I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


#: which canonical field each text chunk carries (for fields a person wrote)
_FIELD_OF = {"NAME": "TrackTitle", "AUTH": "Designer", "ANNO": "Description"}


def write(path: str | Path, record: Record, *, id3: bytes | None = None,
          owner: Ownership = OWN_ALL, repair: bool = False,
          keep_original: KeepOriginal | None = None) -> WriteResult:
    """Set NAME/AUTH/ANNO (and the ID3 chunk) by one atomic rewrite; the audio is compared after.

    owner: which values already in the text chunks the service may replace (another tool's
    or a person's stay). Every update is a rewrite, so `repair` changes nothing here.
    keep_original: the undo journal, given what the rewrite read (see riff.writer.KeepOriginal).
    """
    path = Path(path)
    values = _values(record)
    with open(path, "rb") as f:
        held = read_text(f, walk(f)[1])
    values = {cid: text for cid, text in values.items()
              if owner.may_replace(_FIELD_OF[cid], held.get(cid, ""))
              or (cid == "NAME" and owner.may_replace("FXName", held.get(cid, "")))}
    new: dict[str, bytes] = {cid: _text_chunk(cid, text) for cid, text in values.items()}
    if id3 is not None:
        if not id3.startswith(b"ID3"):
            raise AiffError("id3 payload is not an ID3v2 tag")
        new[ID3_ID] = ID3_ID.encode() + struct.pack(">I", len(id3)) + id3 + (b"\0" if len(id3) % 2 else b"")
    with open(path, "rb") as f:
        form, chunks = walk(f)
    pending = dict(new)
    span = audio_span(path)
    try:
        with open(path, "rb") as f, atomic_replace(path) as dst:
            # the source is read once, start to end: journal hashes, head, tail and copy alike
            src = ReadOnce(f, *span, hashes=keep_original is not None)
            dst.write(b"FORM\0\0\0\0" + form.encode())
            ssnd_at = 0
            for c in chunks:
                if c.id in pending:
                    dst.write(pending.pop(c.id))     # the first of its kind is replaced where it is
                    continue
                if c.id in new:
                    continue                           # a duplicate of one of ours
                if c.id == "SSND":
                    for cid in list(pending):
                        dst.write(pending.pop(cid))
                    ssnd_at = dst.tell()
                dst.write(c.id.encode() + struct.pack(">I", c.size))
                src.copy(dst, c.data_offset, c.size)
                if c.size % 2:
                    dst.write(b"\0")
            total = dst.tell()
            dst.seek(4)
            dst.write(struct.pack(">I", total - 8))
            dst.seek(total)
            dst.flush()
            ssnd = _find(chunks, "SSND")
            with open(dst.name, "rb") as check:
                if audio_span(dst.name) != (ssnd_at + 8 + span[0] - ssnd.data_offset, span[1]):
                    from ...errors import VerifyError
                    raise VerifyError("the audio is not where the rewrite of the AIFF file put it")
                # the audio was hashed as it was copied; see read_once for why its ends suffice here
                src.verify_copy(check, ssnd_at + 8 + span[0] - ssnd.data_offset)
            src.unchanged(path)
            if keep_original is not None:
                keep_original(src.original())     # journaled before the rename replaces the original
    except ShortSource as exc:
        raise AiffError(str(exc)) from exc
    except OSError as exc:
        raise RiffWriteError(f"rewrite failed, original kept: {exc}") from exc
    return WriteResult(False, total, list(new))
