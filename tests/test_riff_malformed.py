"""A generated corpus of malformed WAVs: one clear reason each, the file untouched, no hang."""

from __future__ import annotations

import signal
import struct

import pytest

from sidecar.errors import ContainerError
from sidecar.metadata import riff
from test_riff_build import audio, bext_payload, chunk, fmt_payload, put, sample_record, sha, simple_wav, wav

FMT = chunk(b"fmt ", fmt_payload())
DATA = chunk(b"data", audio())


def _truncated():
    return simple_wav()[:-100]


def _size_past_end():
    return wav([FMT, b"abcd" + struct.pack("<I", 1 << 30) + b"xx", DATA])


def _riff_size_zero():
    return b"RIFF" + struct.pack("<I", 0) + simple_wav()[8:]


def _rf64_without_ds64():
    return b"RF64" + struct.pack("<I", 0xFFFFFFFF) + simple_wav()[8:]


def _bad_header_inside():
    return wav([FMT, b"\x00\x01\x02\x03" + struct.pack("<I", 4) + b"abcd", DATA])


CORPUS = {
    "empty file": (b"", "too short for a RIFF header"),
    "truncated header": (b"RIFF\x10\x00", "too short for a RIFF header"),
    "not riff": (b"OggS" + bytes(40), "not a RIFF/RF64/BW64 file"),
    "not wave": (b"RIFF" + struct.pack("<I", 4) + b"AVI ", "not WAVE"),
    "truncated": (_truncated(), "truncated: chunk 'data'"),
    "chunk size past the end": (_size_past_end(), "truncated: chunk 'abcd'"),
    "missing data": (wav([FMT]), "no 'data' chunk"),
    "missing fmt": (wav([DATA]), "no 'fmt' chunk"),
    "two bext chunks": (wav([FMT, chunk(b"bext", bext_payload()), chunk(b"bext", bext_payload()), DATA]),
                        "2 bext chunks"),
    "two data chunks": (wav([FMT, DATA, DATA]), "2 data chunks"),
    "two iXML chunks": (wav([FMT, chunk(b"iXML", b"<BWFXML/>"), chunk(b"iXML", b"<BWFXML/>"), DATA]),
                        "2 iXML chunks"),
    "empty iXML": (wav([FMT, chunk(b"iXML", b""), DATA]), "iXML chunk is empty"),
    "iXML of NULs": (wav([FMT, chunk(b"iXML", bytes(64)), DATA]), "iXML chunk is empty"),
    "huge iXML": (wav([FMT, chunk(b"iXML", b"<BWFXML>" + b" " * (17 << 20) + b"</BWFXML>"), DATA]),
                  "more than the 16 MiB limit"),
    "iXML not XML": (wav([FMT, chunk(b"iXML", b"PROJECT=x; SCENE=y"), DATA]), "not well-formed XML"),
    "iXML unclosed": (wav([FMT, chunk(b"iXML", b"<BWFXML><USER>"), DATA]), "not well-formed XML"),
    "iXML other root": (wav([FMT, chunk(b"iXML", b"<xmp/>"), DATA]), "not <BWFXML>"),
    "bext too short": (wav([FMT, chunk(b"bext", b"hello"), DATA]), "shorter than the 602-byte"),
    "bext invalid bytes": (wav([FMT, chunk(b"bext", bext_payload(b"\x07\x08\x1b[31m")), DATA]),
                           "control byte 0x07"),
    "bext bad version": (wav([FMT, chunk(b"bext", bext_payload(version=300)), DATA]), "bext version 300"),
    "riff size zero": (_riff_size_zero(), "RIFF size is 0"),
    "rf64 without ds64": (_rf64_without_ds64(), "lacks the ds64 chunk"),
    "garbage chunk header": (_bad_header_inside(), "not a chunk header"),
    "fmt too short": (wav([chunk(b"fmt ", b"\x01\x00"), DATA]), "fmt chunk is 2 bytes"),
    "info overrun": (wav([FMT, chunk(b"LIST", b"INFO" + b"INAM" + struct.pack("<I", 99) + b"x"), DATA]),
                     "runs past the end"),
}


@pytest.fixture
def no_hang():
    """Fail a test that runs for more than 10 s instead of hanging the run."""
    def stop(*_):
        raise TimeoutError("malformed input made the reader hang")
    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_malformed_file_gets_one_clear_reason_and_stays_identical(tmp_path, name, no_hang):
    blob, reason = CORPUS[name]
    path = put(tmp_path, blob)
    before = sha(blob)
    for call in (lambda: riff.read(path), lambda: riff.read_chunks(path),
                 lambda: riff.write(path, sample_record())):
        with pytest.raises(ContainerError, match=reason) as info:
            call()
        assert "\n" not in str(info.value)
    assert sha(path.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.wav"]    # no temporary file left


def test_audio_span_refuses_malformed_files_too(tmp_path):
    with pytest.raises(ContainerError, match="no 'data' chunk"):
        riff.audio_span(put(tmp_path, wav([FMT])))


def test_trailing_garbage_after_the_riff_end_is_tolerated_and_kept(tmp_path):
    blob = simple_wav() + b"\xff\xfe\x00garbage"
    path = put(tmp_path, blob)
    assert any("not chunks" in n for n in riff.read_chunks(path)["notes"])
    riff.write(path, sample_record())
    assert path.read_bytes().endswith(b"\xff\xfe\x00garbage")
