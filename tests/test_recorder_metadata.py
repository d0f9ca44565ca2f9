"""What recorders and DAWs wrote stays: bext key lines, iXML blocks, INFO and ID3 frames.

The fixtures follow the published layouts (EBU Tech 3285 bext, the iXML specification's
BWFXML blocks, RIFF INFO, ID3v2 in an `id3 ` chunk) the way Sound Devices, Zoom and a DAW
export fill them. wavinfo, an independent reader, checks every field before and after a
scan, and after `sidecar undo`.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct

import numpy as np
import pytest
import wavinfo
from lxml import etree
from mutagen.id3 import COMM, ID3, TIT2, TXXX

from conftest import run_sidecar
from test_riff_build import audio, bext_payload, chunk, fmt_payload, wav

KEY_LINES = (b"sSPEED=023.976-ND\r\nsTAKE=03\r\nsUBITS=$00000000\r\nsSWVER=7.50\r\nsPROJECT=FOREST DAWN\r\n"
             b"sSCENE=12A\r\nsFILENAME=12A-T03.WAV\r\nsTAPE=DAY04\r\nsTRK1=BOOM\r\nsTRK2=LAV\r\n")
UMID = bytes.fromhex("060A2B340101010501010D4313000000") + bytes(range(16, 64))
TIME_REFERENCE = 1_245_000_000       # 7 h 12 min at 48 kHz, past 2^32 / 4 to exercise HIGH and LOW
HISTORY = b"A=PCM,F=48000,W=24,M=stereo,T=Sound Devices 833; VERSION=7.50\r\n"


def _bext_block(description: bytes, originator: str, version: int, umid_in_mirror: bool = True) -> str:
    umid = f"<BWF_UMID>{UMID.hex().upper()}</BWF_UMID>" if umid_in_mirror else ""
    return f"""<BEXT>
    <BWF_DESCRIPTION>{description.decode()}</BWF_DESCRIPTION>
    <BWF_ORIGINATOR>{originator}</BWF_ORIGINATOR>
    <BWF_ORIGINATOR_REFERENCE>USSDVAA0123456789143015123456789</BWF_ORIGINATOR_REFERENCE>
    <BWF_ORIGINATION_DATE>2024-05-01</BWF_ORIGINATION_DATE>
    <BWF_ORIGINATION_TIME>14:30:15</BWF_ORIGINATION_TIME>
    <BWF_TIME_REFERENCE_LOW>{TIME_REFERENCE & 0xFFFFFFFF}</BWF_TIME_REFERENCE_LOW>
    <BWF_TIME_REFERENCE_HIGH>{TIME_REFERENCE >> 32}</BWF_TIME_REFERENCE_HIGH>
    <BWF_VERSION>{version}</BWF_VERSION>
    {umid}
    <BWF_CODING_HISTORY>{HISTORY.decode()}</BWF_CODING_HISTORY>
  </BEXT>"""


def _ixml(bext_block: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<BWFXML>
  <IXML_VERSION>2.10</IXML_VERSION>
  <PROJECT>FOREST DAWN</PROJECT>
  <SCENE>12A</SCENE>
  <TAKE>03</TAKE>
  <TAPE>DAY04</TAPE>
  <CIRCLED>TRUE</CIRCLED>
  <NOTE>wind from the east</NOTE>
  <SPEED>
    <MASTER_SPEED>24000/1001</MASTER_SPEED>
    <CURRENT_SPEED>24000/1001</CURRENT_SPEED>
    <TIMECODE_RATE>24000/1001</TIMECODE_RATE>
    <TIMECODE_FLAG>NDF</TIMECODE_FLAG>
    <FILE_SAMPLE_RATE>48000</FILE_SAMPLE_RATE>
    <AUDIO_BIT_DEPTH>24</AUDIO_BIT_DEPTH>
    <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>{TIME_REFERENCE >> 32}</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>
    <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>{TIME_REFERENCE & 0xFFFFFFFF}</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>
  </SPEED>
  <TRACK_LIST>
    <TRACK_COUNT>2</TRACK_COUNT>
    <TRACK><CHANNEL_INDEX>1</CHANNEL_INDEX><INTERLEAVE_INDEX>1</INTERLEAVE_INDEX><NAME>BOOM</NAME><FUNCTION>MID</FUNCTION></TRACK>
    <TRACK><CHANNEL_INDEX>2</CHANNEL_INDEX><INTERLEAVE_INDEX>2</INTERLEAVE_INDEX><NAME>LAV</NAME></TRACK>
  </TRACK_LIST>
  <FILE_SET><TOTAL_FILES>1</TOTAL_FILES><FAMILY_UID>USSDVAA0123456789</FAMILY_UID><FILE_SET_INDEX>A</FILE_SET_INDEX></FILE_SET>
  {bext_block}
  <USER>
    <DESCRIPTION>hand-held pass, hiss on LAV</DESCRIPTION>
    <OPERATOR>R. Mix</OPERATOR>
  </USER>
  <HISTORY><ORIGINAL_FILENAME>12A-T03.WAV</ORIGINAL_FILENAME><PARENT_FILENAME/></HISTORY>
</BWFXML>
""".encode()


