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
import sidecar.formats as fingerprint_mod


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

    store = store_mod.open_store(db)
    row = store.files.get(str(door))
    assert row.record.Description == "Barn door, rusty hinge — ドア"
    assert row.record.CatID == "DOORWood" and row.record.provenance.labels[0].label == "Door"
    assert row.human_fields == ["Description"]
    assert row.fingerprint == fingerprint_mod.audio_fingerprint(str(door))
    assert [f.path for f in store.files.search("rusty")] == [str(door)]


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
    assert store_mod.open_store(db).files.get(str(moved)).record.Description == "Door"


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
    indexed = store_mod.open_store(db).files.get(str(door))
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


def test_apply_reports_a_failed_write(tmp_path, db):
    door = make_wav(tmp_path / "door.wav", 10)
    edit_description(write_sidecar(door), "Edited")
    broken = door.read_bytes()[:30]         # a WAV header cut short: no writer can place the record
    door.write_bytes(broken)
    result = invoke("apply", [str(door)])
    assert result.exit_code == 1
    [line] = [l for l in result.stderr.splitlines() if l.startswith(str(door))]
    assert "write failed" in line, line
    assert door.read_bytes() == broken


def test_apply_and_import_wait_for_the_writer_holding_the_sound(tmp_path, db):
    """A sound the daemon or a scan is writing is left alone, with one line naming it; once the
    claim is let go, the person's edit is applied."""
    door = make_wav(tmp_path / "door.wav", 11)
    sidecar = write_sidecar(door)
    edit_description(sidecar, "Edited while busy")
    before = door.read_bytes()
    store = store_mod.open_store(db)
    try:
        assert store.queue.claim_path(str(door), "daemon:busy", 600)
        for command in ("apply", "import_sidecars"):
            result = invoke(command, [str(door)])
            assert result.exit_code == 1
            [line] = [l for l in result.stderr.splitlines() if l.startswith(str(sidecar)) or l.startswith(str(door))]
            assert "a scan or the daemon is writing it right now" in line, line
        assert door.read_bytes() == before and store.files.get(str(door)) is None
        store.queue.finish(str(door), True)
    finally:
        store.close()
    result = invoke("apply", ["--json", str(door)])
    assert result.exit_code == 0 and rows_of(result)[0]["status"] == "applied"
    assert embedded_description(door) == "Edited while busy"


# -- orphaned sidecars: which sound, if any, is theirs ----------------------------------------

def notes_of(path: Path) -> str:
    return sx.read(path)[0].Notes


def edit_notes(sidecar: Path, text: str) -> None:
    tree = etree.parse(str(sidecar))
    notes = tree.find(f"{{{sx.SIDECAR_NS}}}Metadata/{{{sx.SIDECAR_NS}}}Notes")
    if notes is None:
        notes = etree.SubElement(tree.find(f"{{{sx.SIDECAR_NS}}}Metadata"), f"{{{sx.SIDECAR_NS}}}Notes")
    notes.text = text
    sidecar.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


@pytest.fixture
def orphan_beside_a_copy(tmp_path, db):
    """a.wav and a_copy.wav hold the same audio, each with its sidecar; a.wav is then deleted."""
    lib = tmp_path / "lib"
    a = make_wav(lib / "a.wav", 20)
    copy = lib / "a_copy.wav"
    shutil.copy(a, copy)
    orphan, own = write_sidecar(a, "A"), write_sidecar(copy, "Copy")
    assert invoke("import_sidecars", ["--json", str(lib)]).exit_code == 0
    a.unlink()
    edit_notes(orphan, "NOTE FOR a.wav ONLY")
    return lib, orphan, copy, own


def test_apply_never_takes_a_copy_that_has_its_own_sidecar(orphan_beside_a_copy):
    lib, orphan, copy, own = orphan_beside_a_copy
    before, own_before = copy.read_bytes(), own.read_bytes()
    result = invoke("apply", ["--json", str(orphan)])
    assert result.exit_code == 1
    [row] = rows_of(result)
    assert row["status"] == "failed" and row["path"] == ""
    assert str(copy) in row["reason"] and "sidecar of its own" in row["reason"]
    assert copy.read_bytes() == before and own.read_bytes() == own_before
    assert "NOTE FOR" not in embedded_description(copy)


