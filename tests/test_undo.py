"""The undo journal and `sidecar undo`: originals back byte for byte."""

from __future__ import annotations

import json
import sqlite3
import zlib

import pytest
from click.testing import CliRunner

from sidecar.cli.undo import undo as undo_command
from sidecar.metadata import riff
from sidecar.metadata.journal import Journal, default_db_path
from test_riff_build import put, recorder_wav, sample_record, simple_wav


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "db" / "index.db") as j:
        yield j


@pytest.mark.parametrize("make", [simple_wav, recorder_wav])
def test_write_then_undo_gives_the_original_back(tmp_path, journal, make):
    original = make()
    path = put(tmp_path, original)
    assert not riff.write(path, sample_record(), journal=journal).in_place
    assert riff.write(path, sample_record(Description="second"), journal=journal).in_place
    assert path.read_bytes() != original
    assert len(journal.entries()) == 1          # journaled once, before the first write
    result = journal.undo(path)
    assert result.ok and result.status == "restored"
    assert path.read_bytes() == original
    assert journal.entries() == []


def test_record_original_is_a_no_op_the_second_time(tmp_path, journal):
    path = put(tmp_path, simple_wav())
    assert journal.record_original(path)
    riff.write(path, sample_record())
    assert not journal.record_original(path)
    entry = journal.entries()[0]
    assert entry.span_fn == "sidecar.metadata.riff.reader:audio_span"


def test_journal_keeps_head_and_tail_compressed_and_no_audio(tmp_path, journal):
    blob = recorder_wav(frames=20000)
    path = put(tmp_path, blob)
    journal.record_original(path)
    head, tail, offset, length = sqlite3.connect(journal.db_path).execute(
        "SELECT head, tail, audio_offset, audio_length FROM journal").fetchone()
    assert zlib.decompress(head) == blob[:offset]
    assert zlib.decompress(tail) == blob[offset + length:]
    assert sqlite3.connect(journal.db_path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_undo_refuses_when_the_audio_changed(tmp_path, journal):
    path = put(tmp_path, simple_wav())
    riff.write(path, sample_record(), journal=journal)
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


def test_generic_scheme_for_another_container(tmp_path, journal):
    audio = bytes(range(1, 100)).replace(b"|", b"")
    path = put(tmp_path, b"TAGS v1|" + audio + b"|end", "x.fake")
    original = path.read_bytes()
    journal.record_original(path, _span_of_fake_format)
    path.write_bytes(b"MUCH LONGER TAGS v2|" + audio + b"|new tail")
    assert journal.undo(path).ok
    assert path.read_bytes() == original


def test_undo_all(tmp_path, journal):
    paths = [put(tmp_path, simple_wav(seed=i), f"{i}.wav") for i in range(3)]
    originals = [p.read_bytes() for p in paths]
    for p in paths:
        riff.write(p, sample_record(), journal=journal)
    results = journal.undo_all()
    assert [r.ok for r in results] == [True] * 3
    assert [p.read_bytes() for p in paths] == originals


def test_cli_undo_files_and_json(tmp_path, monkeypatch):
    db = tmp_path / "index.db"
    monkeypatch.setenv("SIDECAR_DB", str(db))
    assert default_db_path() == db
    a, b = put(tmp_path, simple_wav(), "a.wav"), put(tmp_path, simple_wav(seed=2), "b.wav")
    originals = a.read_bytes(), b.read_bytes()
    with Journal() as j:
        riff.write(a, sample_record(), journal=j)
        riff.write(b, sample_record(), journal=j)
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
        list(pool.map(lambda p: riff.write(p, sample_record(), journal=journal), paths))
    assert len(journal.entries()) == 8
    with ThreadPoolExecutor(4) as pool:
        assert all(r.ok for r in pool.map(journal.undo, paths))
    assert [p.read_bytes() for p in paths] == originals