def _noise_bytes(frames: int, channels: int) -> bytes:
    return audio(frames, channels, 24, seed=7)


def _tone_bytes(frames: int, channels: int) -> bytes:
    """A 440 Hz tone, 24-bit: heard surely (a telephone tone), so keywords are written for it
    (random noise is heard too vaguely to give any)."""
    t = np.arange(frames) / 48000
    x = np.round(0.4 * np.sin(2 * np.pi * 440 * t) * (2 ** 23 - 1)).astype("<i4")
    return np.repeat(x[:, None], channels, axis=1).reshape(-1).view(np.uint8).reshape(-1, 4)[:, :3].tobytes()


def sound_devices() -> bytes:
    """bext v1 with key lines, UMID and time reference; an iXML document whose BEXT mirrors it."""
    bext = bext_payload(KEY_LINES, b"Sound Devices", b"USSDVAA0123456789143015123456789", b"2024-05-01",
                        b"14:30:15", TIME_REFERENCE, 1, UMID, history=HISTORY)
    return wav([chunk(b"fmt ", fmt_payload(2, bits=24)), chunk(b"bext", bext),
                chunk(b"iXML", _ixml(_bext_block(KEY_LINES, "Sound Devices", 1))),
                chunk(b"data", _tone_bytes(24000, 2))])


ZOOM_LINES = b"zSPEED=25.000ND\r\nzTAKE=001\r\nzSCENE=SC04\r\nzTRK1=MIC-1\r\nzTRK2=MIC-2\r\nzNOTE=\r\n"


def zoom_v0() -> bytes:
    """A version 0 bext (no UMID by version) whose iXML BEXT block still carries the UMID."""
    bext = bext_payload(ZOOM_LINES, b"ZOOM F8", b"ZOOM_F8_0001", b"2024-05-01", b"14:30:15",
                        TIME_REFERENCE, 0, UMID, history=b"A=PCM,F=48000,W=24,M=stereo,T=ZOOM F8\r\n")
    return wav([chunk(b"fmt ", fmt_payload(2, bits=24)), chunk(b"bext", bext),
                chunk(b"iXML", _ixml(_bext_block(ZOOM_LINES, "ZOOM F8", 0))),
                chunk(b"data", _tone_bytes(24000, 2))])


def _id3_chunk() -> bytes:
    tag = ID3()
    tag.add(TIT2(encoding=3, text=["Reel 2 stem"]))
    tag.add(COMM(encoding=3, lang="eng", desc="", text=["stem print, reel 2"]))
    tag.add(TXXX(encoding=3, desc="ProToolsSession", text=["FOREST_R2"]))
    buf = io.BytesIO()
    tag.save(buf, v2_version=3, padding=lambda info: 0)
    return buf.getvalue()


def _info(*items: tuple[bytes, bytes]) -> bytes:
    body = b"INFO"
    for cid, text in items:
        raw = text + b"\0"
        body += cid + struct.pack("<I", len(raw)) + raw + (b"\0" if len(raw) % 2 else b"")
    return body


def daw_export() -> bytes:
    """A DAW's export: bext with an empty Description, INFO and an ID3 tag of its own."""
    bext = bext_payload(b"", b"Pro Tools", b"aaaaPT0001", b"2024-06-02", b"10:00:00", 0, 1)
    info = _info((b"ICMT", b"Stem print from reel 2"), (b"IART", b"R. Mix"), (b"ISFT", b"Pro Tools"))
    return wav([chunk(b"fmt ", fmt_payload(2, bits=24)), chunk(b"bext", bext), chunk(b"LIST", info),
                chunk(b"data", _noise_bytes(24000, 2)), chunk(b"id3 ", _id3_chunk())])


FIXTURES = {"sound_devices.wav": sound_devices, "zoom_f8.wav": zoom_v0, "daw_export.wav": daw_export}
LOUDNESS_KEYS = {"loudness_value", "loudness_range", "max_true_peak", "max_momentary_loudness",
                 "max_shortterm_loudness"}


