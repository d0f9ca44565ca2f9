"""Writing bext, iXML, LIST/INFO (and an id3 chunk) into a WAVE file, safely.

In place when the chunks fit into old metadata or filler (no audio byte is read or
written, the old bytes are saved first so a crash can be rolled back); otherwise one
rewrite to a temporary file that reserves a filler before `data` for next time. Either
way the audio is checked after the write and the original comes back on a mismatch.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from ...errors import VerifyError
from ..merge import OWN_ALL, Ownership
from ..record import Record
from ..read_once import Original, ReadOnce, ShortSource
from ..safe_write import Region, Rollback, atomic_replace
from . import bext as bext_mod
from . import info as info_mod
from . import ixml as ixml_mod
from .chunks import FILLER_IDS, MAX_U32, Chunk, Ds64, Layout, chunk_bytes, header
from .errors import RiffError, RiffWriteError
from .plan import Patch, plan_in_place, replaceable_keys
from .reader import Contents, load
from .text import cleaned

RESERVE = 64 * 1024        # filler left before `data` so the next update fits in place
BLOCK = 8 * 1024 * 1024
PROBE = 1024 * 1024        # audio bytes hashed at each end to check an in-place update
#: called once before the file changes: with what a rewrite read (the journal keeps it),
#: or None before an in-place update (the journal then reads the file itself)
KeepOriginal = Callable[[Original | None], object]
RIFF_LIMIT = MAX_U32       # largest RIFF size; past it the file must become RF64


@dataclass
class WriteResult:
    in_place: bool
    bytes_written: int
    chunks: list[str] = field(default_factory=list)


def new_chunks(contents: Contents, record: Record, id3: bytes | None,
               owner: Ownership = OWN_ALL, genre: bool = True) -> list[tuple[str, bytes]]:
    """The payloads to write, each merged with what the file already holds.

    owner: which values already in each chunk the service may replace; every other value
    (a recorder's, another tool's, a person's) stays where it is, chunk by chunk.
    """
    record = cleaned(record)
    mirror = ixml_mod.bext_block(contents.ixml)
    # a file whose iXML mirrors a bext it lacks gets a bext chunk that agrees with the mirror
    old_bext = contents.bext or (bext_mod.from_mirror(mirror) if mirror else None)
    bext = bext_mod.merge(old_bext, record, owner, mirror)
    xml = ixml_mod.merge(contents.ixml, record, bext, owner, old_bext).to_bytes()
    if len(xml) % 2:
        xml += b"\n"            # even payloads keep every slot's arithmetic in whole pairs
    items = [("bext", bext.to_bytes()), ("iXML", xml),
             ("LIST", info_mod.merge(contents.info, record, owner, genre).to_bytes())]
    if id3 is not None:
        if not id3.startswith(b"ID3"):
            raise RiffError("id3 payload is not an ID3v2 tag")
        items.append(("id3 ", id3))
    return items


def write(path: str | Path, record: Record, *, id3: bytes | None = None,
          owner: Ownership = OWN_ALL, repair: bool = False, genre: bool = True,
          keep_original: KeepOriginal | None = None) -> WriteResult:
    """Write the record's chunks; repair: rewrite the whole file so its framing is made right
    (sizes, pad bytes) even when the chunks would fit in place; genre: INFO IGNR may get the
    Category (see metadata.genre); keep_original: see KeepOriginal (the undo journal)."""
    path = Path(path)
    with open(path, "rb") as f:
        contents = load(f)
    items = new_chunks(contents, record, id3, owner, genre)
    patches = None if repair else plan_in_place(contents.layout, items, id3 is not None)
    names = [cid for cid, _ in items]
    if patches is not None:
        if keep_original is not None:
            keep_original(None)
            keep_original = None
        try:
            written = _apply_in_place(path, contents.layout, patches)
        except _NoRoom:
            pass        # the file would pass 4 GiB: only a rewrite can make it RF64
        else:
            return WriteResult(True, written, names)
    return WriteResult(False, _rewrite(path, contents, items, keep_original), names)


# --- in place ---------------------------------------------------------------------

def _size_patches(layout: Layout, new_length: int) -> list[Patch]:
    """The RIFF (or ds64) size field set to what the file now holds."""
    if layout.ds64 is not None:
        ds64 = layout.find("ds64")
        assert ds64 is not None
        return [Patch(ds64.data_offset, struct.pack("<Q", new_length - 8), 8)]
    if new_length - 8 > RIFF_LIMIT:
        raise _NoRoom()
    return [Patch(4, struct.pack("<I", new_length - 8), 4)]


class _NoRoom(Exception):
    pass


def _audio_probe(f: BinaryIO, offset: int, length: int) -> bytes:
    h = hashlib.sha256()
    for start in {offset, max(offset, offset + length - PROBE)}:
        f.seek(start)
        h.update(f.read(min(PROBE, length)))
    return h.digest()


def _apply_in_place(path: Path, layout: Layout, patches: list[Patch]) -> int:
    data = layout.require("data")
    end = layout.trailing or layout.chunks_end
    new_length = end
    for p in patches:
        if p.offset + p.span == end:
            new_length = p.offset + len(p.data)
        if p.offset < data.end and p.offset + max(p.span, len(p.data)) > data.offset:
            raise RiffError("internal: a patch would touch the audio")  # guarded by plan
    if layout.trailing:
        new_length = layout.file_size
    patches = patches + _size_patches(layout, new_length)
    with open(path, "r+b") as f:
        before = _audio_probe(f, data.data_offset, data.size)
        regions = []
        for p in patches:
            f.seek(p.offset)
            regions.append(Region(p.offset, f.read(max(p.span, len(p.data)))))
        rollback = Rollback(path, regions, layout.file_size)
        try:
            rollback.save()
        except OSError as exc:
            rollback.discard()
            raise RiffWriteError(f"could not save the rollback copy, file left as it was: {exc}") from exc
        try:
            for p in patches:
                f.seek(p.offset)
                f.write(p.data)
            if new_length != layout.file_size:
                f.truncate(new_length)
            f.flush()
            os.fsync(f.fileno())
            _verify_in_place(f, data.offset, data.size, before)
        except BaseException as exc:
            try:
                rollback.apply()
            except OSError as again:
                raise RiffWriteError(f"write failed ({exc}) and rollback failed ({again}); "
                                     f"rollback kept in {rollback.file.name}") from again
            if isinstance(exc, (VerifyError, RiffError)):
                raise
            if isinstance(exc, OSError):
                raise RiffWriteError(f"in-place update failed: {exc}") from exc
            raise
    try:
        rollback.discard()
    except OSError as exc:
        raise RiffWriteError(f"updated, but the rollback copy {rollback.file.name} could not be removed "
                             f"and will undo the update on the next start: {exc}") from exc
    return sum(len(p.data) for p in patches)


def _verify_in_place(f: BinaryIO, data_offset: int, data_size: int, before: bytes) -> None:
    try:
        contents = load(f)
    except RiffError as exc:
        raise VerifyError(f"file unreadable after the update: {exc}") from exc
    data = contents.layout.require("data")
    if (data.offset, data.size) != (data_offset, data_size):
        raise VerifyError("the data chunk moved during an in-place update")
    if _audio_probe(f, data.data_offset, data.size) != before:
        raise VerifyError("audio bytes changed during an in-place update")


# --- rewrite ----------------------------------------------------------------------

Step = bytes | Chunk      # new bytes to write, or an old chunk to copy as it is


def _plan_rewrite(contents: Contents, items: list[tuple[str, bytes]]) -> list[Step]:
    """The new file after its header: old chunks in order, ours and a filler just before `data`."""
    layout = contents.layout
    ours = replaceable_keys(any(cid == "id3 " for cid, _ in items))
    meta = b"".join(chunk_bytes(cid, data) for cid, data in items)
    meta += header("FLLR", RESERVE - 8) + bytes(RESERVE - 8)
    steps: list[Step] = []
    for i, c in enumerate(layout.chunks):
        if c.id == "ds64" or c.key in ours:
            continue
        if c.id in FILLER_IDS and not (i == 0 and c.id.upper() == "JUNK" and layout.form == "RIFF"):
            continue
        if c.id == "data":
            steps.append(meta)
        steps.append(c)
    return steps


def _step_size(step: Step) -> int:
    return len(step) if isinstance(step, bytes) else 8 + step.size + step.size % 2


def hash_region(f: BinaryIO, offset: int, length: int) -> bytes:
    h = hashlib.sha256()
    f.seek(offset)
    left = length
    while left:
        block = f.read(min(BLOCK, left))
        if not block:
            break
        h.update(block)
        left -= len(block)
    return h.digest()


def _rewrite(path: Path, contents: Contents, items: list[tuple[str, bytes]],
             keep_original: KeepOriginal | None = None) -> int:
    layout = contents.layout
    steps = _plan_rewrite(contents, items)
    body = sum(_step_size(s) for s in steps)
    form = layout.form
    old_ds64 = layout.ds64
    if form == "RIFF" and 4 + body > RIFF_LIMIT:
        form = "RF64"                       # grown past 4 GiB: sizes move into ds64
    ds64_size = 0
    if form != "RIFF":
        ds64_chunk = layout.find("ds64")
        ds64_size = max(ds64_chunk.size if ds64_chunk else 28, 28)
        ds64_size += ds64_size % 2
    total = 12 + (8 + ds64_size if ds64_size else 0) + body
    data = layout.require("data")
    try:
        with open(path, "rb") as f, atomic_replace(path) as dst:
            # the source is read once, start to end: journal hashes, head, tail and copy alike
            src = ReadOnce(f, data.data_offset, data.size, hashes=keep_original is not None)
            riff_size = total - 8
            dst.write(form.encode() + struct.pack("<I", MAX_U32 if form != "RIFF" else riff_size) + b"WAVE")
            if ds64_size:
                count = contents.fmt.block_align and data.size // contents.fmt.block_align
                table = old_ds64.table if old_ds64 else ()
                ds64 = Ds64(riff_size, data.size, old_ds64.sample_count if old_ds64 else count, table)
                dst.write(header("ds64", ds64_size) + ds64.to_bytes(ds64_size))
            new_data_offset = 0
            for step in steps:
                if isinstance(step, bytes):
                    dst.write(step)
                    continue
                raw = step.raw_size
                if step.id == "data":
                    new_data_offset = dst.tell() + 8
                    raw = MAX_U32 if form != "RIFF" else step.size
                cid = step.id
                if cid == "LIST" and step.size < 4:
                    cid = "JUNK"            # a LIST with no room for its type holds nothing: kept as filler
                dst.write(cid.encode("latin-1") + struct.pack("<I", raw))
                src.copy(dst, step.data_offset, step.size)
                if step.size % 2:
                    dst.write(b"\0")        # the pad byte, added where a writer forgot it
            if layout.trailing:
                src.copy(dst, layout.trailing, layout.file_size - layout.trailing)
            dst.flush()
            if dst.tell() != total + (layout.file_size - layout.trailing if layout.trailing else 0):
                raise RiffWriteError("internal: the rewritten file has an unexpected length")
            with open(dst.name, "rb") as check:
                try:
                    written = load(check).layout.require("data")
                except RiffError as exc:
                    raise VerifyError(f"rewritten file is unreadable: {exc}") from exc
                if (written.data_offset, written.size) != (new_data_offset, data.size):
                    raise VerifyError("the audio is not where the rewrite put it")
                # the audio was hashed as it was copied; see read_once for why its ends suffice here
                src.verify_copy(check, new_data_offset)
            src.unchanged(path)
            if keep_original is not None:
                keep_original(src.original())     # journaled before the rename replaces the original
            return dst.tell()
    except ShortSource as exc:
        raise RiffError(str(exc)) from exc
    except OSError as exc:
        raise RiffWriteError(f"rewrite failed, original kept: {exc}") from exc
