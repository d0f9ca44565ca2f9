"""The bext chunk: versions 0-2, byte limits, fields a person or recorder set kept."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidecar.metadata import riff
from sidecar.metadata.riff.bext import FIXED_SIZE, UNSET, Bext, fit_utf8, merge
from sidecar.metadata.riff.errors import BextError
from test_riff_build import bext_payload, chunk, put, recorder_wav, sample_record, simple_wav


@pytest.mark.parametrize("version", [0, 1, 2])
def test_read_each_version(version):
    data = bext_payload(b"desc", b"orig", b"ref", b"2024-01-02", b"03:04:05", 123456789012,
                        version, b"\x01" * 32, (-2300, 500, -100, -1500, -1800), b"A=PCM\r\n")
    b = Bext.read(data)
    assert (b.description, b.originator, b.originator_reference) == ("desc", "orig", "ref")
    assert (b.origination_date, b.origination_time, b.time_reference) == ("2024-01-02", "03:04:05", 123456789012)
    assert b.coding_history == "A=PCM\r\n"
    assert b.umid == b"\x01" * 32 + bytes(32)       # kept as read, whatever the version
    assert b.fields()["UMID"] == ("" if version == 0 else (b"\x01" * 32 + bytes(32)).hex())
    assert b.to_bytes() == data                      # a v0/v1 chunk's UMID and loudness bytes survive
    if version == 2:
        assert (b.loudness_value, b.loudness_range, b.max_true_peak_level) == (-23.0, 5.0, -1.0)
        assert (b.max_momentary_loudness, b.max_short_term_loudness) == (-15.0, -18.0)
    else:   # v0/v1 may hold garbage there: the version gates the fields
        assert b.loudness_value is None and b.max_true_peak_level is None


def test_round_trip_is_byte_exact_for_a_written_chunk():
    data = bext_payload(b"d", b"o", b"r", b"2024-01-02", b"03:04:05", 7, 2, b"\x02" * 64,
                        (-2300, UNSET, UNSET, UNSET, UNSET), b"A=PCM,F=48000\r\n")
    assert Bext.read(data).to_bytes() == data


def test_unset_loudness_written_as_7fff():
    data = Bext(version=2, loudness_value=-20.0).to_bytes()
    assert struct.unpack_from("<5h", data, 412) == (-2000, UNSET, UNSET, UNSET, UNSET)
    assert len(data) == FIXED_SIZE


def test_description_cut_at_utf8_boundary():
    text = "é" * 200                              # 400 bytes
    data = Bext(description=text).to_bytes()
    raw = data[:256].rstrip(b"\0")
    assert len(raw) == 256 and raw.decode("utf-8") == "é" * 128
    text = "a" + "€" * 100                        # 1 + 300 bytes: the cut falls inside a character
    raw = Bext(description=text).to_bytes()[:256].rstrip(b"\0")
    assert raw.decode("utf-8") == "a" + "€" * 85 and len(raw) == 256


@given(st.text(max_size=300))
def test_fit_utf8_never_splits_a_character(text):
    cut = fit_utf8(text, 256)
    assert len(cut) <= 256
    assert text.startswith(cut.decode("utf-8"))


def test_merge_keeps_recorder_fields_and_sets_loudness_only_when_unset():
    old = Bext(description="old", originator="Sound Devices", originator_reference="USSD1",
               origination_date="2024-05-01", origination_time="14:30:15", time_reference=99,
               version=1, umid=b"\x05" * 64, coding_history="A=PCM\r\n", size=700)
    new = merge(old, sample_record(Loudness=-20.0, TruePeak=-0.5))
    assert new.description == sample_record().Description
    assert (new.originator, new.originator_reference, new.time_reference) == ("Sound Devices", "USSD1", 99)
    assert (new.origination_date, new.origination_time, new.umid) == ("2024-05-01", "14:30:15", b"\x05" * 64)
    assert new.coding_history == "A=PCM\r\n"
    assert new.version == 2 and new.loudness_value == -20.0 and new.max_true_peak_level == -0.5
    assert len(new.to_bytes()) == 700               # the old size is kept when the content fits
    measured = merge(Bext(version=2, loudness_value=-30.0), sample_record(Loudness=-20.0))
    assert measured.loudness_value == -30.0        # a measurement already there is not replaced


def test_empty_originator_takes_the_designer():
    assert merge(None, sample_record()).originator == "Jane Doe"


def test_latin1_text_is_read():
    b = Bext.read(bext_payload(b"caf\xe9", b"M\xfcller"))
    assert (b.description, b.originator) == ("café", "Müller")


@pytest.mark.parametrize("payload, reason", [
    (b"\0" * 100, "shorter than the 602-byte fixed part"),
    (bext_payload(version=7), "bext version 7"),
    (bext_payload(b"bad\x01bytes"), "control byte 0x01"),
])
def test_invalid_bext_is_refused_with_a_reason(payload, reason):
    with pytest.raises(BextError, match=reason):
        Bext.read(payload)


def test_file_with_recorder_bext_keeps_it_after_write(tmp_path):
    path = put(tmp_path, recorder_wav())
    riff.write(path, sample_record())
    fields = riff.read_chunks(path)["bext"]
    assert fields["Originator"] == "Sound Devices"
    assert fields["OriginatorReference"] == "USSDVAA0123456789143015123456789"
    assert fields["OriginationDate"] == "2024-05-01" and fields["OriginationTime"] == "14:30:15"
    assert fields["TimeReference"] == 172800000 and fields["Version"] == 1
    assert fields["UMID"] == bytes(range(32)).hex() + "00" * 32
    assert fields["CodingHistory"] == "A=PCM,F=48000,W=24,M=stereo,T=MixPre-6\r\n"
    assert fields["Description"] == "sTAKE=3\r\nsSCENE=12A\r\n"   # a recorder's key lines are never replaced


def test_description_newlines_become_crlf(tmp_path):
    path = put(tmp_path, simple_wav(extra=[chunk(b"bext", bext_payload())]))
    riff.write(path, sample_record(Description="line one\nline two"))
    assert riff.read_chunks(path)["bext"]["Description"] == "line one\r\nline two"


def test_recorder_key_lines_are_not_a_description(tmp_path):
    from sidecar.metadata.riff.bext import recorder_text, to_record
    assert recorder_text("sTAKE=3\r\nsSCENE=12A\r\nzSPEED=024.000-ND\r\n")
    assert not recorder_text("Door slam, TAKE=3 was best")
    assert to_record(Bext(description="sTAKE=3\r\n")).Description == ""
    path = put(tmp_path, recorder_wav())
    assert riff.read(path).Description == ""
