"""Where new metadata chunks can go without moving a single audio byte.

A *slot* is a run of adjacent chunks the writer may overwrite: the metadata chunks it
replaces (bext, iXML, LIST/INFO, and id3 when a tag is given) and filler chunks
(JUNK, FLLR, PAD , ...). A slot at the very end of the file may grow or shrink; any
other slot has a fixed capacity, and what is left over becomes a filler chunk. When
the chunks cannot be fitted into slots, the file must be rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from .chunks import FILLER_IDS, Chunk, Layout, chunk_bytes, header

ID3_IDS = ("id3 ", "ID3 ")
MIN_FILLER = 8


@dataclass(frozen=True)
class Slot:
    start: int
    end: int
    chunks: tuple[Chunk, ...]
    at_eof: bool

    @property
    def capacity(self) -> int:
        return self.end - self.start

    def only_fillers(self) -> bool:
        return all(c.id in FILLER_IDS for c in self.chunks)


@dataclass(frozen=True)
class Patch:
    """Bytes to put at `offset`; `span` is how many old bytes they cover."""

    offset: int
    data: bytes
    span: int


def replaceable_keys(with_id3: bool) -> set[str]:
    keys = {"bext", "iXML", "LIST/INFO"}
    return keys | set(ID3_IDS) if with_id3 else keys


def item_key(cid: str) -> str:
    return "LIST/INFO" if cid == "LIST" else ("id3" if cid in ID3_IDS else cid)


def _chunk_key(c: Chunk) -> str:
    return "id3" if c.id in ID3_IDS else c.key


def slots(layout: Layout, with_id3: bool) -> list[Slot]:
    keys = replaceable_keys(with_id3)
    out: list[Slot] = []
    run: list[Chunk] = []

    def close() -> None:
        if run:
            at_eof = run[-1] is layout.chunks[-1] and not layout.trailing
            out.append(Slot(run[0].offset, run[-1].end, tuple(run), at_eof))
            run.clear()

    for i, c in enumerate(layout.chunks):
        # a JUNK first in a RIFF file is the reserve for a later ds64: never reuse it
        ds64_reserve = i == 0 and layout.form == "RIFF" and c.id.upper() == "JUNK"
        if (c.key in keys or c.id in FILLER_IDS) and not ds64_reserve:
            run.append(c)
        else:
            close()
    close()
    return out


def _fill(slot: Slot, items: list[tuple[str, bytes]]) -> bytes | None:
    """The bytes of a bounded slot holding `items`, or None when they do not fit."""
    body = b"".join(chunk_bytes(cid, data) for cid, data in items)
    if slot.at_eof:
        return body
    room = slot.capacity - len(body)
    if room == 0:
        return body
    if room >= MIN_FILLER and room % 2 == 0:
        return body + header("FLLR", room - 8) + bytes(room - 8)
    if 0 < room < MIN_FILLER and room % 2 == 0 and any(cid == "iXML" for cid, _ in items):
        # too little room for a filler: let the XML absorb it as trailing white space
        grown = [(cid, data + b" " * room if cid == "iXML" else data) for cid, data in items]
        return b"".join(chunk_bytes(cid, data) for cid, data in grown)
    return None


def _assign(layout: Layout, found: list[Slot], items: list[tuple[str, bytes]],
            gather: bool) -> dict[int, list[tuple[str, bytes]]] | None:
    data = layout.require("data")
    before = next((i for i, s in enumerate(found) if s.end == data.offset), None)
    at_eof = next((i for i, s in enumerate(found) if s.at_eof), None)
    home = {_chunk_key(c): i for i, s in enumerate(found) for c in s.chunks}
    plan: dict[int, list[tuple[str, bytes]]] = {}
    for cid, payload in items:
        key = item_key(cid)
        if gather:
            target = before
        elif key in home:
            target = home[key]
        elif cid == "bext":
            target = before            # bext belongs before the audio
        else:
            target = before if before is not None else at_eof
        if target is None:
            return None
        plan.setdefault(target, []).append((cid, payload))
    return plan


def plan_in_place(layout: Layout, items: list[tuple[str, bytes]], with_id3: bool) -> list[Patch] | None:
    """Patches that store `items` without moving any other chunk, or None."""
    found = slots(layout, with_id3)
    for gather in (False, True):
        plan = _assign(layout, found, items, gather)
        if plan is None:
            continue
        patches: list[Patch] = []
        for i, slot in enumerate(found):
            if i in plan:
                filled = _fill(slot, plan[i])
                if filled is None:
                    break
                patches.append(Patch(slot.start, filled, slot.capacity))
            elif slot.at_eof and not slot.only_fillers():
                patches.append(Patch(slot.start, b"", slot.capacity))   # cut old metadata off the end
            elif not slot.only_fillers():
                patches.append(Patch(slot.start, header("JUNK", slot.capacity - 8)
                                     + bytes(slot.capacity - 8), slot.capacity))
        else:
            return patches
    return None
