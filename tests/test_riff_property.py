"""Property tests over chunk layouts: valid input stays valid, audio and foreign chunks kept."""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidecar.metadata import riff
from sidecar.metadata.riff.chunks import walk
from test_riff_build import bext_payload, chunk, fmt_payload, sample_record, wav

FOREIGN_IDS = [b"cue ", b"smpl", b"acid", b"cart", b"_PMX", b"SMED", b"axml", b"ID3 ", b"LIST", b"zzzz"]
TEXT = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")
OURS = {b"bext", b"iXML", b"FLLR", b"JUNK", b"PAD "}

foreign = st.builds(
    lambda cid, body: (cid, (b"adtl" + body) if cid == b"LIST" else body),
    st.sampled_from(FOREIGN_IDS), st.binary(max_size=40))
metadata = st.sampled_from([
    (b"bext", bext_payload(b"old description", b"Recorder", version=1)),
    (b"iXML", b"<BWFXML><PROJECT>P</PROJECT><USER>free text</USER></BWFXML>\0"),
    (b"LIST", b"INFO" + chunk(b"ICOP", b"(c) me\0")),
    (b"FLLR", bytes(200)), (b"JUNK", bytes(31)), (b"PAD ", bytes(1)),
])


@st.composite
def layouts(draw):
    before = draw(st.lists(st.one_of(foreign, metadata), max_size=5))
    after = draw(st.lists(st.one_of(foreign, metadata), max_size=4))
    # keep bext, iXML and LIST/INFO unique, as valid files have them
    seen, parts = set(), []
    for cid, body in before + [(b"data", None)] + after:
        key = cid + body[:4] if cid == b"LIST" and body else cid
        if cid in (b"bext", b"iXML") or key == b"LISTINFO":
            if key in seen:
                continue
            seen.add(key)
        parts.append((cid, body))
    channels = draw(st.integers(1, 3))
    frames = draw(st.integers(0, 301))
    bits = draw(st.sampled_from([8, 16, 24]))
    pcm = draw(st.binary(min_size=frames * channels * bits // 8, max_size=frames * channels * bits // 8))
    chunks = [chunk(b"fmt ", fmt_payload(channels, bits=bits))]
    chunks += [chunk(cid, pcm if cid == b"data" else body) for cid, body in parts]
    return wav(chunks), pcm


def _chunks(blob: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 12
    while pos + 8 <= len(blob):
        cid, size = blob[pos:pos + 4], struct.unpack_from("<I", blob, pos + 4)[0]
        out.append((cid, blob[pos + 8:pos + 8 + size]))
        pos += 8 + size + size % 2
    assert pos == len(blob), "chunks must tile the file exactly"
    return out


def _foreign(blob: bytes) -> list[tuple[bytes, bytes]]:
    return [(cid, body) for cid, body in _chunks(blob)
            if cid not in OURS and not (cid == b"LIST" and body[:4] == b"INFO")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts(), st.text(TEXT, max_size=300), st.lists(st.text(TEXT, min_size=1, max_size=12), max_size=5))
def test_any_valid_layout_stays_valid_and_keeps_audio_and_foreign_chunks(layout, description, keywords):
    blob, pcm = layout
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.wav"
        path.write_bytes(blob)
        for rec in (sample_record(), sample_record(Description=description.strip() or "d",
                                                   Keywords=[k.strip() or "k" for k in keywords])):
            riff.write(path, rec)
            out = path.read_bytes()
            assert struct.unpack_from("<I", out, 4)[0] == len(out) - 8
            assert _foreign(out) == [(c, b) for c, b in _foreign(blob)]
            offset, length = riff.audio_span(path)
            assert out[offset:offset + length] == pcm
            with open(path, "rb") as f:
                assert walk(f).notes == ()
            back = riff.read(path)
            assert back.CatID == "DOORWood"
        assert back.Description == (description.strip() or "d")
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["p.wav"]


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_written_readably(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.wav"
        path.write_bytes(wav([chunk(b"fmt ", fmt_payload()), chunk(b"data", bytes(20))]))
        riff.write(path, sample_record(Description=text, FXName=text, Keywords=[text]))
        back = riff.read(path)     # control characters are dropped, never a broken chunk
        assert back.CatID == "DOORWood"
