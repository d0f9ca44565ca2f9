"""Embedded tags: foreign frames survive, including in RF64 where mutagen cannot open the file."""

import io

from mutagen.id3 import ID3, TXXX
from mutagen.wave import WAVE

import audiogen
from conftest import run_sidecar
from sidecar import formats
from sidecar.metadata import riff
from sidecar.metadata.record import Record


def _foreign_id3() -> bytes:
    tag = ID3()
    tag.add(TXXX(encoding=3, desc="RecorderTake", text=["Scene 4 take 2"]))
    buf = io.BytesIO()
    tag.save(buf, v2_version=4, padding=lambda info: 0)
    return buf.getvalue()


def test_rf64_keeps_id3_frames_written_by_another_tool(tmp_path):
    path = audiogen.write(str(tmp_path / "lib" / "long take"), "rf64")
    riff.write(path, Record(), id3=_foreign_id3())
    assert run_sidecar("scan", str(tmp_path / "lib"), "--db", str(tmp_path / "i.db")).returncode == 0
    found = formats.RF64.existing_id3(path)
    assert found is not None
    assert str(found.getall("TXXX:RecorderTake")[0].text[0]) == "Scene 4 take 2"
    assert found.getall("TXXX:Keywords")                          # ours beside it
    # the odd-sized chunk another tool left trips libsndfile's RF64 reader; ffmpeg decodes it
    shown = run_sidecar("show", path, "--json", "--db", str(tmp_path / "i.db"))
    assert '"BitDepth": 24' in shown.stdout


def test_wav_keeps_id3_frames_written_by_another_tool(tmp_path):
    path = audiogen.write(str(tmp_path / "lib" / "take"), "wav16")
    f = WAVE(path)
    f.add_tags()
    f.tags.add(TXXX(encoding=3, desc="RecorderTake", text=["Scene 1"]))
    f.save()
    assert run_sidecar("scan", str(tmp_path / "lib"), "--db", str(tmp_path / "i.db")).returncode == 0
    after = WAVE(path).tags
    assert str(after.getall("TXXX:RecorderTake")[0].text[0]) == "Scene 1"
    assert after.getall("TXXX:SFX_SIDECAR")


def test_record_round_trips_through_every_tag_family(tmp_path):
    rec = Record(Description="Porte en bois qui grince — 木のドア 🚪", Keywords=["door", "wood", "ドア"],
                 CatID="DOORWood", Category="DOORS", SubCategory="WOOD", FXName="Creak", Designer="JD",
                 Library="Field 2026", Notes="", Microphone="MKH 416")
    for kind in ("mp3", "flac", "ogg", "opus", "m4a", "aiff", "wav16"):
        path = audiogen.write(str(tmp_path / kind), kind)
        fmt = {"wav16": "wav"}.get(kind, kind)
        formats.get(fmt).write_tags(path, rec)
        back = formats.get(fmt).read_tags(path)
        assert back.descriptive() == rec.descriptive(), kind
