"""A rewrite without room reads its source once: the journal's row comes from the same pass."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sidecar import formats
from sidecar.metadata.journal import Journal
from sidecar.metadata.read_once import ReadOnce
from sidecar.metadata.safe_write import ChangedMeanwhile
from sidecar.pipeline.write import write_embedded
from test_riff_build import audio, chunk, fmt_payload, recorder_wav, sample_record, simple_wav, wav


def _aiff(folder: Path) -> bytes:
    path = folder / "made.aiff"
    sf.write(path, (np.random.default_rng(5).random((900, 2)) - 0.5).astype("float32"), 44100,
             subtype="PCM_24", format="AIFF")
    return path.read_bytes()


def _odd_data_and_a_tail() -> bytes:
    # 24-bit mono, 301 frames: an odd data payload with its pad byte, then a foreign chunk
    return wav([chunk(b"fmt ", fmt_payload(1, bits=24)), chunk(b"data", audio(301, 1, 24)),
                chunk(b"smpl", b"\x01" * 60)])


MAKERS = {
    "simple": lambda folder: simple_wav(frames=4800, channels=2),
    "recorder": lambda folder: recorder_wav(),
    "tail": lambda folder: _odd_data_and_a_tail(),
    "aiff": _aiff,
}


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_the_journal_row_of_a_rewrite_equals_one_read_by_the_journal_itself(tmp_path, kind):
    blob = MAKERS[kind](tmp_path)
    name = "x.aiff" if kind == "aiff" else "x.wav"
    by_itself, by_rewrite = tmp_path / "a" / name, tmp_path / "b" / name
    for path in (by_itself, by_rewrite):
        path.parent.mkdir()
        path.write_bytes(blob)
    with Journal.at(tmp_path / "a.db") as alone, Journal.at(tmp_path / "b.db") as journal:
        assert alone.record_original(by_itself, formats.of(str(by_itself)))
        written = write_embedded(str(by_rewrite), sample_record(), journal=journal)
        assert written and by_rewrite.read_bytes() != blob
        expected, got = alone.rows.get(alone._key(by_itself)), journal.rows.get(journal._key(by_rewrite))
        for field in ("size", "audio_offset", "audio_length", "audio_sha256", "original_sha256",
                      "span_fn", "head", "tail"):
            assert getattr(got, field) == getattr(expected, field), field
        result = journal.undo(by_rewrite)
        assert result.ok and result.status == "restored"
    assert by_rewrite.read_bytes() == blob


@pytest.mark.parametrize("block", [997, 4096])
def test_the_hash_and_copy_are_right_when_the_audio_spans_many_blocks(tmp_path, monkeypatch, block):
    """The audio streams through two buffers in turn while the other's hash runs: with blocks
    far smaller than the audio (and of an odd size), the hash and the copy still match."""
    import sidecar.metadata.read_once as read_once
    import sidecar.metadata.stream_copy as stream_copy
    monkeypatch.setattr(stream_copy, "BLOCK", block)
    monkeypatch.setattr(read_once, "PROBE", 1500)
    test_the_journal_row_of_a_rewrite_equals_one_read_by_the_journal_itself(tmp_path, "simple")


def _io() -> tuple[int, int]:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["rchar"]), int(fields["wchar"])


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux's /proc/self/io")
def test_a_journaled_rewrite_reads_its_source_once_and_writes_it_once(tmp_path):
    path = tmp_path / "big.wav"
    path.write_bytes(simple_wav(frames=1_000_000, channels=2, bits=24))     # 6 MB of audio
    size = path.stat().st_size
    with Journal.at(tmp_path / "j.db") as journal:
        before = _io()
        write_embedded(str(path), sample_record(), journal=journal)
        after = _io()
        assert journal.has(path)
    read, written = after[0] - before[0], after[1] - before[1]
    # the journal's hashes, the copy and its check together: one pass over the source (two
    # MiB of the copy are read back); before, the source was read twice and the copy once
    assert size < read < 1.5 * size
    assert size < written < 1.2 * size


def test_a_source_changed_during_the_pass_is_noticed(tmp_path):
    path = tmp_path / "x.wav"
    blob = simple_wav(frames=4800)
    path.write_bytes(blob)
    data_at = blob.index(b"data") + 8
    with open(path, "rb") as f:
        src = ReadOnce(f, data_at, len(blob) - data_at, hashes=True)
        out = io.BytesIO()
        src.copy(out, 0, len(blob))
        assert out.getvalue() == blob
        src.unchanged(path)                       # nothing happened: no complaint
        with open(path, "ab") as g:
            g.write(b"JUNK\0\0\0\0")
        with pytest.raises(ChangedMeanwhile):
            src.unchanged(path)


def test_a_replaced_source_is_noticed(tmp_path):
    path = tmp_path / "x.wav"
    blob = simple_wav(frames=480)
    path.write_bytes(blob)
    with open(path, "rb") as f:
        src = ReadOnce(f, 44, len(blob) - 44, hashes=False)
        src.copy(io.BytesIO(), 0, len(blob))
        other = tmp_path / "other.wav"
        shutil.copyfile(path, other)
        os.replace(other, path)
        with pytest.raises(ChangedMeanwhile):
            src.unchanged(path)


def test_a_row_journaled_before_parts_hashing_still_undoes(tmp_path):
    """Rows made by earlier versions hold the SHA-256 of the whole original: undo checks that."""
    import hashlib
    import time
    import zlib

    from sidecar.index.interfaces import JournalRow
    from sidecar.metadata import riff
    blob = recorder_wav()
    path = tmp_path / "x.wav"
    path.write_bytes(blob)
    offset, length = riff.audio_span(path)
    with Journal.at(tmp_path / "j.db") as journal:
        journal.rows.add(JournalRow(
            str(path.resolve()), time.time(), len(blob), offset, length,
            hashlib.sha256(blob[offset:offset + length]).hexdigest(), hashlib.sha256(blob).hexdigest(),
            "sidecar.metadata.riff.reader:audio_span", zlib.compress(blob[:offset]),
            zlib.compress(blob[offset + length:])))
        riff.write(path, sample_record())
        assert path.read_bytes() != blob
        result = journal.undo(path)
        assert result.ok and result.status == "restored", result
    assert path.read_bytes() == blob


def test_undo_refuses_a_restore_whose_parts_do_not_make_the_original(tmp_path):
    path = tmp_path / "x.wav"
    blob = simple_wav(frames=4800)
    path.write_bytes(blob)
    with Journal.at(tmp_path / "j.db") as journal:
        write_embedded(str(path), sample_record(), journal=journal)
        written = path.read_bytes()
        row = journal.rows.get(journal._key(path))
        assert row.original_sha256.startswith("parts:")
        journal.rows.delete(row.path)
        journal.rows.add(row.__class__(**{**row.__dict__, "original_sha256": "parts:" + "0" * 64}))
        result = journal.undo(path)
        assert not result.ok and "do not match the original" in result.reason
    assert path.read_bytes() == written
