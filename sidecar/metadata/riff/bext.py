"""The Broadcast Wave `bext` chunk (EBU Tech 3285, versions 0, 1 and 2).

The fixed part is 602 bytes for every version; CodingHistory fills the rest. Text is
ASCII by the letter of the spec, UTF-8 or Latin-1 in practice: it is read as UTF-8
with a Latin-1 fallback and written as UTF-8, cut at a character boundary.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, replace

from ..record import Record
from .errors import BextError

FIXED_SIZE = 602
_LAYOUT = "<256s32s32s10s8sQH64s5h180s"   # 602 bytes, offsets as in Tech 3285
UNSET = 0x7FFF                             # "outside the range": a loudness field not given
_CONTROL = set(range(0x00, 0x20)) - {0x09, 0x0A, 0x0D}


def _decode(raw: bytes, name: str) -> str:
    text = raw.split(b"\0", 1)[0]
    try:
        value = text.decode("utf-8")
    except UnicodeDecodeError:
        value = text.decode("latin-1")
    bad = next((i for i, ch in enumerate(value) if ord(ch) in _CONTROL), None)
    if bad is not None:
        raise BextError(f"bext {name} holds control byte 0x{ord(value[bad]):02x} at position {bad}")
    return value


def fit_utf8(text: str, limit: int) -> bytes:
    """UTF-8 bytes of text, at most `limit`, never cutting a character in half."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return data
    cut = limit
    while cut > 0 and (data[cut] & 0xC0) == 0x80:   # a continuation byte: step back to a start
        cut -= 1
    return data[:cut]


def _loudness(raw: int, version: int) -> float | None:
    # v0/v1 files may hold garbage at 412..421, so the version gates the fields
    return None if version < 2 or raw == UNSET else raw / 100.0


def _raw_loudness(value: float | None) -> int:
    if value is None:
        return UNSET
    return max(-32767, min(32766, round(value * 100)))


@dataclass(frozen=True)
class Bext:
    """The values of a bext chunk. Loudness fields are None when unset."""

    description: str = ""
    originator: str = ""
    originator_reference: str = ""
    origination_date: str = ""
    origination_time: str = ""
    time_reference: int = 0
    version: int = 0
    umid: bytes = b"\0" * 64
    loudness_value: float | None = None
    loudness_range: float | None = None
    max_true_peak_level: float | None = None
    max_momentary_loudness: float | None = None
    max_short_term_loudness: float | None = None
    coding_history: str = ""
    size: int = 0           # size of the chunk it was read from (0 for a new one)

    @classmethod
    def read(cls, data: bytes) -> "Bext":
        if len(data) < FIXED_SIZE:
            raise BextError(f"bext chunk is {len(data)} bytes, shorter than the {FIXED_SIZE}-byte fixed part")
        (desc, orig, ref, date, time, tref, version, umid,
         lv, lr, tp, mm, ms, _reserved) = struct.unpack_from(_LAYOUT, data, 0)
        if version > 2:
            raise BextError(f"bext version {version} is not 0, 1 or 2")
        history = data[FIXED_SIZE:].rstrip(b"\0")
        return cls(
            description=_decode(desc, "Description"),
            originator=_decode(orig, "Originator"),
            originator_reference=_decode(ref, "OriginatorReference"),
            origination_date=_decode(date, "OriginationDate"),
            origination_time=_decode(time, "OriginationTime"),
            time_reference=tref, version=version,
            umid=umid if version >= 1 else b"\0" * 64,
            loudness_value=_loudness(lv, version), loudness_range=_loudness(lr, version),
            max_true_peak_level=_loudness(tp, version),
            max_momentary_loudness=_loudness(mm, version),
            max_short_term_loudness=_loudness(ms, version),
            coding_history=_decode(history, "CodingHistory"),
            size=len(data),
        )

    def to_bytes(self) -> bytes:
        """The chunk payload; keeps the size it was read with when the content fits."""
        history = self.coding_history.encode("utf-8")
        fixed = struct.pack(
            _LAYOUT,
            fit_utf8(self.description, 256), fit_utf8(self.originator, 32),
            fit_utf8(self.originator_reference, 32),
            self.origination_date.encode("ascii", "replace")[:10],
            self.origination_time.encode("ascii", "replace")[:8],
            self.time_reference & 0xFFFFFFFFFFFFFFFF, self.version,
            self.umid if self.version >= 1 else b"",
            *(_raw_loudness(v) if self.version >= 2 else 0 for v in (
                self.loudness_value, self.loudness_range, self.max_true_peak_level,
                self.max_momentary_loudness, self.max_short_term_loudness)),
            b"",
        )
        body = fixed + history
        size = max(self.size, len(body))
        size += size % 2
        return body.ljust(size, b"\0")

    def fields(self) -> dict[str, object]:
        """Tech 3285 field names and values, for `sidecar show`."""
        return {
            "Description": self.description, "Originator": self.originator,
            "OriginatorReference": self.originator_reference,
            "OriginationDate": self.origination_date, "OriginationTime": self.origination_time,
            "TimeReference": self.time_reference, "Version": self.version,
            "UMID": self.umid.hex() if any(self.umid) else "",
            "LoudnessValue": self.loudness_value, "LoudnessRange": self.loudness_range,
            "MaxTruePeakLevel": self.max_true_peak_level,
            "MaxMomentaryLoudness": self.max_momentary_loudness,
            "MaxShortTermLoudness": self.max_short_term_loudness,
            "CodingHistory": self.coding_history,
        }


def merge(old: Bext | None, record: Record, keep: frozenset[str] = frozenset()) -> Bext:
    """The bext to write: the record's text, and everything a person or recorder set kept.

    keep: fields a person wrote; where this chunk already holds a value for one, it stays.
    """
    base = old or Bext()
    changes: dict[str, object] = {}
    if record.Description and not ("Description" in keep and base.description.strip()):
        changes["description"] = record.Description.replace("\r\n", "\n").replace("\n", "\r\n")
    if not base.originator and record.Designer:
        changes["originator"] = record.Designer       # the UCS tools' convention
    version = base.version
    if base.loudness_value is None and record.Loudness is not None:
        changes["loudness_value"] = record.Loudness
        version = 2
    if base.max_true_peak_level is None and record.TruePeak is not None:
        changes["max_true_peak_level"] = record.TruePeak
        version = 2
    changes["version"] = version
    return replace(base, **changes)


#: a recorder's key lines (Sound Devices "sTAKE=3", "zSPEED=...") rather than a description
_RECORDER_LINE = re.compile(r"^[a-z]?[A-Z][A-Z0-9_]*=")


def recorder_text(description: str) -> bool:
    lines = [line.strip() for line in description.splitlines() if line.strip()]
    return bool(lines) and all(_RECORDER_LINE.match(line) for line in lines)


def to_record(bext: Bext) -> Record:
    """The part of the canonical record a bext chunk carries.

    Key lines a recorder left in Description are not a description of the sound,
    so they do not count as one a person wrote.
    """
    description = "" if recorder_text(bext.description) else bext.description
    return Record(Description=description, Loudness=bext.loudness_value,
                  TruePeak=bext.max_true_peak_level)
