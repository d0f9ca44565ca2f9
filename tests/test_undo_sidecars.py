"""Undo of sidecar documents: created ones removed while unchanged, replaced ones restored,
the sidecar of FILE undone with it, and the index forgetting what was given back."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import audiogen
from conftest import run_sidecar
from sidecar.cli.undo import undo as undo_command
from sidecar.index.store import open_store
from sidecar.formats import audio_fingerprint
from sidecar.metadata import sidecar_xml as sx
from sidecar.metadata.journal import Journal
from sidecar.metadata.record import Provenance, Record
from sidecar.pipeline.write import journal_sidecar, write_sidecar_journaled
from tests_support import journaled_riff_write
from test_riff_build import put, sample_record, simple_wav


@pytest.fixture
def env(tmp_path, monkeypatch):
    db = tmp_path / "index.db"
    monkeypatch.setenv("SIDECAR_DB", str(db))
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    return db


def identity_of(audio: Path) -> sx.Identity:
    return sx.Identity(audio.name, audio.stat().st_size, audio_fingerprint(str(audio)), str(audio))


def machine(description: str = "Door", keywords: tuple[str, ...] = ()) -> Record:
    return Record(Description=description, CatID="DOORWood", Keywords=list(keywords),
                  provenance=Provenance(engine="embedded", model="descriptors", version="1",
                                        time="2024-05-01T12:00:00Z",
                                        machine_fields=["Description", "CatID", "Keywords"]))


def index(db: Path, audio: Path) -> None:
    from sidecar.pipeline.sidecars import indexed_file
    store = open_store(db)
    store.files.upsert(indexed_file(store, str(audio), machine(), [], str(audio) + ".xml"))
    store.close()


def indexed(db: Path, audio: Path) -> bool:
    store = open_store(db)
    try:
        return store.files.get(str(audio)) is not None
    finally:
        store.close()


def undo(*args: str):
    return CliRunner().invoke(undo_command, list(args))


# -- created sidecars: removed while they hold the bytes SFX Sidecar wrote ----------------------

def test_a_created_sidecar_with_fields_from_the_sounds_own_tags_is_removed(tmp_path, env):
    """Fields a person wrote in the audio file (its COMM Description) are copied into the sidecar
    as human-made; that does not make the sidecar a person's: undo removes it."""
    audio = put(tmp_path, simple_wav(), "door.wav")
    with Journal.at(env) as journal:
        doc = write_sidecar_journaled(journal, audio, machine("Old oak door, from the file's COMM"),
                                      identity_of(audio), human={"Description"})
        assert sx.read(doc)[2] == {"Description"}
        result = journal.undo(doc)
    assert (result.ok, result.status) == (True, "removed") and not doc.exists()


def test_a_created_sidecar_changed_after_the_write_is_kept(tmp_path, env):
    audio = put(tmp_path, simple_wav(), "door.wav")
    with Journal.at(env) as journal:
        doc = write_sidecar_journaled(journal, audio, machine(), identity_of(audio))
        doc.write_bytes(doc.read_bytes().replace(b"<Notes/>", b"<Notes>mine</Notes>"))
        edited = doc.read_bytes()
        result = journal.undo(doc)
    assert (result.ok, result.status) == (False, "kept")
    assert result.reason.startswith("changed since SFX Sidecar wrote it")
    assert doc.read_bytes() == edited


def test_a_persons_edit_keeps_the_sidecar_even_after_the_service_writes_it_again(tmp_path, env):
    audio = put(tmp_path, simple_wav(), "door.wav")
    with Journal.at(env) as journal:
        doc = write_sidecar_journaled(journal, audio, machine(), identity_of(audio))
        text = re.sub(r"<Description[^>]*>[^<]*</Description>", "<Description>Kick drum, tight</Description>",
                      doc.read_text(encoding="utf-8"))
        doc.write_text(text, encoding="utf-8")
        write_sidecar_journaled(journal, audio, machine("Door slam"), identity_of(audio))
        assert sx.read(doc)[0].Description == "Kick drum, tight"      # the person's words kept
        result = journal.undo(doc)
    assert result.status == "kept" and "changed since SFX Sidecar wrote it" in result.reason
    assert "Description" in result.reason and doc.exists()


def test_a_sidecar_the_service_wrote_twice_is_removed(tmp_path, env):
    audio = put(tmp_path, simple_wav(), "door.wav")
    with Journal.at(env) as journal:
        doc = write_sidecar_journaled(journal, audio, machine(), identity_of(audio))
        write_sidecar_journaled(journal, audio, machine("Door slam"), identity_of(audio))
        assert journal.undo(doc).status == "removed"
    assert not doc.exists()


def test_a_replaced_sidecar_gets_its_original_bytes_back(tmp_path, env):
    audio = put(tmp_path, simple_wav(), "door.wav")
    theirs = sx.render(machine("Their own words"), identity_of(audio), human={"Description"})
    doc = Path(str(audio) + ".xml")
    doc.write_bytes(theirs)
    with Journal.at(env) as journal:
        write_sidecar_journaled(journal, audio, machine("Door slam", ("slam",)), identity_of(audio))
        assert doc.read_bytes() != theirs
        assert not journal.mark_written(doc, "0" * 64)      # a replaced original's hash never changes
        result = journal.undo(doc)
    assert (result.ok, result.status) == (True, "restored") and doc.read_bytes() == theirs


def test_an_entry_without_recorded_bytes_keeps_the_older_rule(tmp_path, env):
    """A journal of an older version holds no sha256: fields marked human keep the sidecar."""
    plain, edited = put(tmp_path, simple_wav(), "plain.wav"), put(tmp_path, simple_wav(seed=2), "edited.wav")
    with Journal.at(env) as journal:
        for audio, human in ((plain, set()), (edited, {"Description"})):
            doc = sx.sidecar_path(audio)
            journal_sidecar(journal, doc)
            sx.write(audio, machine(), identity_of(audio), human=human)
        assert journal.undo(sx.sidecar_path(plain)).status == "removed"
        kept = journal.undo(sx.sidecar_path(edited))
    assert kept.status == "kept" and "Description" in kept.reason


