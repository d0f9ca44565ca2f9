"""OSC replies, built from the same row dicts as `sidecar search --json` (schemas/osc-address-space.md)."""

from __future__ import annotations

import struct

#: every datagram stays at or under this size; python-osc and LuaSocket read 8192 at most
MAX_DATAGRAM = 4096
MAX_TEXT_BYTES = 1024
_INT, _FLOAT = struct.Struct(">i"), struct.Struct(">f")


class PathTooLong(ValueError):
    """A hit whose path alone fills a datagram: it cannot be sent, since a cut path points nowhere."""


def cut_utf8(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """Cut text to at most `limit` UTF-8 bytes without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:max(limit, 0)].decode("utf-8", "ignore")


def _osc_string(text: str) -> bytes:
    data = text.encode("utf-8")
    return data + b"\x00" * (4 - len(data) % 4)        # at least one NUL, to a multiple of 4


def message(address: str, *args) -> bytes:
    """One OSC message of i, f, s (and T/F) arguments; strings go as given (cut text with cut_utf8
    first). ValueError past MAX_DATAGRAM, or for an int outside int32.

    Built here rather than with python-osc's builder, which takes about 50 us a message: a top-20
    answer is 40 of them. The bytes are the same (a test compares them).
    """
    tags, body = [","], []
    for arg in args:
        if isinstance(arg, bool):
            tags.append("T" if arg else "F")
        elif isinstance(arg, int):
            tags.append("i")
            try:
                body.append(_INT.pack(arg))
            except struct.error:
                raise ValueError(f"{address}: {arg} is not an int32") from None
        elif isinstance(arg, float):
            tags.append("f")
            body.append(_FLOAT.pack(arg))
        else:
            tags.append("s")
            body.append(_osc_string(str(arg)))
    dgram = _osc_string(address) + _osc_string("".join(tags)) + b"".join(body)
    if len(dgram) > MAX_DATAGRAM:
        raise ValueError(f"{address} message of {len(dgram)} bytes exceeds {MAX_DATAGRAM}")
    return dgram


def error(request_id: int, reason: str) -> bytes:
    """/sfx/error id reason (the reason cut to MAX_TEXT_BYTES)"""
    return message("/sfx/error", request_id, cut_utf8(reason))


def _share(sizes: list[int], budget: int) -> list[int]:
    """Byte caps for texts of these sizes summing to at most `budget`: short texts whole, long ones alike."""
    caps = [0] * len(sizes)
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    left = budget
    for n, i in enumerate(order):
        caps[i] = min(sizes[i], left // (len(order) - n))
        left -= caps[i]
    return caps


def result(request_id: int, rank: int, hit) -> bytes:
    """/sfx/result id rank path CatID Description Keywords duration, within MAX_DATAGRAM.

    The path goes whole; CatID, Description and Keywords are cut (each to MAX_TEXT_BYTES at most, then
    to what the path leaves). PathTooLong when the path alone does not fit.
    """
    cat_id, description, keywords, duration = hit.record_fields("CatID", "Description", "Keywords", "Duration")
    duration = float(duration or 0.0)
    texts = [cat_id or "", description or "", ", ".join(keywords or ())]
    texts = [cut_utf8(t) for t in texts]
    try:
        bare = message("/sfx/result", request_id, rank, hit.path, "", "", "", duration)
    except ValueError:
        raise PathTooLong(f"result {rank}: path too long for one datagram") from None
    # an empty string takes 4 bytes; n bytes take 4 * (n // 4 + 1) <= n + 4, so n bytes of text per
    # field within MAX_DATAGRAM - len(bare) always fit
    caps = _share([len(t.encode("utf-8")) for t in texts], MAX_DATAGRAM - len(bare))
    cat_id, description, keywords = (cut_utf8(t, cap) for t, cap in zip(texts, caps))
    return message("/sfx/result", request_id, rank, hit.path, cat_id, description, keywords, duration)


#: a field's value is cut to this many bytes so that its message stays within MAX_DATAGRAM
MAX_VALUE_BYTES = 3072
TECHNICAL = ("Duration", "SampleRate", "BitDepth", "Channels", "Loudness", "TruePeak")


def _text(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def info_fields(row) -> list[tuple[str, str, str]]:
    """(name, value, source) of every field an index row holds, descriptive first.

    source: person (a person's, or another tool's, never replaced by the service), machine (the
    service wrote it and may refresh it), measured (a fact of the audio), file (read from the file).
    """
    from sidecar.metadata.record import DESCRIPTIVE_FIELDS
    rec = row.record
    human, machine = set(row.human_fields), set(rec.provenance.machine_fields)
    out = [("Format", row.format, "measured")] if row.format else []
    for name in DESCRIPTIVE_FIELDS:
        if rec.is_empty(name):
            continue
        source = "person" if name in human else "machine" if name in machine else "file"
        out.append((name, _text(getattr(rec, name)), source))
    for name in TECHNICAL:
        if not rec.is_empty(name):
            out.append((name, _text(getattr(rec, name)), "measured"))
    if rec.provenance.engine:
        out.append(("Engine", " ".join(p for p in (rec.provenance.engine, rec.provenance.model) if p), "machine"))
    return out


def field(request_id: int, name: str, value: str, source: str, address: str = "/sfx/field") -> bytes:
    """/sfx/field id name value source (or /sfx/tagged), the value cut at a character boundary."""
    return message(address, request_id, name, cut_utf8(value, MAX_VALUE_BYTES), source)
