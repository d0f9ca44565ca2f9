"""RIFF `LIST`/`INFO`: short text fields that Windows Explorer, REAPER and many DAWs show.

Each subchunk holds a NUL-terminated string whose size counts the NUL. The encoding is
undefined; UTF-8 is written and read, Latin-1 is the fallback on read. Subchunks the
record does not map (ICOP, ICRD, IENG, ...) are kept in their order.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..genre import genre_owner
from ..merge import OWN_ALL, Ownership
from ..record import Record, split_keywords
from .errors import InfoError

SOFTWARE = "SFX Sidecar"
INFO_LIMIT = 1 << 20


def _text(raw: bytes) -> str:
    raw = raw.split(b"\0", 1)[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclass(frozen=True)
class Info:
    """INFO subchunks in file order, as (FourCC, text) pairs."""

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def read(cls, data: bytes) -> "Info":
        if len(data) < 4 or data[:4] != b"INFO":
            raise InfoError("LIST chunk is not of type INFO")
        if len(data) > INFO_LIMIT:
            raise InfoError(f"LIST/INFO chunk is {len(data)} bytes, more than {INFO_LIMIT}")
        items: list[tuple[str, str]] = []
        pos = 4
        while pos + 8 <= len(data):
            cid = data[pos:pos + 4]
            size = struct.unpack_from("<I", data, pos + 4)[0]
            if not all(0x20 <= b <= 0x7E for b in cid):
                raise InfoError(f"INFO subchunk at byte {pos} has no valid ID ({cid!r})")
            if pos + 8 + size > len(data):
                raise InfoError(f"INFO subchunk {cid.decode()!r} runs past the end of its LIST")
            items.append((cid.decode("ascii"), _text(data[pos + 8:pos + 8 + size])))
            pos += 8 + size + (size % 2)
        return cls(tuple(items))

    def to_bytes(self) -> bytes:
        out = bytearray(b"INFO")
        for cid, text in self.items:
            raw = text.encode("utf-8") + b"\0"
            out += cid.encode("ascii") + struct.pack("<I", len(raw)) + raw
            if len(raw) % 2:
                out += b"\0"
        return bytes(out)

    def as_dict(self) -> dict[str, str]:
        return dict(self.items)

    def with_values(self, values: dict[str, str]) -> "Info":
        """Replace or append the given subchunks, keeping the others in place."""
        pending = dict(values)
        items = [(cid, pending.pop(cid, text)) for cid, text in self.items]
        items += list(pending.items())
        return Info(tuple(items))


#: which canonical field each INFO subchunk carries (IGNR only outward: see metadata.genre)
FIELD_OF = {"INAM": "TrackTitle", "ICMT": "Description", "IKEY": "Keywords", "IGNR": "Category",
            "IART": "Designer", "IPRD": "Library", "IMED": "RecMedium"}


def values_for(record: Record, old: Info | None, owner: Ownership = OWN_ALL, genre: bool = True) -> dict[str, str]:
    """The INFO subchunks the record sets: empty fields leave the old value alone, and a
    subchunk another tool or a person filled stays unless owner allows (see merge.Ownership).
    genre: IGNR may get the Category (not when the file holds a genre elsewhere)."""
    held = old.as_dict() if old is not None else {}
    one_line = " ".join(record.Description.split())
    values = {
        "INAM": record.TrackTitle or record.FXName,
        "ICMT": one_line,
        "IGNR": record.Category if genre else "",
        "IART": record.Designer,
        "IPRD": record.Library,
        "IMED": record.RecMedium,
    }
    out = {k: v for k, v in values.items()
           if v and (genre_owner(owner) if k == "IGNR" else owner).may_replace(FIELD_OF[k], held.get(k, ""))}
    if "INAM" in values and "INAM" not in out and values["INAM"] and owner.may_replace("FXName", held.get("INAM", "")):
        out["INAM"] = values["INAM"]      # INAM holds FXName when there is no title
    words = owner.keywords(held.get("IKEY", ""), record.Keywords)
    if words:
        out["IKEY"] = "; ".join(words)
    if not held.get("ISFT"):
        out["ISFT"] = SOFTWARE
    return out


def merge(old: Info | None, record: Record, owner: Ownership = OWN_ALL, genre: bool = True) -> Info:
    return (old or Info()).with_values(values_for(record, old, owner, genre))


def to_record(info: Info) -> Record:
    d = info.as_dict()
    return Record(
        Description=d.get("ICMT", ""), Keywords=split_keywords(d.get("IKEY", "")),
        TrackTitle=d.get("INAM", ""), Designer=d.get("IART", ""),
        Library=d.get("IPRD", ""), RecMedium=d.get("IMED", ""),
    )
