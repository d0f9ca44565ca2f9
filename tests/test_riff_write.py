"""Writing bext/iXML/INFO keeps every audio byte and every foreign chunk, in place or by rewrite."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest
import soundfile as sf
from mutagen.id3 import ID3, TIT2
from mutagen.wave import WAVE

from sidecar.metadata import riff
from sidecar.metadata.riff.chunks import walk
from test_riff_build import (audio, chunk, data_bytes, fmt_payload, put, recorder_wav, sample_record,
                             sha, simple_wav, wav)

CASES = {
    "pcm16": lambda: simple_wav(bits=16),
    "pcm24": lambda: simple_wav(bits=24, channels=2),
    "pcm32": lambda: simple_wav(bits=32),
    "float32": lambda: wav([chunk(b"fmt ", fmt_payload(1, bits=32, tag=3)), chunk(b"fact", struct.pack("<I", 480)),
                            chunk(b"data", audio(480, 1, 32, float_=True))]),
    "float64": lambda: wav([chunk(b"fmt ", fmt_payload(2, bits=64, tag=3)),
                            chunk(b"data", audio(480, 2, 64, float_=True))]),
    "extensible-5.1": lambda: wav([chunk(b"fmt ", fmt_payload(6, bits=24, extensible=True, mask=0x3F)),
                                   chunk(b"data", audio(480, 6, 24))]),
    "multichannel-8": lambda: wav([chunk(b"fmt ", fmt_payload(8, bits=16, extensible=True)),
                                   chunk(b"data", audio(480, 8, 16))]),
    "odd-chunks": lambda: wav([chunk(b"fmt ", fmt_payload(1, bits=8)), chunk(b"abcd", b"xyz"),
                               chunk(b"data", audio(481, 1, 8)), chunk(b"efgh", b"q")]),
    "odd-data-24bit-mono": lambda: wav([chunk(b"fmt ", fmt_payload(1, bits=24)), chunk(b"data", audio(5, 1, 24)),
                                        chunk(b"_PMX", b"<x/>")]),
    "recorder": recorder_wav,
    "soundfile": None,
}


def _soundfile_wav(tmp_path):
    path = tmp_path / "sf.wav"
    sf.write(path, np.zeros((100, 2), dtype="float32") + 0.25, 44100, subtype="FLOAT")
    return path.read_bytes()


def _foreign(blob: bytes) -> list[tuple[bytes, bytes]]:
    """Every chunk the writer must keep, with its bytes, in order."""
    out, pos = [], 12
    while pos + 8 <= len(blob):
        cid, size = blob[pos:pos + 4], struct.unpack_from("<I", blob, pos + 4)[0]
        if cid not in (b"bext", b"iXML", b"FLLR", b"JUNK") and not (cid == b"LIST" and blob[pos + 8:pos + 12] == b"INFO"):
            out.append((cid, blob[pos + 8:pos + 8 + size]))
        pos += 8 + size + size % 2
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_audio_and_foreign_chunks_survive_every_write(tmp_path, case):
    blob = _soundfile_wav(tmp_path) if CASES[case] is None else CASES[case]()
    path = put(tmp_path, blob)
    audio_before, foreign = sha(data_bytes(blob)), _foreign(blob)
    first = riff.write(path, sample_record())
    second = riff.write(path, sample_record(Description="a longer description " * 5, Keywords=["a"] * 3))
    assert not first.in_place and second.in_place
    after = path.read_bytes()
    assert sha(data_bytes(after)) == audio_before
    assert _foreign(after) == foreign
    struct_size = struct.unpack_from("<I", after, 4)[0]
    assert struct_size == len(after) - 8
    rec = riff.read(path)
    assert rec.Description.startswith("a longer description") and rec.CatID == "DOORWood"


def test_in_place_update_reads_and_writes_no_audio_byte(tmp_path, monkeypatch):
    path = put(tmp_path, simple_wav(frames=200_000))
    riff.write(path, sample_record())
    offset, length = riff.audio_span(path)
    real_open = open
    touched = []

    class Spy:
        def __init__(self, f):
            self._f = f

        def __getattr__(self, name):
            return getattr(self._f, name)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return self._f.__exit__(*a)

        def read(self, n=-1):
            pos = self._f.tell()
            got = self._f.read(n)
            if pos < offset + length and pos + len(got) > offset:
                touched.append(("read", pos, len(got)))
            return got

        def write(self, b):
            pos = self._f.tell()
            if pos < offset + length and pos + len(b) > offset:
                touched.append(("write", pos, len(b)))
            return self._f.write(b)

    def spy_open(file, *a, **k):
        f = real_open(file, *a, **k)
        return Spy(f) if str(file) == str(path) else f

    monkeypatch.setattr("builtins.open", spy_open)
    result = riff.write(path, sample_record(Description="changed"))
    monkeypatch.undo()
    assert result.in_place
    # only the 1 MiB probes at each end of the audio are read to check the update; nothing is written
    assert not [t for t in touched if t[0] == "write"]
    assert sum(n for _, _, n in touched) <= 4 * 1024 * 1024


def test_rewrite_reserves_filler_before_data_and_second_write_is_in_place(tmp_path):
    path = put(tmp_path, simple_wav())
    riff.write(path, sample_record())
    ids = [c.id for c in walk(open(path, "rb")).chunks]
    assert ids == ["fmt ", "bext", "iXML", "LIST", "FLLR", "data"]
    size = path.stat().st_size
    assert riff.write(path, sample_record(Notes="n" * 5000)).in_place
    assert path.stat().st_size == size


def test_growth_past_filler_rewrites_once_more(tmp_path):
    path = put(tmp_path, simple_wav())
    riff.write(path, sample_record())
    big = sample_record(Notes="n" * 100_000)
    assert not riff.write(path, big).in_place
    assert riff.read(path).Notes == "n" * 100_000
    assert riff.write(path, big).in_place


def test_existing_metadata_after_data_is_updated_there(tmp_path):
    blob = wav([chunk(b"fmt ", fmt_payload()), chunk(b"data", audio()), chunk(b"iXML", b"<BWFXML/>")])
    path = put(tmp_path, blob)
    first = riff.write(path, sample_record())
    assert not first.in_place        # a new bext belongs before data: one rewrite
    ids = [c.id for c in walk(open(path, "rb")).chunks]
    assert ids.index("bext") < ids.index("data")


def test_id3_chunk_written_and_read_by_mutagen(tmp_path):
    path = put(tmp_path, simple_wav())
    tag = ID3()
    tag.add(TIT2(encoding=3, text=["Door Slam Heavy"]))
    import io
    buf = io.BytesIO()
    tag.save(buf, v2_version=4, padding=lambda info: 0)
    riff.write(path, sample_record(), id3=buf.getvalue())
    assert str(WAVE(path).tags["TIT2"]) == "Door Slam Heavy"
    assert riff.write(path, sample_record(), id3=buf.getvalue()).in_place
    assert [c.id for c in walk(open(path, "rb")).chunks].count("id3 ") == 1


def test_existing_id3_kept_when_no_tag_given(tmp_path):
    blob = simple_wav(extra=[chunk(b"ID3 ", b"ID3\x04\x00\x00\x00\x00\x00\x00")])
    path = put(tmp_path, blob)
    riff.write(path, sample_record())
    assert b"ID3 \n\x00\x00\x00ID3\x04" in path.read_bytes()


def test_riff_size_that_lies_is_written_right(tmp_path):
    for lie in (12, 0xFFFFFF00 - 1):
        blob = bytearray(simple_wav())
        struct.pack_into("<I", blob, 4, lie)
        path = put(tmp_path, bytes(blob))
        riff.write(path, sample_record())
        out = path.read_bytes()
        assert struct.unpack_from("<I", out, 4)[0] == len(out) - 8
        assert data_bytes(out) == data_bytes(bytes(blob))


def test_missing_pad_byte_is_tolerated_and_added_on_rewrite(tmp_path):
    blob = wav([chunk(b"fmt ", fmt_payload()), chunk(b"odd ", b"abc", pad=False), chunk(b"data", audio())])
    path = put(tmp_path, blob)
    assert any("pad byte" in n for n in riff.read_chunks(path)["notes"])
    riff.write(path, sample_record())
    assert b"odd \x03\x00\x00\x00abc\x00" in path.read_bytes()
    assert riff.read_chunks(path)["notes"] == []


def _rf64(data_size: int, extra_before: list[bytes] = (), sparse_path=None) -> bytes:
    head_chunks = [chunk(b"fmt ", fmt_payload(2, bits=24)), *extra_before]
    body = b"".join(head_chunks)
    data_off = 12 + 36 + len(body) + 8
    riff_size = data_off + data_size + data_size % 2 - 8
    ds64 = struct.pack("<QQQI", riff_size, data_size, data_size // 6, 0)
    return (b"RF64" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + chunk(b"ds64", ds64) + body
            + b"data" + struct.pack("<I", 0xFFFFFFFF))


def test_rf64_small_rewrite_keeps_ds64_and_audio(tmp_path):
    pcm = audio(1000, 2, 24)
    path = put(tmp_path, _rf64(len(pcm)) + pcm)
    before = riff.audio_span(path)
    result = riff.write(path, sample_record())
    assert not result.in_place
    out = path.read_bytes()
    assert out[:4] == b"RF64"
    offset, length = riff.audio_span(path)
    assert length == before[1] and out[offset:offset + length] == pcm
    riff_size = struct.unpack_from("<Q", out, 20)[0]
    assert riff_size == len(out) - 8
    assert riff.write(path, sample_record(Description="again")).in_place
    assert riff.read(path).Description == "again"


@pytest.mark.slow
def test_rf64_sparse_file_over_4_gib_updates_in_place(tmp_path):
    data_size = (5 << 30) + 6
    filler = chunk(b"FLLR", bytes(65528))
    head = _rf64(data_size, [filler])
    path = tmp_path / "big.wav"
    marks = {}
    with open(path, "wb") as f:
        f.write(head)
        data_off = len(head)
        for where in (0, 1 << 32, data_size - 64):
            marks[where] = os.urandom(64)
            f.seek(data_off + where)
            f.write(marks[where])
        f.truncate(data_off + data_size)
    result = riff.write(path, sample_record())
    assert result.in_place
    assert riff.audio_span(path) == (data_off, data_size)
    with open(path, "rb") as f:
        for where, blob in marks.items():
            f.seek(data_off + where)
            assert f.read(64) == blob
    assert path.stat().st_size == data_off + data_size
    rec = riff.read(path)
    assert rec.CatID == "DOORWood" and rec.Duration == pytest.approx(data_size / 6 / 48000)


def test_riff_growing_past_the_limit_becomes_rf64(tmp_path, monkeypatch):
    from sidecar.metadata.riff import writer
    pcm = audio(30000, 2, 16)
    path = put(tmp_path, wav([chunk(b"fmt ", fmt_payload(2, bits=16)), chunk(b"data", pcm)]))
    monkeypatch.setattr(writer, "RIFF_LIMIT", len(pcm) + 1000)   # stands for 4 GiB
    assert not riff.write(path, sample_record()).in_place
    out = path.read_bytes()
    assert out[:4] == b"RF64" and out[12:16] == b"ds64"
    riff_size, data_size = struct.unpack_from("<QQ", out, 20)
    assert riff_size == len(out) - 8 and data_size == len(pcm)
    offset, length = riff.audio_span(path)
    assert out[offset:offset + length] == pcm and out[offset - 4:offset] == b"\xff\xff\xff\xff"
    info = sf.info(str(path))
    assert info.frames == 30000 and info.channels == 2
    assert riff.read(path).CatID == "DOORWood"
