"""Header damage: sizes and counts in a WAV, RF64 or AIFF header that disagree with the file.

A librarian's tool does not repair a file it was not asked to repair. These checks name
what is wrong so that a scan can leave such a file byte-identical (sidecar and index
only) and report it; `sidecar scan --repair` writes it, which sets the framing right.
Only headers are read, never the audio.
"""

from __future__ import annotations

import struct
from pathlib import Path

from .chunks import walk
from .errors import RiffError
from .reader import Fmt

_PCM_TAGS = (1, 3, 0xFFFE)


def riff_damage(path: str | Path) -> list[str]:
    """What is wrong with the header of a WAV, RF64 or BW64 file.

    A file too broken to walk raises RiffError (the reader names it the same way).
    """
    with open(path, "rb") as f:
        return _riff_damage(f)


def aiff_damage(path: str | Path) -> list[str]:
    """What is wrong with the header of an AIFF or AIFC file."""
    with open(path, "rb") as f:
        return _aiff_damage(f)


def _riff_damage(f) -> list[str]:
    layout = walk(f)
    found: list[str] = []
    end = layout.trailing or layout.chunks_end
    if 8 + layout.declared_size != end:
        name = "RIFF" if layout.form == "RIFF" else "ds64 RIFF"
        found.append(f"{name} size says {8 + layout.declared_size} bytes, its chunks end at byte {end} "
                     f"(the file is {layout.file_size})")
    for c in layout.chunks:
        if c.size % 2 and not c.has_pad and c.end < layout.file_size:
            found.append(f"chunk {c.id!r} at offset {c.offset} lacks its pad byte")
    fmt_chunk = layout.find("fmt ")
    if fmt_chunk is not None and fmt_chunk.size >= 16:
        f.seek(fmt_chunk.data_offset)
        fmt = Fmt.read(f.read(min(fmt_chunk.size, 64)))
        frame = fmt.channels * ((fmt.bits_per_sample + 7) // 8)
        if fmt.block_align == 0:
            found.append("fmt block align is 0")
        elif fmt.format_tag in _PCM_TAGS and frame and fmt.block_align != frame:
            found.append(f"fmt block align is {fmt.block_align}, not the {frame} bytes of "
                         f"{fmt.channels} channels of {fmt.bits_per_sample} bits")
    for c in layout.chunks:
        if c.id == "LIST" and c.size < 4:
            found.append(f"LIST chunk at offset {c.offset} is {c.size} bytes, no room for its 4-byte list type")
        elif c.id == "LIST":
            f.seek(c.data_offset)
            overrun = _list_overrun(f.read(min(c.size, 1 << 20)))
            if overrun:
                found.append(f"LIST/{c.list_type.strip() or '?'} chunk at offset {c.offset} is shorter "
                             f"than what it holds ({overrun})")
    return found


def _list_overrun(payload: bytes) -> str:
    pos = 4
    while pos + 8 <= len(payload):
        cid, size = payload[pos:pos + 4], struct.unpack_from("<I", payload, pos + 4)[0]
        if pos + 8 + size > len(payload):
            return f"{cid.decode('latin-1')!r} needs {size} bytes, {len(payload) - pos - 8} are left"
        pos += 8 + size + size % 2
    return ""


def _aiff_damage(f) -> list[str]:
    from .aiff import _find, _payload, walk as walk_aiff

    _, chunks = walk_aiff(f)
    found: list[str] = []
    f.seek(4)
    declared = struct.unpack(">I", f.read(4))[0]
    end = chunks[-1].end if chunks else 12
    f.seek(0, 2)
    if 8 + declared != end:
        found.append(f"FORM size says {8 + declared} bytes, its chunks end at byte {end} "
                     f"(the file is {f.tell()})")
    comm = _payload(f, _find(chunks, "COMM"))
    ssnd = _find(chunks, "SSND")
    if len(comm) >= 8:
        channels, frames, bits = struct.unpack(">hIh", comm[:8])
        frame = max(channels, 0) * ((max(bits, 0) + 7) // 8)
        if frame:
            f.seek(ssnd.data_offset)
            offset = struct.unpack(">I", f.read(4))[0] if ssnd.size >= 8 else 0
            held = max(0, ssnd.size - 8 - offset) // frame
            if frames > held:
                found.append(f"COMM frame count {frames} is past the data (SSND holds {held} frames)")
    return found
