"""Builders for the RIFF tests: WAVE files assembled chunk by chunk from raw bytes.

Imported by the other test_riff*/test_bext*/test_ixml*/test_info*/test_undo* modules;
the few tests at the bottom check the builders themselves against soundfile.
"""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from sidecar.metadata.record import Provenance, Record

PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")


def fmt_payload(channels: int = 1, rate: int = 48000, bits: int = 16, tag: int = PCM,
                extensible: bool = False, mask: int = 0) -> bytes:
    align = channels * bits // 8
    base = struct.pack("<HHIIHH", EXTENSIBLE if extensible else tag, channels, rate,
                       rate * align, align, bits)
    if not extensible:
        return base + (struct.pack("<H", 0) if tag == FLOAT else b"")
    return base + struct.pack("<HHI", 22, bits, mask) + struct.pack("<H", tag) + _GUID_TAIL


def audio(frames: int = 480, channels: int = 1, bits: int = 16, seed: int = 1,
          float_: bool = False) -> bytes:
    rng = np.random.default_rng(seed)
    if float_:
        dtype = np.float32 if bits == 32 else np.float64
        return (rng.random((frames, channels)) - 0.5).astype(dtype).tobytes()
    return rng.integers(0, 256, frames * channels * bits // 8, dtype=np.uint8).tobytes()


def chunk(cid: bytes, payload: bytes, pad: bool = True) -> bytes:
    out = cid + struct.pack("<I", len(payload)) + payload
    return out + (b"\0" if pad and len(payload) % 2 else b"")


def wav(chunks: list[bytes], form: bytes = b"RIFF", riff_size: int | None = None) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    size = len(body) if riff_size is None else riff_size
    return form + struct.pack("<I", size) + body


def simple_wav(frames: int = 480, channels: int = 1, bits: int = 16, extra: list[bytes] | None = None,
               seed: int = 1) -> bytes:
    return wav([chunk(b"fmt ", fmt_payload(channels, bits=bits)), *(extra or []),
                chunk(b"data", audio(frames, channels, bits, seed))])


def bext_payload(description: bytes = b"", originator: bytes = b"", reference: bytes = b"",
                 date: bytes = b"", time: bytes = b"", time_reference: int = 0, version: int = 1,
                 umid: bytes = b"", loudness: tuple[int, ...] = (0x7FFF,) * 5,
                 history: bytes = b"") -> bytes:
    fixed = struct.pack("<256s32s32s10s8sQH64s5h180s", description, originator, reference,
                        date, time, time_reference, version, umid, *loudness, b"")
    body = fixed + history
    return body + (b"\0" if len(body) % 2 else b"")


RECORDER_IXML = b"""<?xml version="1.0" encoding="UTF-8"?>
<BWFXML>
  <IXML_VERSION>2.10</IXML_VERSION>
  <PROJECT>FOREST DAWN</PROJECT>
  <SCENE>12A</SCENE>
  <TAKE>3</TAKE>
  <TAPE>DAY04</TAPE>
  <NOTE>wind from the east</NOTE>
  <SPEED>
    <NOTE>camera overcranked</NOTE>
    <MASTER_SPEED>24/1</MASTER_SPEED>
    <CURRENT_SPEED>24/1</CURRENT_SPEED>
    <TIMECODE_RATE>24/1</TIMECODE_RATE>
    <TIMECODE_FLAG>NDF</TIMECODE_FLAG>
    <FILE_SAMPLE_RATE>48000</FILE_SAMPLE_RATE>
    <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>0</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>
    <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>172800000</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>
  </SPEED>
  <TRACK_LIST>
    <TRACK_COUNT>2</TRACK_COUNT>
    <TRACK><CHANNEL_INDEX>1</CHANNEL_INDEX><INTERLEAVE_INDEX>1</INTERLEAVE_INDEX><NAME>BOOM</NAME></TRACK>
    <TRACK><CHANNEL_INDEX>2</CHANNEL_INDEX><INTERLEAVE_INDEX>2</INTERLEAVE_INDEX><NAME>LAV</NAME></TRACK>
  </TRACK_LIST>
  <BEXT>
    <BWF_ORIGINATOR>Sound Devices</BWF_ORIGINATOR>
    <BWF_RESERVED>keep me</BWF_RESERVED>
  </BEXT>
  <USER>Microphones=MKH416
Operator=R. Mix
</USER>
  <STEINBERG><ATTR_LIST><ATTR><NAME>MediaLibrary</NAME><VALUE>Field</VALUE></ATTR></ATTR_LIST></STEINBERG>
</BWFXML>
"""


def recorder_wav(channels: int = 2, frames: int = 480, odd_vendor: bool = True) -> bytes:
    """A field recorder's file: bext v1 with timecode, iXML, a vendor chunk after data."""
    bext = bext_payload(b"sTAKE=3\r\nsSCENE=12A\r\n", b"Sound Devices", b"USSDVAA0123456789143015123456789",
                        b"2024-05-01", b"14:30:15", 172800000, 1, bytes(range(32)) + bytes(32),
                        history=b"A=PCM,F=48000,W=24,M=stereo,T=MixPre-6\r\n")
    chunks = [chunk(b"fmt ", fmt_payload(channels, bits=24)), chunk(b"bext", bext),
              chunk(b"iXML", RECORDER_IXML + b"\0"), chunk(b"data", audio(frames, channels, 24))]
    if odd_vendor:
        chunks.append(chunk(b"SMED", b"soundminer-odd"[:13]))
    return wav(chunks)


def sample_record(**over: object) -> Record:
    rec = Record(Description="Heavy wooden door slams shut in a stone hall", Keywords=["door", "slam", "wood"],
                 Category="DOORS", SubCategory="WOOD", CatID="DOORWood", FXName="Door Slam Heavy",
                 Library="Test Library", Designer="Jane Doe", Microphone="MKH 8040",
                 Location="Kraków", Notes="second take is cleaner", URL="https://example.org/x",
                 provenance=Provenance(engine="embedded", model="sfx-tiny", version="1",
                                       time="2026-01-01T00:00:00Z", machine_fields=["CatID", "Keywords"]))
    for k, v in over.items():
        setattr(rec, k, v)
    return rec


def data_bytes(blob: bytes) -> bytes:
    """The data chunk payload of a well-formed RIFF file, by a plain independent scan."""
    pos = 12
    while pos + 8 <= len(blob):
        cid, size = blob[pos:pos + 4], struct.unpack_from("<I", blob, pos + 4)[0]
        if cid == b"data":
            return blob[pos + 8:pos + 8 + size]
        pos += 8 + size + size % 2
    raise AssertionError("no data chunk")


def sha(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def put(tmp: Path, blob: bytes, name: str = "x.wav") -> Path:
    path = tmp / name
    path.write_bytes(blob)
    return path


def test_builders_make_files_soundfile_reads():
    for bits, subtype in ((16, "PCM_16"), (24, "PCM_24")):
        data, rate = sf.read(io.BytesIO(simple_wav(bits=bits, channels=2)), dtype="float32")
        assert data.shape == (480, 2) and rate == 48000
        assert sf.info(io.BytesIO(simple_wav(bits=bits))).subtype == subtype


def test_recorder_file_is_readable_by_soundfile():
    assert sf.info(io.BytesIO(recorder_wav())).channels == 2
