"""`import-sidecars` and `apply` over a real index and real sound files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from click.testing import CliRunner
from lxml import etree

from sidecar.metadata import sidecar_xml as sx
from sidecar.metadata.record import Label, Provenance, Record

store_mod = pytest.importorskip("sidecar.index.store", reason="the index store is not built yet")
fingerprint_mod = pytest.importorskip("sidecar.library.fingerprint", reason="fingerprints are not built yet")


def make_wav(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = np.random.default_rng(seed).uniform(-0.5, 0.5, 4800).astype("float32")
    soundfile.write(str(path), noise, 48000, subtype="PCM_16")
    return path


def machine_record(description: str) -> Record:
    return Record(Description=description, Keywords=["door"], CatID="DOORWood",
                  provenance=Provenance(engine="embedded", model="descriptors", version="1",
                                        time="2024-05-01T12:00:00Z", labels=[Label("Door", 0.8, "/m/02dgv")],
                                        machine_fields=["Description", "Keywords", "CatID"]))


def write_sidecar(audio: Path, description: str = "Door") -> Path:
    identity = sx.Identity(audio.name, audio.stat().st_size, fingerprint_mod.audio_fingerprint(str(audio)),
                           str(audio))
    return sx.write(audio, machine_record(description), identity)


def edit_description(sidecar: Path, text: str) -> None:
    tree = etree.parse(str(sidecar))
    tree.find(f"{{{sx.SIDECAR_NS}}}Metadata/{{{sx.SIDECAR_NS}}}Description").text = text
    sidecar.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "index.db"
    monkeypatch.setenv("SIDECAR_DB", str(path))
    return path


def invoke(command, args):
    from sidecar.cli import sidecars
    return CliRunner().invoke(getattr(sidecars, command), args, catch_exceptions=False)


def rows_of(result) -> list[dict]:
    return json.loads(result.stdout)


# -- import-sidecars ---------------------------------------------------------------------

def test_import_brings_sidecars_into_the_index(tmp_path, db):
    lib = tmp_path / "lib"
    door = make_wav(lib / "door.wav", 1)
    edit_description(write_sidecar(door), "Barn door, rusty hinge — ドア")
    write_sidecar(make_wav(lib / "sub" / "gate.wav", 2), "Gate")

    result = invoke("import_sidecars", ["--json", str(lib)])
    assert result.exit_code == 0, result.stderr
    rows = rows_of(result)
    assert [(Path(r["path"]).name, r["status"], r["human_fields"]) for r in rows] == [
        ("door.wav", "imported", ["Description"]), ("gate.wav", "imported", [])]

    store = store_mod.Store.open(db)
    row = store.get(str(door))
    assert row.record.Description == "Barn door, rusty hinge — ドア"
    assert row.record.CatID == "DOORWood" and row.record.provenance.labels[0].label == "Door"
    assert row.human_fields == ["Description"]
    assert row.fingerprint == fingerprint_mod.audio_fingerprint(str(door))
    assert [f.path for f in store.search("rusty")] == [str(door)]


def test_moved_sound_is_matched_by_fingerprint(tmp_path, db):
    lib = tmp_path / "lib"
    door = make_wav(lib / "old" / "door.wav", 3)
    sidecar = write_sidecar(door)
    make_wav(lib / "new" / "decoy.wav", 4)
    moved = lib / "new" / "deeper" / "door renamed.wav"
    moved.parent.mkdir(parents=True)
    shutil.move(door, moved)

    result = invoke("import_sidecars", ["--json", "--root", str(lib), str(sidecar)])
    assert result.exit_code == 0, result.stderr
    [row] = rows_of(result)
    assert row["status"] == "moved" and row["path"] == str(moved)
    assert store_mod.Store.open(db).get(str(moved)).record.Description == "Door"


def test_bad_and_orphaned_sidecars_fail_alone(tmp_path, db):
    lib = tmp_path / "lib"
    write_sidecar(make_wav(lib / "good.wav", 5))
    hostile = lib / "evil.wav.xml"
    hostile.write_bytes(b'<!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]><x>&x;</x>')
    orphan = write_sidecar(make_wav(lib / "gone.wav", 6))
    (lib / "gone.wav").unlink()

    result = invoke("import_sidecars", ["--json", str(lib)])
    assert result.exit_code == 1
    by_name = {Path(r["sidecar"]).name: r for r in rows_of(result)}
    assert by_name["good.wav.xml"]["status"] == "imported"
    assert by_name["evil.wav.xml"]["status"] == "failed"
    assert "DOCTYPE" in by_name["evil.wav.xml"]["reason"]
    assert by_name["gone.wav.xml"]["status"] == "failed"
    assert "fingerprint" in by_name["gone.wav.xml"]["reason"]
    assert f"{hostile}: document has a DOCTYPE" in result.stderr
    assert orphan.exists() and hostile.read_bytes().startswith(b"<!DOCTYPE")


def test_import_from_a_mirror(tmp_path, db):
    lib, mirror = tmp_path / "lib", tmp_path / "mirror"
    door = make_wav(lib / "porch" / "door.wav", 11)
    identity = sx.Identity(door.name, door.stat().st_size, fingerprint_mod.audio_fingerprint(str(door)), str(door))
    target = sx.write(door, machine_record("Door"), identity, mirror=(lib, mirror))
    assert target == mirror / "porch" / "door.wav.xml"
    result = invoke("import_sidecars", ["--json", "--mirror", str(lib), str(mirror), str(mirror)])
    assert result.exit_code == 0, result.stderr
    assert [(r["path"], r["status"]) for r in rows_of(result)] == [(str(door), "imported")]


def test_text_output_and_usage_error(tmp_path, db):
    lib = tmp_path / "lib"
    write_sidecar(make_wav(lib / "door.wav", 7))
    result = invoke("import_sidecars", [str(lib)])
    assert result.exit_code == 0
    assert result.stdout.startswith("imported\t")
    assert invoke("import_sidecars", []).exit_code == 2


# -- apply ---------------------------------------------------------------------------------

def embedded_description(path: Path) -> str:
    from sidecar.metadata.riff.reader import read
    return read(path).Description


def test_apply_writes_human_edits_into_the_file(tmp_path, db):
    door = make_wav(tmp_path / "door.wav", 8)
    audio_before = soundfile.read(str(door), dtype="int16")[0]
    sidecar = write_sidecar(door)
    edit_description(sidecar, "Screen door, aluminium — café 🚪")

    dry = invoke("apply", ["--json", "--dry-run", str(door)])
    assert dry.exit_code == 0 and rows_of(dry)[0]["status"] == "would-apply"
    assert embedded_description(door) != "Screen door, aluminium — café 🚪"

    result = invoke("apply", ["--json", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    [row] = rows_of(result)
    assert row["status"] == "applied" and row["human_fields"] == ["Description"]
    assert embedded_description(door) == "Screen door, aluminium — café 🚪"
    assert np.array_equal(soundfile.read(str(door), dtype="int16")[0], audio_before)
    indexed = store_mod.Store.open(db).get(str(door))
    assert indexed.record.Description == "Screen door, aluminium — café 🚪"
    assert "Description" in indexed.human_fields

    # A rescan with a new machine record keeps the person's words.
    identity = sx.read(sidecar)[1]
    sx.write(door, machine_record("Door slam"), identity)
    assert sx.read(sidecar)[0].Description == "Screen door, aluminium — café 🚪"


def test_apply_without_edits_changes_nothing(tmp_path, db):
    door = make_wav(tmp_path / "door.wav", 9)
    write_sidecar(door)
    before = door.read_bytes()
    result = invoke("apply", ["--json", str(door)])
    assert result.exit_code == 0
    assert rows_of(result)[0]["status"] == "unchanged"
    assert door.read_bytes() == before


def test_apply_reports_a_failed_write(tmp_path, db, monkeypatch):
    from sidecar.errors import FileError
    import sidecar.pipeline.write as pipeline_write

    door = make_wav(tmp_path / "door.wav", 10)
    edit_description(write_sidecar(door), "Edited")

    def refuse(path, record, *args, **kwargs):
        raise FileError(path, "write", "read-only file system")

    monkeypatch.setattr(pipeline_write, "write_embedded", refuse)
    result = invoke("apply", [str(door)])
    assert result.exit_code == 1
    assert "read-only file system" in result.stderr
