"""Written fields read back, field by field, by readers the project did not write:
wavinfo (PyPI), exiftool, mediainfo and ffprobe (Debian)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import wavinfo

from sidecar.metadata import riff
from test_riff_build import put, recorder_wav, sample_record, simple_wav

needs = {tool: pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} is not installed (make install)")
         for tool in ("exiftool", "mediainfo", "ffprobe")}

RECORD = sample_record(Loudness=-23.4, TruePeak=-1.5, TrackTitle="Stone Hall Door")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    path = put(tmp_path_factory.mktemp("interop"), simple_wav(channels=2, bits=24))
    riff.write(path, RECORD)
    return path


@pytest.fixture(scope="module")
def recorder(tmp_path_factory):
    path = put(tmp_path_factory.mktemp("interop"), recorder_wav())
    riff.write(path, RECORD)
    return path


def test_wavinfo_reads_bext(written):
    bext = wavinfo.WavInfoReader(str(written), bext_encoding="utf-8").bext
    assert bext.description == RECORD.Description
    assert bext.originator == "Jane Doe"
    assert bext.version == 2
    assert bext.loudness_value == pytest.approx(-23.4)
    assert bext.max_true_peak == pytest.approx(-1.5)


def test_wavinfo_reads_info(written):
    info = wavinfo.WavInfoReader(str(written), info_encoding="utf-8").info
    assert info.title == "Stone Hall Door"
    assert info.comment == RECORD.Description
    assert info.keywords == "door; slam; wood"
    assert info.genre == "DOORS"
    assert info.artist == "Jane Doe"
    assert info.product == "Test Library"
    assert info.software == "SFX Sidecar"


def test_wavinfo_reads_ixml_user_fields(written):
    ixml = wavinfo.WavInfoReader(str(written)).ixml
    root = ixml.raw_xml.getroot()
    user = root.find("USER")
    assert user.findtext("CATID") == "DOORWood"
    assert user.findtext("CATEGORY") == "DOORS"
    assert user.findtext("SUBCATEGORY") == "WOOD"
    assert user.findtext("FXNAME") == "Door Slam Heavy"
    assert user.findtext("KEYWORDS") == "door, slam, wood"
    assert user.findtext("LOCATION") == "Kraków"
    assert root.find("ASWG").findtext("catId") == "DOORWood"


def test_wavinfo_keeps_reading_recorder_fields(recorder):
    info = wavinfo.WavInfoReader(str(recorder))
    assert info.ixml.project == "FOREST DAWN"
    assert info.ixml.scene == "12A"
    assert info.ixml.take == "3"
    assert [t.name for t in info.ixml.track_list] == ["BOOM", "LAV"]
    assert info.bext.originator == "Sound Devices"
    assert info.bext.time_reference == 172800000
    assert info.bext.coding_history.startswith("A=PCM,F=48000")


def _exiftool(path) -> dict:
    out = subprocess.run(["exiftool", "-j", "-G1", "-a", "-charset", "riff=utf8", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


@needs["exiftool"]
def test_exiftool_reads_every_container(written):
    tags = _exiftool(written)
    expected = {
        "RIFF:Description": RECORD.Description, "RIFF:Originator": "Jane Doe",
        "RIFF:BWFVersion": 2, "RIFF:Title": "Stone Hall Door", "RIFF:Comment": RECORD.Description,
        "RIFF:Keywords": "door; slam; wood", "RIFF:Genre": "DOORS", "RIFF:Artist": "Jane Doe",
        "RIFF:Product": "Test Library", "RIFF:Software": "SFX Sidecar",
        "XML:BwfxmlUserCatid": "DOORWood", "XML:BwfxmlUserCategory": "DOORS",
        "XML:BwfxmlUserSubcategory": "WOOD", "XML:BwfxmlUserFxname": "Door Slam Heavy",
        "XML:BwfxmlUserKeywords": "door, slam, wood", "XML:BwfxmlUserDescription": RECORD.Description,
        "XML:BwfxmlUserLibrary": "Test Library", "XML:BwfxmlUserDesigner": "Jane Doe",
        "XML:BwfxmlUserMicrophone": "MKH 8040", "XML:BwfxmlUserLocation": "Kraków",
        "XML:BwfxmlUserUrl": "https://example.org/x", "XML:BwfxmlUserNotes": "second take is cleaner",
        "XML:BwfxmlAswgCatId": "DOORWood", "XML:BwfxmlAswgFxName": "Door Slam Heavy",
        "XML:BwfxmlBextBwfDescription": RECORD.Description,
        "RIFF:NumChannels": 2, "RIFF:BitsPerSample": 24, "RIFF:SampleRate": 48000,
    }
    for key, value in expected.items():
        assert tags.get(key) == value, key


@needs["exiftool"]
def test_exiftool_sees_recorder_fields_after_write(recorder):
    tags = _exiftool(recorder)
    assert tags["XML:BwfxmlProject"] == "FOREST DAWN"
    assert tags["XML:BwfxmlScene"] == "12A"
    assert tags["XML:BwfxmlSpeedTimecodeFlag"] == "NDF"
    assert tags["XML:BwfxmlTrackListTrackCount"] == 2
    assert tags["RIFF:Originator"] == "Sound Devices"
    assert tags["RIFF:TimeReference"] == 172800000
    assert tags["XML:BwfxmlUserCatid"] == "DOORWood"


@needs["mediainfo"]
def test_mediainfo_reads_info_and_loudness(written):
    out = subprocess.run(["mediainfo", "--Output=JSON", str(written)], capture_output=True, text=True, check=True)
    general, audio = json.loads(out.stdout)["media"]["track"][:2]
    assert general["Title"] == "Stone Hall Door"
    assert general["Genre"] == "DOORS"
    assert general["Keywords"] == "door; slam; wood"
    assert general["Description"] == RECORD.Description
    assert general["Encoded_Application"] == "SFX Sidecar"
    assert audio["extra"]["LoudnessValue"] == "-23.40"
    assert audio["extra"]["MaxTruePeakLevel"] == "-1.50"
    assert audio["Channels"] == "2" and audio["BitDepth"] == "24"


@needs["ffprobe"]
def test_ffprobe_reads_info_and_bext(written):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-of", "json", str(written)],
                         capture_output=True, text=True, check=True)
    tags = json.loads(out.stdout)["format"]["tags"]
    assert tags["title"] == "Stone Hall Door"
    assert tags["genre"] == "DOORS"
    assert tags["comment"] == RECORD.Description
    assert tags["encoded_by"] == "Jane Doe"      # ffmpeg's name for bext Originator
    assert tags["IKEY"] == "door; slam; wood"
    assert tags["album"] == "Test Library" and tags["encoder"] == "SFX Sidecar"
