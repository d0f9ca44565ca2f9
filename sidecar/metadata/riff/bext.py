"""The Broadcast Wave `bext` chunk (EBU Tech 3285, versions 0, 1 and 2).

The fixed part is 602 bytes for every version; CodingHistory fills the rest. Text is
ASCII by the letter of the spec, UTF-8 or Latin-1 in practice: it is read as UTF-8
with a Latin-1 fallback and written as UTF-8, cut at a character boundary.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, replace

from ..merge import OWN_ALL, Ownership
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
    tail: bytes = b""       # bytes 412-601 as read (loudness and reserved): kept, never zeroed

    @classmethod
    def read(cls, data: bytes) -> "Bext":
        if len(data) < FIXED_SIZE:
            raise BextError(f"bext chunk is {len(data)} bytes, shorter than the {FIXED_SIZE}-byte fixed part")
        (desc, orig, ref, date, time, tref, version, umid,
         lv, lr, tp, mm, ms, _reserved) = struct.unpack_from(_LAYOUT, data, 0)
        # a version 0 chunk's UMID bytes and a version 0/1 chunk's loudness bytes are kept as
        # they are: a writer that set them without raising the version still owns them
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
            umid=umid,
            loudness_value=_loudness(lv, version), loudness_range=_loudness(lr, version),
            max_true_peak_level=_loudness(tp, version),
            max_momentary_loudness=_loudness(mm, version),
            max_short_term_loudness=_loudness(ms, version),
            coding_history=_decode(history, "CodingHistory"),
            size=len(data), tail=data[412:FIXED_SIZE],
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
            self.umid,
            *(_raw_loudness(v) if self.version >= 2 else 0 for v in (
                self.loudness_value, self.loudness_range, self.max_true_peak_level,
                self.max_momentary_loudness, self.max_short_term_loudness)),
            self.tail[10:],
        )
        if self.version < 2 and self.tail:
            fixed = fixed[:412] + self.tail[:10] + fixed[422:]
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
            "UMID": self.umid.hex() if self.version >= 1 and any(self.umid) else "",
            "LoudnessValue": self.loudness_value, "LoudnessRange": self.loudness_range,
            "MaxTruePeakLevel": self.max_true_peak_level,
            "MaxMomentaryLoudness": self.max_momentary_loudness,
            "MaxShortTermLoudness": self.max_short_term_loudness,
            "CodingHistory": self.coding_history,
        }


def merge(old: Bext | None, record: Record, owner: Ownership = OWN_ALL,
          mirror: dict[str, str] | None = None) -> Bext:
    """The bext to write: empty fields filled from the record, every value another tool set kept.

    owner: which held values the service may replace (see merge.Ownership). mirror: the
    iXML BEXT block's values; a field whose mirror holds another value than the chunk is
    left alone, so that the two keep agreeing. A recorder's key lines are never replaced.
    """
    base = old or Bext()
    mirror = mirror or {}
    changes: dict[str, object] = {}

    def free(name: str, held: str, tag: str) -> bool:
        shadow = mirror.get(tag, "")
        agrees = shadow.replace("\r\n", "\n").strip() == held.replace("\r\n", "\n").strip()
        return owner.may_replace(name, held) and (not shadow.strip() or agrees or owner.may_replace(name, shadow))

    if (record.Description and not recorder_text(base.description)
            and free("Description", base.description, "BWF_DESCRIPTION")):
        changes["description"] = record.Description.replace("\r\n", "\n").replace("\n", "\r\n")
    if not base.originator and record.Designer and not mirror.get("BWF_ORIGINATOR", "").strip():
        changes["originator"] = record.Designer       # the UCS tools' convention
    version = base.version
    # loudness needs version 2; another tool's older chunk keeps its version (and so has none)
    loudness_room = old is None or base.version >= 2 or owner.everything
    if (loudness_room and base.loudness_value is None and record.Loudness is not None
            and not mirror.get("BWF_LOUDNESS_VALUE")):
        changes["loudness_value"] = record.Loudness
        version = 2
    if (loudness_room and base.max_true_peak_level is None and record.TruePeak is not None
            and not mirror.get("BWF_MAX_TRUE_PEAK_LEVEL")):
        changes["max_true_peak_level"] = record.TruePeak
        version = 2
    changes["version"] = version
    return replace(base, **changes)


def from_mirror(mirror: dict[str, str]) -> Bext:
    """A new bext chunk that agrees with the iXML BEXT block a file already carries."""
    def number(tag: str) -> int:
        try:
            return int(mirror.get(tag, "0") or 0)
        except ValueError:
            return 0

    def loud(tag: str) -> float | None:
        try:
            return float(mirror[tag]) if mirror.get(tag, "").strip() else None
        except ValueError:
            return None

    try:
        umid = bytes.fromhex(mirror.get("BWF_UMID", "").strip())[:64].ljust(64, b"\0")
    except ValueError:
        umid = b"\0" * 64
    return Bext(
        description=mirror.get("BWF_DESCRIPTION", ""), originator=mirror.get("BWF_ORIGINATOR", ""),
        originator_reference=mirror.get("BWF_ORIGINATOR_REFERENCE", ""),
        origination_date=mirror.get("BWF_ORIGINATION_DATE", ""),
        origination_time=mirror.get("BWF_ORIGINATION_TIME", ""),
        time_reference=(number("BWF_TIME_REFERENCE_HIGH") << 32) | number("BWF_TIME_REFERENCE_LOW"),
        version=min(max(number("BWF_VERSION"), 1 if any(umid) else 0), 2), umid=umid,
        loudness_value=loud("BWF_LOUDNESS_VALUE"), loudness_range=loud("BWF_LOUDNESS_RANGE"),
        max_true_peak_level=loud("BWF_MAX_TRUE_PEAK_LEVEL"),
        max_momentary_loudness=loud("BWF_MAX_MOMENTARY_LOUDNESS"),
        max_short_term_loudness=loud("BWF_MAX_SHORT_TERM_LOUDNESS"),
        coding_history=mirror.get("BWF_CODING_HISTORY", ""),
    )


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