# -- `sidecar undo FILE`: the sound, its sidecar, and the index -------------------------------------

def test_undo_file_also_undoes_its_sidecar_and_drops_the_index_row(tmp_path, env):
    audio = put(tmp_path, simple_wav(), "door.wav")
    other = put(tmp_path, simple_wav(seed=2), "other.wav")
    original = audio.read_bytes()
    with Journal.at(env) as journal:
        for sound in (audio, other):
            journaled_riff_write(journal, sound, sample_record())
            write_sidecar_journaled(journal, sound, machine(), identity_of(sound))
    index(env, audio)
    index(env, other)
    out = undo(str(audio), "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert [(Path(d["path"]).name, d["status"]) for d in doc] == [("door.wav", "restored"),
                                                                  ("door.wav.xml", "removed")]
    assert audio.read_bytes() == original and not Path(str(audio) + ".xml").exists()
    assert not indexed(env, audio) and indexed(env, other)
    assert Path(str(other) + ".xml").exists()
    text = undo(str(other))
    assert text.exit_code == 0
    assert f"restored {other}" in text.stdout and f"removed {other}.xml" in text.stdout


def test_undo_of_only_the_sidecar_keeps_the_row_of_a_sound_still_written(tmp_path, env):
    audio = put(tmp_path, simple_wav(), "door.wav")
    with Journal.at(env) as journal:
        journaled_riff_write(journal, audio, sample_record())
        doc = write_sidecar_journaled(journal, audio, machine(), identity_of(audio))
    index(env, audio)
    out = undo(str(doc))
    assert out.exit_code == 0, out.output
    assert out.stdout == f"removed {doc}\n" and not doc.exists()
    assert indexed(env, audio)
    with Journal.at(env) as journal:
        assert journal.has(audio)


def test_undo_file_finds_its_sidecar_in_the_configured_mirror(tmp_path, env, monkeypatch):
    lib, mirror = tmp_path / "lib", tmp_path / "mirror"
    lib.mkdir()
    audio = put(lib, simple_wav(), "door.wav")
    config = tmp_path / "sidecar.toml"
    config.write_text(f'[[roots]]\npath = "{lib}"\nsidecar_mirror = "{mirror}"\nread_only = true\n')
    monkeypatch.setenv("SIDECAR_CONFIG", str(config))
    with Journal.at(env) as journal:          # a read-only root: only the sidecar, in the mirror
        doc = write_sidecar_journaled(journal, audio, machine(), identity_of(audio), mirror=(lib, mirror))
    assert doc == mirror / "door.wav.xml"
    index(env, audio)
    before = audio.read_bytes()
    out = undo(str(audio), "--json")
    assert out.exit_code == 0, out.output
    assert [(d["path"], d["status"]) for d in json.loads(out.stdout)] == [(str(doc), "removed")]
    assert not doc.exists() and audio.read_bytes() == before
    assert not indexed(env, audio)


def test_undo_all_drops_the_index_rows_of_what_it_gave_back(tmp_path, env):
    given_back, moved = put(tmp_path, simple_wav(), "a.wav"), put(tmp_path, simple_wav(seed=2), "b.wav")
    with Journal.at(env) as journal:
        for sound in (given_back, moved):
            journaled_riff_write(journal, sound, sample_record())
            write_sidecar_journaled(journal, sound, machine(), identity_of(sound))
    index(env, given_back)
    index(env, moved)
    moved.rename(tmp_path / "elsewhere.wav")
    out = undo("--all", "--json")
    assert out.exit_code == 1
    by_name = {Path(d["path"]).name: d for d in json.loads(out.stdout)}
    assert by_name["a.wav"]["status"] == "restored" and by_name["a.wav.xml"]["status"] == "removed"
    assert by_name["b.wav"]["reason"] == "no such file (moved or deleted?)"
    assert not indexed(env, given_back) and indexed(env, moved)


def test_undo_help_says_a_later_scan_writes_again():
    text = " ".join(undo("--help").output.split())
    assert "a later scan classifies and writes it again, unless its root is read_only" in text


# -- through the real scan ----------------------------------------------------------------------------

def _stage_marks_written_sidecars() -> bool:
    from sidecar.pipeline import stages
    source = inspect.getsource(stages)
    return "write_sidecar_journaled" in source or "journal_sidecar_written" in source


@pytest.mark.skipif(not _stage_marks_written_sidecars(),
                    reason="the write stage does not record the bytes of the sidecars it writes yet")
def test_scan_then_undo_removes_a_sidecar_holding_the_sounds_own_comment(tmp_path):
    from mutagen.id3 import COMM, ID3

    lib = tmp_path / "lib"
    path = audiogen.write(str(lib / "take"), "mp3")
    tags = ID3()
    tags.add(COMM(encoding=3, lang="eng", desc="", text=["Old oak door, recorded in the barn"]))
    tags.save(path)
    original = open(path, "rb").read()
    db = str(tmp_path / "i.db")
    assert run_sidecar("scan", str(lib), "--json", "--db", db).returncode == 0
    doc = Path(path + ".xml")
    assert "Description" in sx.read(doc)[2]            # the sound's own words, human-made
    result = run_sidecar("undo", path, "--json", "--db", db)
    assert result.returncode == 0, result.stderr
    assert {r["status"] for r in json.loads(result.stdout)} == {"restored", "removed"}
    assert not doc.exists() and open(path, "rb").read() == original