def _read(path) -> dict:
    info = wavinfo.WavInfoReader(str(path))
    out = {"bext": {k: v for k, v in info.bext.to_dict().items() if k not in LOUDNESS_KEYS},
           "info": {k: v for k, v in (info.info.to_dict() if info.info else {}).items() if v},
           "ixml": info.ixml.to_dict() if info.ixml and info.ixml.raw_xml.find("TRACK_LIST") is not None
           else {}, "blocks": {}, "mirror": {}}
    if info.ixml:
        root = info.ixml.raw_xml.getroot() if hasattr(info.ixml.raw_xml, "getroot") else info.ixml.raw_xml
        for block in ("SPEED", "TRACK_LIST", "FILE_SET", "HISTORY", "NOTE", "CIRCLED"):
            el = root.find(block)
            if el is not None:
                out["blocks"][block] = etree.tostring(el, method="c14n")
        bext = root.find("BEXT")
        out["mirror"] = {el.tag: (el.text or "").strip() for el in bext} if bext is not None else {}
        out["user"] = {el.tag: (el.text or "").strip() for el in root.find("USER")} if root.find("USER") is not None else {}
    return out


def _id3(path) -> ID3:
    blob = open(path, "rb").read()
    at = blob.index(b"id3 ")
    size = struct.unpack_from("<I", blob, at + 4)[0]
    return ID3(io.BytesIO(blob[at + 8: at + 8 + size]))


@pytest.fixture
def scanned(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    files = {}
    for name, make in FIXTURES.items():
        path = lib / name
        path.write_bytes(make())
        files[name] = (path, path.read_bytes(), _read(path))
    db = str(tmp_path / "i.db")
    result = run_sidecar("scan", str(lib), "--json", "--db", db)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["classified"] == 3
    return files, db


def _mirror_agrees(after: dict) -> None:
    bext, mirror = after["bext"], after["mirror"]
    assert mirror["BWF_DESCRIPTION"] == bext["description"].replace("\r\n", "\n").strip()   # XML keeps LF
    assert mirror["BWF_ORIGINATOR"] == bext["originator"]
    assert int(mirror["BWF_TIME_REFERENCE_LOW"]) + (int(mirror["BWF_TIME_REFERENCE_HIGH"]) << 32) \
        == bext["time_reference"]


@pytest.mark.parametrize("name", ["sound_devices.wav", "zoom_f8.wav"])
def test_recorder_fields_survive_a_scan_and_undo(scanned, name):
    files, db = scanned
    path, original, before = files[name]
    after = _read(path)
    assert after["bext"] == before["bext"]                      # key lines, UMID, time reference, history
    assert after["bext"]["description"].startswith(("sSPEED=", "zSPEED="))
    assert after["ixml"] == before["ixml"]                      # project, scene, take, tape, tracks
    assert after["blocks"] == before["blocks"]                  # SPEED, TRACK_LIST, FILE_SET, HISTORY
    for tag, value in before["mirror"].items():                 # the BEXT block: nothing lost
        assert after["mirror"][tag] == value, tag
    _mirror_agrees(after)
    assert after["user"]["DESCRIPTION"] == "hand-held pass, hiss on LAV"      # a person's USER value
    assert after["user"]["OPERATOR"] == "R. Mix"
    assert after["user"]["CATID"] and after["user"]["KEYWORDS"]               # empty elements filled
    assert path.read_bytes() != original
    result = run_sidecar("undo", str(path), "--json", "--db", db)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == original
    assert _read(path) == before


def test_a_daw_export_keeps_its_info_and_id3_and_gets_the_empty_fields(scanned):
    files, db = scanned
    path, original, before = files["daw_export.wav"]
    after = _read(path)
    for key, value in before["info"].items():
        assert after["info"][key] == value, key                # ICMT, IART, ISFT as the DAW wrote them
    assert after["info"].get("genre") or after["info"].get("keywords")        # empty ones filled
    assert after["bext"]["description"]                        # an empty bext Description is filled
    assert {k: v for k, v in after["bext"].items() if k != "description"} == \
        {k: v for k, v in before["bext"].items() if k != "description"}
    _mirror_agrees(after)                                      # the new BEXT block mirrors the chunk
    tag = _id3(path)
    assert str(tag.getall("TIT2")[0].text[0]) == "Reel 2 stem"
    assert str(tag.getall("COMM::eng")[0].text[0]) == "stem print, reel 2"
    assert str(tag.getall("TXXX:ProToolsSession")[0].text[0]) == "FOREST_R2"
    assert tag.getall("TXXX:CatID")                            # the service's own frames were added
    assert run_sidecar("undo", str(path), "--json", "--db", db).returncode == 0
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(original).digest()
