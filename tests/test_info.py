"""RIFF LIST/INFO: mapped fields written, foreign subchunks kept in order."""

from __future__ import annotations

import struct

import pytest

from sidecar.metadata import riff
from sidecar.metadata.riff.errors import InfoError
from sidecar.metadata.riff.info import Info, merge, to_record
from test_riff_build import chunk, put, sample_record, simple_wav


def _info(*pairs: tuple[bytes, bytes]) -> bytes:
    return b"INFO" + b"".join(chunk(cid, text + b"\0") for cid, text in pairs)


def test_read_and_write_round_trip_byte_exact():
    data = _info((b"INAM", b"Title"), (b"ICOP", b"(c) 2020"), (b"ICRD", b"2020-01-02"))
    info = Info.read(data)
    assert info.items == (("INAM", "Title"), ("ICOP", "(c) 2020"), ("ICRD", "2020-01-02"))
    assert info.to_bytes() == data


def test_merge_sets_mapped_fields_and_keeps_the_rest_in_order():
    old = Info.read(_info((b"ICOP", b"(c) Someone"), (b"INAM", b"old title"), (b"ISFT", b"Recorder OS 2")))
    new = merge(old, sample_record(TrackTitle="", Description="two\nlines"))
    d = new.as_dict()
    assert [cid for cid, _ in new.items][:3] == ["ICOP", "INAM", "ISFT"]
    assert d["ICOP"] == "(c) Someone" and d["ISFT"] == "Recorder OS 2"
    assert d["INAM"] == "Door Slam Heavy"          # FXName when there is no TrackTitle
    assert d["ICMT"] == "two lines"                # ICMT holds no line breaks
    assert d["IKEY"] == "door; slam; wood" and d["IGNR"] == "DOORS"
    assert d["IART"] == "Jane Doe" and d["IPRD"] == "Test Library"


def test_software_set_when_absent():
    assert merge(None, sample_record()).as_dict()["ISFT"] == "SFX Sidecar"


def test_odd_text_gets_a_pad_byte_and_sizes_count_the_nul():
    data = Info((("INAM", "ab"),)).to_bytes()
    assert data == b"INFO" + b"INAM" + struct.pack("<I", 3) + b"ab\0" + b"\0"


def test_to_record_splits_keywords_and_drops_inam_equal_to_fxname(tmp_path):
    rec = to_record(Info((("IKEY", "a; b, c"), ("INAM", "T"))))
    assert rec.Keywords == ["a", "b", "c"] and rec.TrackTitle == "T"
    path = put(tmp_path, simple_wav())
    riff.write(path, sample_record(TrackTitle=""))
    assert riff.read(path).TrackTitle == ""


def test_adtl_list_is_not_touched(tmp_path):
    adtl = chunk(b"LIST", b"adtl" + chunk(b"labl", struct.pack("<I", 1) + b"cue one\0"))
    path = put(tmp_path, simple_wav(extra=[adtl]))
    riff.write(path, sample_record())
    assert adtl in path.read_bytes()
    assert riff.read_chunks(path)["INFO"]["IGNR"] == "DOORS"


@pytest.mark.parametrize("data, reason", [
    (b"INFO" + b"INAM" + struct.pack("<I", 100) + b"short", "runs past the end"),
    (b"INFO" + b"\x01\x02\x03\x04" + struct.pack("<I", 0), "no valid ID"),
])
def test_bad_info_is_refused_with_a_reason(data, reason):
    with pytest.raises(InfoError, match=reason):
        Info.read(data)
