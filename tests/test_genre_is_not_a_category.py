"""A music genre another tool wrote (INFO IGNR, ID3 TCON, Vorbis GENRE, MP4 ©gen) is not the
file's UCS Category: it stays where it is, untouched, and the file gets its own CatID."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import TCON
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.wave import WAVE

import audiogen
from conftest import run_sidecar
from sidecar.metadata.merge import Ownership
from sidecar.metadata.record import Record
from sidecar.metadata.riff import info
from sidecar.vocabulary.tables import catids


def _wav_with_ignr(path: str) -> str:
    """A WAV as another tool leaves it: a LIST/INFO holding only IGNR, before `data`."""
    blob = open(path, "rb").read()
    text = b"Blues\0"
    payload = b"INFO" + b"IGNR" + struct.pack("<I", len(text)) + text
    at = blob.index(b"data")
    blob = blob[:at] + b"LIST" + struct.pack("<I", len(payload)) + payload + blob[at:]
    open(path, "wb").write(blob[:4] + struct.pack("<I", len(blob) - 8) + blob[8:])
    return path


def _wav_genre(path: str) -> str:
    """The one genre of the WAV, read by exiftool from its INFO and ID3 both (one file, one genre)."""
    out = subprocess.run(["exiftool", "-j", "-a", "-G1", "-Genre", path], capture_output=True, text=True, check=True)
    genres = {v for k, v in json.loads(out.stdout)[0].items() if k.endswith(":Genre")}
    assert len(genres) == 1, genres
    return genres.pop()


def _mp3(path):
    f = MP3(path)
    f.add_tags()
    f.tags.add(TCON(encoding=3, text=["Blues"]))
    f.save()


def _flac(path):
    f = FLAC(path)
    f["GENRE"] = ["Blues"]
    f.save()


def _m4a(path):
    f = MP4(path)
    f["\xa9gen"] = ["Blues"]
    f.save()


def _wav_id3(path):
    f = WAVE(path)
    f.add_tags()
    f.tags.add(TCON(encoding=3, text=["Blues"]))
    f.save()


#: how another tool left the genre -> (format, tagger, the file's genre as an independent reader sees it)
GENRE = {
    "wav INFO": ("wav16", _wav_with_ignr, _wav_genre),
    "wav ID3": ("wav16", _wav_id3, _wav_genre),
    "mp3": ("mp3", _mp3, lambda p: str(MP3(p).tags["TCON"].text[0])),
    "flac": ("flac", _flac, lambda p: FLAC(p)["GENRE"][0]),
    "m4a": ("m4a", _m4a, lambda p: MP4(p)["\xa9gen"][0]),
}


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool reads the WAV's INFO independently")
@pytest.mark.parametrize("case", list(GENRE))
def test_a_genre_stays_and_the_file_gets_its_catid(tmp_path, case):
    kind, tag, genre_of = GENRE[case]
    path = audiogen.write(str(tmp_path / "lib" / "tone"), kind, audiogen.tone(1000, 3))
    tag(path)
    db = str(tmp_path / "i.db")
    result = run_sidecar("scan", str(tmp_path / "lib"), "--json", "--db", db)
    assert result.returncode == 0, result.stderr
    shown = json.loads(run_sidecar("show", path, "--json", "--db", db).stdout)
    row = shown["index"]
    assert row["CatID"], row                                     # the file's own CatID
    assert row["Category"] == catids()[row["CatID"]].Category    # and the Category that goes with it
    assert shown["containers"]["tags"]["Category"] == row["Category"]
    assert genre_of(path) == "Blues"                             # the genre, untouched


def test_info_genre_is_not_read_as_category():
    assert info.to_record(info.Info((("IGNR", "Blues"), ("INAM", "Take 3")))).Category == ""


@pytest.mark.parametrize("owner", [Ownership(), Ownership(policy="replace"), Ownership(everything=True),
                                   Ownership(mine=frozenset({"Category"}))])
def test_a_genre_another_tool_wrote_stays_whatever_the_policy(owner):
    old = info.Info((("IGNR", "Blues"),))
    assert info.merge(old, Record(Category="DOORS"), owner).as_dict()["IGNR"] == "Blues"


def test_the_category_the_service_mirrored_follows_the_record():
    old = info.Info((("IGNR", "DOORS"),))
    assert info.merge(old, Record(Category="BEEPS"), Ownership(ours={"Category": "DOORS"})).as_dict()["IGNR"] == "BEEPS"
    assert info.merge(info.Info(), Record(Category="BEEPS")).as_dict()["IGNR"] == "BEEPS"     # an empty genre gets it
