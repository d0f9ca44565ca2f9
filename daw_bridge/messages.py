"""OSC replies, built from the same row dicts as `sidecar search --json` (schemas/osc-address-space.md)."""

from __future__ import annotations

from pythonosc.osc_message_builder import OscMessageBuilder

#: every datagram stays at or under this size; python-osc and LuaSocket read 8192 at most
MAX_DATAGRAM = 4096
MAX_TEXT_BYTES = 1024


def cut_utf8(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """Cut text to at most `limit` UTF-8 bytes without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def message(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address=address)
    for arg in args:
        if isinstance(arg, bool):
            builder.add_arg(arg, "T" if arg else "F")
        elif isinstance(arg, int):
            builder.add_arg(arg, "i")
        elif isinstance(arg, float):
            builder.add_arg(arg, "f")
        else:
            builder.add_arg(cut_utf8(str(arg)), "s")
    dgram = builder.build().dgram
    if len(dgram) > MAX_DATAGRAM:
        raise ValueError(f"{address} reply of {len(dgram)} bytes exceeds {MAX_DATAGRAM}")
    return dgram


def result(request_id: int, rank: int, hit) -> bytes:
    """/sfx/result id rank path CatID Description Keywords duration"""
    rec = hit.record
    return message("/sfx/result", request_id, rank, hit.path, rec.CatID or "", rec.Description or "",
                   ", ".join(rec.Keywords)[:MAX_TEXT_BYTES], float(rec.Duration or 0.0))
