"""Reading a WAVE file's metadata chunks into values and into the canonical record."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..record import Record
from . import bext as bext_mod
from . import info as info_mod
from . import ixml as ixml_mod
from .bext import Bext
from .chunks import Layout, read_payload, walk
from .errors import RiffError
from .info import Info
from .ixml import IXML

_EXTENSIBLE = 0xFFFE


@dataclass(frozen=True)
class Fmt:
    """The `fmt ` chunk: how the audio payload is encoded."""

    format_tag: int
    channels: int
    sample_rate: int
    byte_rate: int
    block_align: int
    bits_per_sample: int
    sub_format: int | None = None   # first two bytes of the GUID of WAVE_FORMAT_EXTENSIBLE

    @classmethod
    def read(cls, data: bytes) -> "Fmt":
        if len(data) < 16:
            raise RiffError(f"fmt chunk is {len(data)} bytes, shorter than 16")
        tag, ch, rate, brate, align, bits = struct.unpack_from("<HHIIHH", data, 0)
        sub = struct.unpack_from("<H", data, 24)[0] if tag == _EXTENSIBLE and len(data) >= 40 else None
        return cls(tag, ch, rate, brate, align, bits, sub)

    def to_bytes(self) -> bytes:
        return struct.pack("<HHIIHH", self.format_tag, self.channels, self.sample_rate,
                           self.byte_rate, self.block_align, self.bits_per_sample)


@dataclass(frozen=True)
class Contents:
    """A walked file with its metadata chunks parsed (None when absent)."""

    layout: Layout
    fmt: Fmt
    bext: Bext | None
    ixml: IXML | None
    info: Info | None


def load(f: BinaryIO) -> Contents:
    """Walk the file and parse fmt, bext, iXML and LIST/INFO; errors name the reason."""
    layout = walk(f)
    layout.require("data")
    fmt = Fmt.read(read_payload(f, layout.require("fmt ")))
    found_bext = layout.find("bext")
    found_ixml = layout.find("iXML")
    found_info = layout.find("LIST/INFO")
    if found_ixml is not None and found_ixml.size > ixml_mod.IXML_LIMIT:
        raise ixml_mod.IXMLError(
            f"iXML chunk is {found_ixml.size} bytes, more than the {ixml_mod.IXML_LIMIT >> 20} MiB limit")
    if found_bext is not None and found_bext.size > 1 << 20:
        raise bext_mod.BextError(f"bext chunk is {found_bext.size} bytes, more than 1 MiB")
    return Contents(
        layout, fmt,
        Bext.read(read_payload(f, found_bext)) if found_bext else None,
        IXML.read(read_payload(f, found_ixml)) if found_ixml else None,
        Info.read(read_payload(f, found_info, info_mod.INFO_LIMIT + 1)) if found_info else None,
    )


def technical(contents: Contents) -> Record:
    fmt, data = contents.fmt, contents.layout.require("data")
    rec = Record(SampleRate=fmt.sample_rate or None, Channels=fmt.channels or None,
                 BitDepth=fmt.bits_per_sample or None)
    if fmt.block_align and fmt.sample_rate:
        rec.Duration = data.size / fmt.block_align / fmt.sample_rate
    return rec


def to_record(contents: Contents) -> Record:
    """iXML USER over ASWG, then bext, then INFO; technical fields from fmt and data."""
    rec = ixml_mod.to_record(contents.ixml) if contents.ixml else Record()
    if contents.bext is not None:
        rec.fill_from(bext_mod.to_record(contents.bext))
    if contents.info is not None:
        from_info = info_mod.to_record(contents.info)
        if from_info.TrackTitle == rec.FXName:   # INAM holds FXName when there is no title
            from_info.TrackTitle = ""
        rec.fill_from(from_info)
    rec.fill_from(technical(contents))
    return rec


def read(path: str | Path) -> Record:
    with open(path, "rb") as f:
        return to_record(load(f))


def read_chunks(path: str | Path) -> dict:
    """Every metadata chunk's fields, and the chunk list, for `sidecar show`."""
    with open(path, "rb") as f:
        contents = load(f)
    layout = contents.layout
    return {
        "form": layout.form,
        "fmt": {"FormatTag": contents.fmt.format_tag, "Channels": contents.fmt.channels,
                "SampleRate": contents.fmt.sample_rate, "BitsPerSample": contents.fmt.bits_per_sample,
                "BlockAlign": contents.fmt.block_align},
        "bext": contents.bext.fields() if contents.bext else {},
        "iXML": contents.ixml.fields() if contents.ixml else {},
        "INFO": contents.info.as_dict() if contents.info else {},
        "chunks": [(c.key, c.offset, c.size) for c in layout.chunks],
        "notes": list(layout.notes),
    }


def audio_span(path: str | Path) -> tuple[int, int]:
    """Offset and length of the `data` payload."""
    with open(path, "rb") as f:
        data = walk(f).require("data")
    return data.data_offset, data.size
