"""What a person wrote wins; the service fills gaps, marks its own work, and can undo all of it."""

import json
import shutil

import mutagen
import pytest
from mutagen.flac import FLAC

import audiogen
from conftest import run_sidecar


def _flac_with_human_tags(path):
    audiogen.write(str(path), "flac", audiogen.tone())     # heard surely: a telephone tone
    f = FLAC(str(path) + ".flac")
    f["DESCRIPTION"] = ["Steam valve, long hiss — recorded at the Gare du Nord"]
    f["KEYWORDS"] = ["valve, steam, 蒸気"]
    f.save()
    return str(path) + ".flac"


def _scan(lib, db, *extra):
    result = run_sidecar("scan", str(lib), "--json", "--db", db, *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _row(db, path):
    out = run_sidecar("show", path, "--json", "--db", db)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["index"]


def test_human_fields_survive_and_keywords_are_appended(tmp_path):
    lib = tmp_path / "lib"
    path = _flac_with_human_tags(lib / "valve")
    db = str(tmp_path / "i.db")
    _scan(lib, db)
    tags = FLAC(path)
    assert tags["DESCRIPTION"] == ["Steam valve, long hiss — recorded at the Gare du Nord"]
    keywords = tags["KEYWORDS"][0].split(", ")
    assert keywords[:3] == ["valve", "steam", "蒸気"]             # the person's first, as written
    assert "dial tone" in keywords                                  # the classifier's appended
    row = _row(db, path)
    assert "Description" in row["human_fields"] and "Keywords" in row["human_fields"]
    assert "Description" not in row["provenance"]["machine_fields"]
    assert row["CatID"]                                             # an empty field was filled


def test_fill_empty_leaves_human_keywords_alone(tmp_path):
    lib = tmp_path / "lib"
    path = _flac_with_human_tags(lib / "valve")
    _scan(lib, str(tmp_path / "i.db"), "--policy", "fill-empty")
    assert FLAC(path)["KEYWORDS"] == ["valve, steam, 蒸気"]


def test_replace_is_explicit_and_overwrites(tmp_path):
    lib = tmp_path / "lib"
    path = _flac_with_human_tags(lib / "valve")
    _scan(lib, str(tmp_path / "i.db"), "--policy", "replace")
    assert FLAC(path)["DESCRIPTION"] != ["Steam valve, long hiss — recorded at the Gare du Nord"]


def test_an_edit_after_the_scan_is_human_and_kept(tmp_path):
    lib = tmp_path / "lib"
    audiogen.write(str(lib / "tone"), "flac")
    path = str(lib / "tone.flac")
    db = str(tmp_path / "i.db")
    _scan(lib, db)
    machine_desc = FLAC(path)["DESCRIPTION"][0]
    f = FLAC(path)
    f["DESCRIPTION"] = ["Test oscillator, 440 Hz, for calibration"]
    f.save()
    second = _scan(lib, db)
    assert second["classified"] == 0 and second["reindexed"] == 1    # audio unchanged: not classified again
    row = _row(db, path)
    assert row["Description"] == "Test oscillator, 440 Hz, for calibration"
    assert "Description" in row["human_fields"]
    hits = json.loads(run_sidecar("search", "calibration", "--json", "--db", db).stdout)
    assert [h["path"] for h in hits] == [path]
    assert machine_desc != row["Description"]


@pytest.mark.parametrize("kind", ["wav16", "rf64", "aiff", "flac", "mp3", "ogg", "opus", "m4a"])
def test_undo_gives_every_file_back_byte_for_byte(tmp_path, kind):
    lib = tmp_path / "lib"
    path = audiogen.write(str(lib / f"take {kind}"), kind)
    original = open(path, "rb").read()
    db = str(tmp_path / "i.db")
    _scan(lib, db)
    assert open(path, "rb").read() != original                       # something was written
    result = run_sidecar("undo", "--all", "--json", "--db", db)
    assert result.returncode == 0, result.stderr
    assert open(path, "rb").read() == original


def test_undo_removes_the_sidecars_it_created_but_keeps_a_persons_edits(tmp_path):
    lib = tmp_path / "lib"
    first = audiogen.write(str(lib / "one"), "wav16")
    second = audiogen.write(str(lib / "two"), "flac")
    db = str(tmp_path / "i.db")
    _scan(lib, db)
    doc_one, doc_two = lib / "one.wav.xml", lib / "two.flac.xml"
    assert doc_one.exists() and doc_two.exists()
    # a person corrects the description in the second sidecar
    text = doc_two.read_text(encoding="utf-8")
    import re
    text = re.sub(r"<Description[^>]*>[^<]*</Description>", "<Description>Kick drum, tight</Description>", text)
    doc_two.write_text(text, encoding="utf-8")
    result = run_sidecar("undo", "--all", "--json", "--db", db)
    assert result.returncode == 1, result.stderr          # one thing was kept, and said so
    outcome = {r["path"]: r for r in json.loads(result.stdout)}
    assert outcome[str(doc_one)]["status"] == "removed" and not doc_one.exists()
    assert outcome[str(doc_two)]["status"] == "kept" and "Description" in outcome[str(doc_two)]["reason"]
    assert doc_two.exists()
    assert outcome[first]["status"] == "restored" and outcome[second]["status"] == "restored"


def test_each_container_keeps_the_words_a_person_wrote_there(tmp_path):
    """bext says one thing, INFO another, both a person's: neither overwrites the other."""
    import shutil
    import subprocess

    from sidecar.metadata import riff
    lib = tmp_path / "lib"
    lib.mkdir()
    path = str(lib / "gate.wav")
    subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=1",
                    "-c:a", "pcm_s24le", "-write_bext", "1", "-metadata", "comment=Person comment",
                    "-metadata", "description=Person description", path], check=True)
    before = riff.read_chunks(path)
    assert before["bext"]["Description"] == "Person description" and before["INFO"]["ICMT"] == "Person comment"
    _scan(lib, str(tmp_path / "i.db"))
    after = riff.read_chunks(path)
    assert after["bext"]["Description"] == "Person description"
    assert after["INFO"]["ICMT"] == "Person comment"
    assert after["iXML"]["USER/DESCRIPTION"] == "Person description"   # an empty container is filled