def test_import_never_takes_a_copy_that_has_its_own_sidecar(orphan_beside_a_copy, db):
    lib, orphan, copy, own = orphan_beside_a_copy
    result = invoke("import_sidecars", ["--json", str(lib)])
    assert result.exit_code == 1
    by_name = {Path(r["sidecar"]).name: r for r in rows_of(result)}
    assert by_name["a_copy.wav.xml"]["status"] == "imported"
    assert by_name["a.wav.xml"]["status"] == "failed"
    assert f"{orphan}: sound not found" in result.stderr and str(copy) in result.stderr
    row = store_mod.open_store(db).files.get(str(copy))
    assert row.record.Notes == "" and row.record.Description == "Copy"
    assert orphan.exists() and notes_of(orphan) == "NOTE FOR a.wav ONLY"


def test_several_candidates_are_ambiguous(tmp_path, db):
    lib = tmp_path / "lib"
    a = make_wav(lib / "a.wav", 21)
    orphan = write_sidecar(a)
    for name in ("b.wav", "sub/c.wav"):
        (lib / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(a, lib / name)
    a.unlink()
    for command in ("import_sidecars", "apply"):
        args = ["--json", str(orphan)]
        if command == "apply":
            edit_notes(orphan, "mine")
            from sidecar.pipeline.sidecars import indexed_file
            store = store_mod.open_store(db)            # apply looks among indexed sounds only
            for copy in (lib / "b.wav", lib / "sub" / "c.wav"):
                store.files.upsert(indexed_file(store, str(copy), Record(), [], ""))
        result = invoke(command, args)
        assert result.exit_code == 1, command
        [row] = rows_of(result)
        assert row["status"] == "failed" and "ambiguous" in row["reason"], command
        [line] = [l for l in result.stderr.splitlines() if l.startswith(str(orphan))]
        assert str(lib / "b.wav") in line and str(lib / "sub" / "c.wav") in line, command
    assert not (lib / "b.wav.xml").exists() and not (lib / "sub" / "c.wav.xml").exists()


def test_a_move_replaces_the_index_row_and_moves_the_sidecar(tmp_path, db):
    from sidecar.metadata.journal import Journal
    from sidecar.pipeline.write import write_sidecar_journaled

    lib = tmp_path / "lib"
    door = make_wav(lib / "old" / "door.wav", 22)
    identity = sx.Identity(door.name, door.stat().st_size, fingerprint_mod.audio_fingerprint(str(door)), str(door))
    with Journal.at(db) as journal:
        sidecar = write_sidecar_journaled(journal, door, machine_record("Door"), identity)
    edit_notes(sidecar, "recorded at the barn")
    assert invoke("import_sidecars", ["--json", str(sidecar)]).exit_code == 0
    shutil.copy(door, lib / "other copy.wav")          # same audio, and it has its own sidecar
    write_sidecar(lib / "other copy.wav", "Other")
    moved = lib / "new" / "door renamed.wav"
    moved.parent.mkdir()
    shutil.move(door, moved)

    result = invoke("import_sidecars", ["--json", "--root", str(lib), str(sidecar)])
    assert result.exit_code == 0, result.stderr
    [row] = rows_of(result)
    assert (row["status"], row["path"]) == ("moved", str(moved))
    target = lib / "new" / "door renamed.wav.xml"
    assert str(target) in row["reason"]
    assert not sidecar.exists() and target.exists()
    record, new_identity, human = sx.read(target)
    assert record.Notes == "recorded at the barn" and "Notes" in human
    assert (new_identity.path, new_identity.name) == (str(moved), moved.name)
    assert new_identity.fingerprint == identity.fingerprint
    store = store_mod.open_store(db)
    assert store.files.get(str(door)) is None
    new_row = store.files.get(str(moved))
    assert new_row.record.Notes == "recorded at the barn" and new_row.written["sidecar"] == str(target)
    with Journal.at(db) as journal:                       # undo follows the sidecar: a person edited it
        assert not journal.has(sidecar) and journal.has(target)
        result = journal.undo(target)
    assert result.status == "kept" and target.exists()


def test_a_moved_sidecar_the_service_wrote_is_still_removed_by_undo(tmp_path, db):
    from sidecar.metadata.journal import Journal
    from sidecar.pipeline.write import write_sidecar_journaled

    lib = tmp_path / "lib"
    door = make_wav(lib / "door.wav", 23)
    identity = sx.Identity(door.name, door.stat().st_size, fingerprint_mod.audio_fingerprint(str(door)), str(door))
    with Journal.at(db) as journal:
        sidecar = write_sidecar_journaled(journal, door, machine_record("Door"), identity)
    moved = lib / "sub" / "door.wav"
    moved.parent.mkdir()
    shutil.move(door, moved)
    result = invoke("import_sidecars", ["--json", str(lib)])
    assert result.exit_code == 0, result.stderr
    assert rows_of(result)[0]["status"] == "moved"
    target = lib / "sub" / "door.wav.xml"
    with Journal.at(db) as journal:
        assert journal.undo(target).status == "removed"
    assert not target.exists() and not sidecar.exists()


def test_a_move_into_a_mirrored_root_puts_the_sidecar_in_the_mirror(tmp_path, db):
    lib, mirror = tmp_path / "lib", tmp_path / "mirror"
    door = make_wav(lib / "porch" / "door.wav", 24)
    identity = sx.Identity(door.name, door.stat().st_size, fingerprint_mod.audio_fingerprint(str(door)), str(door))
    orphan = sx.write(door, machine_record("Door"), identity, mirror=(lib, mirror))
    moved = lib / "yard" / "door.wav"
    moved.parent.mkdir()
    shutil.move(door, moved)
    result = invoke("import_sidecars", ["--json", "--root", str(lib), "--mirror", str(lib), str(mirror),
                                        str(mirror)])
    assert result.exit_code == 0, result.stderr
    assert [(r["path"], r["status"]) for r in rows_of(result)] == [(str(moved), "moved")]
    assert not orphan.exists() and (mirror / "yard" / "door.wav.xml").exists()
    assert not (lib / "yard" / "door.wav.xml").exists()


def test_a_moved_sidecar_without_recorded_bytes_is_not_taken_for_the_services_own(tmp_path, db):
    """An entry of an older journal (no sha256 recorded): moving the document must not make
    a person's edits look like the service's bytes."""
    from sidecar.metadata.journal import Journal
    from sidecar.pipeline.write import journal_sidecar

    lib = tmp_path / "lib"
    door = make_wav(lib / "door.wav", 25)
    with Journal.at(db) as journal:
        journal_sidecar(journal, sx.sidecar_path(door))
    sidecar = write_sidecar(door)
    edit_notes(sidecar, "a person's note")
    moved = lib / "sub" / "door.wav"
    moved.parent.mkdir()
    shutil.move(door, moved)
    assert invoke("import_sidecars", ["--json", str(lib)]).exit_code == 0
    target = lib / "sub" / "door.wav.xml"
    with Journal.at(db) as journal:
        result = journal.undo(target)
    assert result.status == "kept" and target.exists()


def test_a_sidecar_moved_into_a_folder_still_to_walk_is_imported_once(tmp_path, db):
    lib = tmp_path / "lib"
    door = make_wav(lib / "a" / "door.wav", 26)
    write_sidecar(door)
    moved = lib / "z" / "door.wav"
    moved.parent.mkdir()
    shutil.move(door, moved)
    result = invoke("import_sidecars", ["--json", str(lib)])
    assert result.exit_code == 0, result.stderr
    assert [(r["path"], r["status"]) for r in rows_of(result)] == [(str(moved), "moved")]
