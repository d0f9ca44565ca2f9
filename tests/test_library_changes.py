"""A library that changes between scans: moves, deletions, links, read-only files, new indexes."""

import json
import os

from mutagen.flac import FLAC

import audiogen
from conftest import run_sidecar


def _scan(lib, db, *extra, code=0):
    result = run_sidecar("scan", str(lib), "--json", "--db", db, *extra)
    assert result.returncode == code, result.stderr
    return json.loads(result.stdout)


def _paths(db, query="path:lib"):
    result = run_sidecar("search", query, "--json", "--db", db, "--limit", "100")
    assert result.returncode == 0, result.stderr
    return sorted(h["path"] for h in json.loads(result.stdout))


def test_a_moved_file_is_recognised_not_classified_again(tmp_path):
    lib = tmp_path / "lib"
    path = audiogen.write(str(lib / "hum"), "wav16", audiogen.tone(60, 1.0))
    db = str(tmp_path / "i.db")
    _scan(lib, db)
    (lib / "Kept").mkdir()
    moved = str(lib / "Kept" / "mains hum.wav")
    os.rename(path, moved)
    second = _scan(lib, db)
    assert second["classified"] == 0 and second["reindexed"] == 1
    assert any("moved from" in n["note"] for n in second["notes"])
    assert _paths(db) == [moved]                       # the old row is gone, the new one holds the labels
    assert (lib / "Kept" / "mains hum.wav.xml").exists() and not (lib / "hum.wav.xml").exists()
    undo = run_sidecar("undo", moved, "--json", "--db", db)   # undo follows the file
    assert undo.returncode == 0, undo.stderr + undo.stdout


def test_deleted_files_leave_the_index(tmp_path):
    lib = tmp_path / "lib"
    keep = audiogen.write(str(lib / "keep"), "wav16")
    gone = audiogen.write(str(lib / "gone"), "flac", audiogen.noise(0.5))
    db = str(tmp_path / "i.db")
    _scan(lib, db)
    os.unlink(gone)
    second = _scan(lib, db)
    assert second["removed_from_index"] == [gone]
    assert _paths(db) == [keep]


def test_a_new_index_keeps_what_the_service_wrote_as_its_own(tmp_path):
    lib = tmp_path / "lib"
    path = audiogen.write(str(lib / "DOORWood_Creak Slow_JD_MyLib"), "flac", audiogen.noise(0.5))
    _scan(lib, str(tmp_path / "a.db"))
    second = _scan(lib, str(tmp_path / "b.db"))           # another machine, another index
    assert second["classified"] == 1
    doc = (lib / "DOORWood_Creak Slow_JD_MyLib.flac.xml").read_text(encoding="utf-8")
    assert 'CatID source="machine"' in doc or "<CatID source=\"machine\"" in doc
    row = json.loads(run_sidecar("show", path, "--json", "--db", str(tmp_path / "b.db")).stdout)["index"]
    assert row["human_fields"] == []
    assert row["ShortID"] == "JD" and row["Designer"] == "JD" and row["Library"] == "MyLib"


def test_links_are_never_replaced_by_copies(tmp_path):
    lib = tmp_path / "lib"
    master = audiogen.write(str(lib / "masters" / "door"), "wav16")
    (lib / "favs").mkdir()
    os.symlink("../masters/door.wav", lib / "favs" / "door.wav")
    os.link(master, lib / "hard.wav")
    doc = _scan(lib, str(tmp_path / "i.db"))
    assert os.path.islink(lib / "favs" / "door.wav")
    assert os.stat(master).st_nlink == 2 and os.path.samefile(master, lib / "hard.wav")
    assert any("symbolic link" in reason for reason in doc["skipped_reasons"])
    assert {os.path.basename(n["path"]) for n in doc["notes"]} == {"door.wav", "hard.wav"}
    assert all("hard links" in n["note"] for n in doc["notes"])


