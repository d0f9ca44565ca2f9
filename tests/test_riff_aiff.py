"""AIFF/AIFC: NAME/AUTH/ANNO and the ID3 chunk written, audio and foreign chunks kept."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess

import numpy as np
import pytest
import soundfile as sf
from mutagen.aiff import AIFF
from mutagen.id3 import ID3, TIT2

from sidecar.errors import ContainerError
from sidecar import formats
from sidecar.metadata.journal import Journal
from sidecar.metadata.riff import aiff
from test_riff_build import put, sample_record


def _aiff(tmp_path, subtype="PCM_16", fmt="AIFF", extra=b""):
    path = tmp_path / "x.aiff"
    sf.write(path, (np.random.default_rng(3).random((700, 2)) - 0.5).astype("float32"), 44100,
             subtype=subtype, format=fmt)
    blob = path.read_bytes()
    if extra:      # foreign chunks before SSND, as other tools place them
        at = blob.index(b"SSND")
        blob = blob[:at] + extra + blob[at:]
        blob = blob[:4] + struct.pack(">I", len(blob) - 8) + blob[8:]
    path.write_bytes(blob)
    return path


def _ssnd(blob: bytes) -> bytes:
    at = blob.index(b"SSND")
    size = struct.unpack(">I", blob[at + 4:at + 8])[0]
    return blob[at + 8:at + 8 + size]


def _id3() -> bytes:
    tag = ID3()
    tag.add(TIT2(encoding=3, text=["Door Slam Heavy"]))
    buf = io.BytesIO()
    tag.save(buf, v2_version=4, padding=lambda info: 0)
    return buf.getvalue()


FOREIGN = b"(c) " + struct.pack(">I", 5) + b"me 24\0" + b"APPL" + struct.pack(">I", 8) + b"abcdDATA"


@pytest.mark.parametrize("subtype, fmt", [("PCM_16", "AIFF"), ("PCM_24", "AIFF"), ("FLOAT", "AIFF")])
def test_text_chunks_and_id3_written_audio_kept(tmp_path, subtype, fmt):
    path = _aiff(tmp_path, subtype, fmt, FOREIGN)
    before = path.read_bytes()
    assert before[8:12] == (b"AIFC" if subtype == "FLOAT" else b"AIFF")
    aiff.write(path, sample_record(Description="Désc of a door"), id3=_id3())
    after = path.read_bytes()
    assert _ssnd(after) == _ssnd(before)
    assert FOREIGN in after
    assert struct.unpack(">I", after[4:8])[0] == len(after) - 8
    rec = aiff.read(path)
    assert (rec.TrackTitle, rec.Designer, rec.Description) == ("Door Slam Heavy", "Jane Doe", "Désc of a door")
    assert str(AIFF(path).tags["TIT2"]) == "Door Slam Heavy"
    assert sf.info(str(path)).frames == 700
    aiff.write(path, sample_record(Description="second"), id3=_id3())
    again = path.read_bytes()
    assert again.count(b"ANNO") == 1 and again.count(b"ID3 ") == 1
    assert aiff.read(path).Description == "second"


def test_audio_span_points_at_the_samples(tmp_path):
    path = _aiff(tmp_path)
    offset, length = aiff.audio_span(path)
    assert length == 700 * 2 * 2
    data = path.read_bytes()[offset:offset + length]
    assert np.frombuffer(data, ">i2").size == 1400


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed (make install)")
def test_exiftool_reads_the_text_chunks(tmp_path):
    path = _aiff(tmp_path)
    aiff.write(path, sample_record(Description="Désc"), id3=_id3())
    tags = json.loads(subprocess.run(["exiftool", "-j", "-G1", str(path)], capture_output=True,
                                     text=True, check=True).stdout)[0]
    assert tags["AIFF:Name"] == "Door Slam Heavy"
    assert tags["AIFF:Author"] == "Jane Doe"
    assert tags["AIFF:Annotation"] == "Désc"
    assert tags["ID3v2_4:Title"] == "Door Slam Heavy"


def test_undo_round_trip(tmp_path):
    path = _aiff(tmp_path, extra=FOREIGN)
    original = path.read_bytes()
    with Journal.at(tmp_path / "j.db") as journal:
        journal.record_original(path, formats.AIFF)
        aiff.write(path, sample_record(), id3=_id3())
        assert path.read_bytes() != original
        assert journal.undo(path).ok
    assert path.read_bytes() == original


@pytest.mark.parametrize("blob, reason", [
    (b"FORM\0\0\0\x04AIFF", "no 'COMM' chunk"),
    (b"RIFF\0\0\0\x04WAVE", "not an AIFF/AIFC file"),
    (b"FORM\0\0\0\x20AIFFCOMM\0\0\0\xff", "truncated"),
])
def test_malformed_aiff_gets_a_reason_and_stays_identical(tmp_path, blob, reason):
    path = put(tmp_path, blob, "bad.aiff")
    with pytest.raises(ContainerError, match=reason):
        aiff.write(path, sample_record())
    with pytest.raises(ContainerError, match=reason):
        aiff.read(path)
    assert path.read_bytes() == blob
    assert [p.name for p in tmp_path.iterdir()] == ["bad.aiff"]
