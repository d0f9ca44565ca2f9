"""The undo journal and `sidecar undo`: originals back byte for byte."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from sidecar.cli.undo import undo as undo_command
from sidecar.metadata import riff
from sidecar.index.store import default_location
from sidecar import formats
from sidecar.metadata.journal import Journal, Span
from tests_support import journaled_riff_write
from test_riff_build import put, recorder_wav, sample_record, simple_wav


@pytest.fixture
def journal(tmp_path):
    with Journal.at(tmp_path / "db" / "index.db") as j:
        yield j


@pytest.mark.parametrize("make", [simple_wav, recorder_wav])
def test_write_then_undo_gives_the_original_back(tmp_path, journal, make):
    original = make()
    path = put(tmp_path, original)
    assert not journaled_riff_write(journal, path, sample_record()).in_place
    assert journaled_riff_write(journal, path, sample_record(Description="second")).in_place
    assert path.read_bytes() != original
    assert len(journal.entries()) == 1          # journaled once, before the first write
    result = journal.undo(path)
    assert result.ok and result.status == "restored"
    assert path.read_bytes() == original
    assert journal.entries() == []


def test_record_original_is_a_no_op_the_second_time(tmp_path, journal):
    path = put(tmp_path, simple_wav())
    assert journal.record_original(path, formats.WAV)
    riff.write(path, sample_record())
    assert not journal.record_original(path, formats.WAV)
    entry = journal.entries()[0]
    assert entry.span_fn == "wav/1"         # the format's stable name and version, never a qualname


def test_journal_keeps_head_and_tail_compressed_and_no_audio(tmp_path, journal):
    blob = recorder_wav(frames=20000)
    path = put(tmp_path, blob)
    journal.record_original(path, formats.WAV)
    head, tail, offset, length = sqlite3.connect(journal.rows.path).execute(
        "SELECT head, tail, audio_offset, audio_length FROM journal").fetchone()
    assert zlib.decompress(head) == blob[:offset]
    assert zlib.decompress(tail) == blob[offset + length:]
    assert sqlite3.connect(journal.rows.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_undo_refuses_when_the_audio_changed(tmp_path, journal):
    path = put(tmp_path, simple_wav())
    journaled_riff_write(journal, path, sample_record())
    offset, length = riff.audio_span(path)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    result = journal.undo(path)
    assert not result.ok and "audio changed" in result.reason
    assert path.read_bytes() == bytes(data)
    assert len(journal.entries()) == 1


def test_undo_of_an_unknown_file(tmp_path, journal):
    result = journal.undo(tmp_path / "nothing.wav")
    assert (result.ok, result.status) == (False, "not-journaled")


def _span_of_fake_format(path):
    """A container whose audio sits between the first and the last "|"."""
    data = open(path, "rb").read()
    start, end = data.index(b"|") + 1, data.rindex(b"|")
    return start, end - start


FAKE = Span("fake/1", _span_of_fake_format)


def test_generic_scheme_for_another_container(tmp_path, journal):
    audio = bytes(range(1, 100)).replace(b"|", b"")
    path = put(tmp_path, b"TAGS v1|" + audio + b"|end", "x.fake")
    original = path.read_bytes()
    journal.record_original(path, FAKE)
    path.write_bytes(b"MUCH LONGER TAGS v2|" + audio + b"|new tail")
    assert journal.undo(path).ok
    assert path.read_bytes() == original


def test_undo_all(tmp_path, journal):
    paths = [put(tmp_path, simple_wav(seed=i), f"{i}.wav") for i in range(3)]
    originals = [p.read_bytes() for p in paths]
    for p in paths:
        journaled_riff_write(journal, p, sample_record())
    results = journal.undo_all()
    assert [r.ok for r in results] == [True] * 3
    assert [p.read_bytes() for p in paths] == originals


def test_cli_undo_files_and_json(tmp_path, monkeypatch):
    db = tmp_path / "index.db"
    monkeypatch.setenv("SIDECAR_DB", str(db))
    assert default_location() == str(db)         # the journal lives in the index
    a, b = put(tmp_path, simple_wav(), "a.wav"), put(tmp_path, simple_wav(seed=2), "b.wav")
    originals = a.read_bytes(), b.read_bytes()
    with Journal.at() as j:
        journaled_riff_write(j, a, sample_record())
        journaled_riff_write(j, b, sample_record())
    out = CliRunner().invoke(undo_command, [str(a), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc == [{"path": str(a), "ok": True, "status": "restored", "reason": ""}]
    assert a.read_bytes() == originals[0]
    out = CliRunner().invoke(undo_command, ["--all"])
    assert out.exit_code == 0 and f"restored {b}" in out.output
    assert b.read_bytes() == originals[1]


def test_cli_exit_codes(tmp_path, monkeypatch):
    monkeypatch.setenv("SIDECAR_DB", str(tmp_path / "index.db"))
    runner = CliRunner()
    assert runner.invoke(undo_command, []).exit_code == 2
    assert runner.invoke(undo_command, ["--all", "x.wav"]).exit_code == 2
    failed = runner.invoke(undo_command, [str(tmp_path / "never.wav"), "--json"])
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)[0]["status"] == "not-journaled"
    assert "undo failed" in failed.stderr
    empty = runner.invoke(undo_command, ["--all", "--json"])
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []


def test_journal_shared_by_worker_threads(tmp_path, journal):
    from concurrent.futures import ThreadPoolExecutor
    paths = [put(tmp_path, simple_wav(seed=i), f"t{i}.wav") for i in range(8)]
    originals = [p.read_bytes() for p in paths]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda p: journaled_riff_write(journal, p, sample_record()), paths))
    assert len(journal.entries()) == 8
    with ThreadPoolExecutor(4) as pool:
        assert all(r.ok for r in pool.map(journal.undo, paths))
    assert [p.read_bytes() for p in paths] == originals


# -- files that moved, vanished or cannot be read ----------------------------------------------

def test_undo_of_a_deleted_file_fails_in_one_line_and_keeps_the_entry(tmp_path, journal):
    path = put(tmp_path, simple_wav())
    journaled_riff_write(journal, path, sample_record())
    path.unlink()
    result = journal.undo(path)
    assert (result.ok, result.status, result.reason) == (False, "failed", "no such file (moved or deleted?)")
    assert journal.has(path)


def _span_that_raises(path):
    raise ValueError("the span function broke\nwith a second line")


def test_any_exception_of_one_entry_is_a_failed_result_and_undo_all_goes_on(tmp_path, journal, monkeypatch):
    import sidecar.metadata.journal as journal_module

    not_audio = put(tmp_path, simple_wav(seed=1), "not audio.wav")
    journal.record_original(not_audio, formats.WAV)
    not_audio.write_bytes(b"not audio any more")               # recognise() raises NotAudioError
    unknown = put(tmp_path, b"TAGS|audio|end", "unknown.fake")
    journal.record_original(unknown, FAKE)
    with sqlite3.connect(journal.rows.path) as con:
        # as write_embedded journaled before formats had stable names: the format is sniffed at undo
        con.execute("UPDATE journal SET span_fn = ? WHERE path = ?",
                    ("sidecar.library.fingerprint:file_audio_span", str(not_audio.resolve())))
        # a name that no longer resolves
        con.execute("UPDATE journal SET span_fn = ? WHERE path = ?", ("sidecar.nowhere:span", str(unknown.resolve())))
    raising = put(tmp_path, simple_wav(seed=3), "raising.wav")
    journal.record_original(raising, formats.WAV)
    monkeypatch.setitem(journal_module._KNOWN, "wav/1", _span_that_raises)
    good = put(tmp_path, b"TAGS|good audio|end", "good.fake")
    original = good.read_bytes()
    journal.record_original(good, FAKE)
    good.write_bytes(b"NEW TAGS|good audio|end")

    results = {r.path: r for r in journal.undo_all()}
    assert results[str(good.resolve())].ok and good.read_bytes() == original
    for path in (not_audio, unknown, raising):
        r = results[str(path.resolve())]
        assert (r.ok, r.status) == (False, "failed") and r.reason and "\n" not in r.reason
    assert "not an audio file" in results[str(not_audio.resolve())].reason
    assert results[str(raising.resolve())].reason == "unexpected ValueError: the span function broke"


def test_cli_undo_all_with_a_moved_file_stays_one_json_document(tmp_path, monkeypatch):
    monkeypatch.setenv("SIDECAR_DB", str(tmp_path / "index.db"))
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    a, b = put(tmp_path, simple_wav(), "a.wav"), put(tmp_path, simple_wav(seed=2), "b.wav")
    original_b = b.read_bytes()
    with Journal.at() as j:
        journaled_riff_write(j, a, sample_record())
        journaled_riff_write(j, b, sample_record())
    a.rename(tmp_path / "moved.wav")
    out = CliRunner().invoke(undo_command, ["--all", "--json"])
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    by_path = {d["path"]: d for d in doc}
    assert by_path[str(a)] == {"path": str(a), "ok": False, "status": "failed",
                               "reason": "no such file (moved or deleted?)"}
    assert by_path[str(b)]["status"] == "restored" and b.read_bytes() == original_b
    assert f"{a}: undo failed: no such file (moved or deleted?)" in out.stderr
    single = CliRunner().invoke(undo_command, [str(a)])
    assert single.exit_code == 1 and "Traceback" not in single.output


# -- Journal.rename ---------------------------------------------------------------------------------

def test_rename_moves_the_entry_so_undo_follows_the_file(tmp_path, journal):
    path = put(tmp_path, simple_wav())
    original = path.read_bytes()
    journaled_riff_write(journal, path, sample_record())
    moved = tmp_path / "sub" / "renamed.wav"
    moved.parent.mkdir()
    path.rename(moved)
    assert journal.rename(path, moved)
    assert not journal.has(path) and journal.has(moved)
    assert journal.undo(moved).ok and moved.read_bytes() == original


def test_rename_without_an_entry_is_a_no_op(tmp_path, journal):
    other = put(tmp_path, simple_wav(), "other.wav")
    journal.record_original(other, formats.WAV)
    assert not journal.rename(tmp_path / "never.wav", tmp_path / "elsewhere.wav")
    assert [Path(e.path).name for e in journal.entries()] == ["other.wav"]


def test_rename_onto_a_journaled_path_keeps_the_new_entry(tmp_path, journal):
    old = put(tmp_path, simple_wav(seed=1), "old.wav")
    new = put(tmp_path, simple_wav(seed=2), "new.wav")
    new_original = new.read_bytes()
    journaled_riff_write(journal, old, sample_record())
    journaled_riff_write(journal, new, sample_record())
    assert not journal.rename(old, new)
    assert not journal.has(old) and journal.has(new)
    assert journal.undo(new).ok and new.read_bytes() == new_original