def test_a_read_only_file_is_refused_with_one_line(tmp_path):
    lib = tmp_path / "lib"
    path = audiogen.write(str(lib / "master"), "wav16")
    before = open(path, "rb").read()
    os.chmod(path, 0o444)
    doc = _scan(lib, str(tmp_path / "i.db"), code=1)
    assert "read-only" in doc["failures"][0]["reason"]
    assert open(path, "rb").read() == before


def _flac_tagged(path: str, **fields) -> str:
    """A FLAC with Vorbis comments a person wrote."""
    audiogen.write(path, "flac", audiogen.noise(0.5))
    f = FLAC(path + ".flac")
    for key, value in fields.items():
        f[key] = value
    f.save()
    return path + ".flac"


def _category(path: str) -> tuple:
    f = FLAC(path)
    return f["CATID"], f["CATEGORY"], f["SUBCATEGORY"]


def test_a_ucs_name_does_not_override_a_persons_catid(tmp_path):
    lib = tmp_path / "lib"
    path = _flac_tagged(str(lib / "DOORWood_Renamed Pump_JD_Lib"),
                        CATID="MACHPump", CATEGORY="MACHINES", SUBCATEGORY="PUMP")
    _scan(lib, str(tmp_path / "i.db"))
    assert _category(path) == (["MACHPump"], ["MACHINES"], ["PUMP"])


def test_exit_codes_and_untouched_indexes(tmp_path):
    db = tmp_path / "typo.db"
    assert run_sidecar("scan", str(tmp_path / "no such dir"), "--db", str(db)).returncode == 2
    assert run_sidecar("status", "--db", str(db)).returncode == 2
    assert run_sidecar("show", str(tmp_path), "--db", str(db)).returncode == 2
    lib = tmp_path / "lib"
    audiogen.write(str(lib / "a"), "wav16")
    assert run_sidecar("scan", str(lib), "--dry-run", "--db", str(db)).returncode == 0
    assert not db.exists()                                   # a dry run touches nothing
    assert run_sidecar("scan", str(lib), "--max-url", "notaurl", "--db", str(db)).returncode == 2
    nothing = _scan(lib, str(tmp_path / "i.db"), "--no-tags", "--no-riff", "--no-sidecar")
    assert nothing["classified"] == 1 and nothing["written"] == 0
    (tmp_path / "zero.wav").write_bytes(b"")
    assert run_sidecar("show", str(tmp_path / "zero.wav"), "--db", str(db)).returncode == 1


def test_max_url_alone_selects_max(tmp_path, serve_max):
    lib = tmp_path / "lib"
    audiogen.write(str(lib / "a"), "wav16")
    doc = _scan(lib, str(tmp_path / "i.db"), "--max-url", serve_max.url)
    assert doc["classified"] == 1
    row = json.loads(run_sidecar("show", str(lib / "a.wav"), "--json", "--db", str(tmp_path / "i.db")).stdout)
    assert row["index"]["provenance"]["engine"] == "max"


def test_a_persons_catid_brings_its_own_category(tmp_path):
    lib = tmp_path / "lib"
    path = _flac_tagged(str(lib / "x"), CATID="DOORWood")
    _scan(lib, str(tmp_path / "i.db"))
    assert _category(path) == (["DOORWood"], ["DOORS"], ["WOOD"])


def test_replace_marks_what_it_replaced_as_the_services(tmp_path):
    lib = tmp_path / "lib"
    path = _flac_tagged(str(lib / "gate"), DESCRIPTION="A person's words")
    db = str(tmp_path / "i.db")
    _scan(lib, db, "--policy", "replace")
    row = json.loads(run_sidecar("show", path, "--json", "--db", db).stdout)["index"]
    assert "Description" not in row["human_fields"]
    doc = (lib / "gate.flac.xml").read_text(encoding="utf-8")
    assert '<Description source="machine"' in doc
