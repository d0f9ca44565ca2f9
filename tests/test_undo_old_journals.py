"""Journals written before formats had stable names still undo.

Those rows named a Python function (`module:qualname`) where rows now name a format and a
version (`wav/1`). Each row here is written the way that code wrote it, field by field, with
the name it stored; the file is then changed by today's writers and undone.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from pathlib import Path

import pytest

import audiogen
from sidecar import formats
from sidecar.index.interfaces import JournalRow
from sidecar.metadata import sidecar_xml
from sidecar.metadata.journal import Journal
from sidecar.metadata.record import Provenance, Record
from sidecar.pipeline.write import write_embedded


@pytest.fixture
def journal(tmp_path):
    with Journal.at(tmp_path / "db" / "index.db") as j:
        yield j


def _old_row(path: Path, span: tuple[int, int], stored_name: str) -> JournalRow:
    """A row as the journal of the older code built it: head, tail, hashes and the qualname it stored."""
    data = path.read_bytes()
    offset, length = span
    return JournalRow(str(path.resolve()), time.time(), len(data), offset, length,
                      hashlib.sha256(data[offset:offset + length]).hexdigest(), hashlib.sha256(data).hexdigest(),
                      stored_name, zlib.compress(data[:offset]), zlib.compress(data[offset + length:]))


def _record(text: str) -> Record:
    return Record(Description=text, CatID="DOORWood", Keywords=["door", "wood"],
                  provenance=Provenance(engine="test", time="2026-12-04T10:00:00Z",
                                        machine_fields=["Description", "CatID", "Keywords"]))


@pytest.mark.parametrize("kind, stored_name", [
    ("wav16", "sidecar.metadata.riff.reader:audio_span"),       # riff.audio_span, handed in directly
    ("rf64", "sidecar.metadata.riff.reader:audio_span"),
    ("aiff", "sidecar.metadata.riff.aiff:audio_span"),
    ("wav16", "sidecar.library.fingerprint:file_audio_span"),   # what write_embedded journaled
    ("flac", "sidecar.library.fingerprint:file_audio_span"),
    ("mp3", "sidecar.library.fingerprint:file_audio_span"),
    ("m4a", "sidecar.library.fingerprint:file_audio_span"),
])
def test_a_file_journaled_by_the_old_code_undoes(tmp_path, journal, kind, stored_name):
    path = Path(audiogen.write(str(tmp_path / "lib" / f"take {kind}"), kind))
    original = path.read_bytes()
    fmt = formats.of(str(path))
    journal.rows.add(_old_row(path, fmt.audio_span(str(path)), stored_name))
    assert write_embedded(str(path), _record("Heavy door slam " * 20))          # today's writer
    assert path.read_bytes() != original
    result = journal.undo(path)
    assert (result.ok, result.status) == (True, "restored"), result.reason
    assert path.read_bytes() == original
    assert journal.entries() == []


def test_a_sidecar_journaled_by_the_old_code_undoes(tmp_path, journal):
    audio = Path(audiogen.write(str(tmp_path / "lib" / "door"), "wav16"))
    identity = sidecar_xml.Identity(audio.name, audio.stat().st_size, formats.audio_fingerprint(str(audio)), str(audio))
    replaced = sidecar_xml.write(audio, _record("first"), identity)
    first = replaced.read_bytes()
    journal.rows.add(_old_row(replaced, (0, 0), "sidecar.pipeline.write:no_audio"))
    sidecar_xml.write(audio, _record("second"), identity)
    assert replaced.read_bytes() != first
    assert journal.undo(replaced).status == "restored" and replaced.read_bytes() == first


def test_a_created_sidecar_journaled_by_the_old_code_is_removed_or_kept_by_its_human_fields(tmp_path, journal):
    created = []
    for name in ("plain", "edited"):
        audio = Path(audiogen.write(str(tmp_path / "lib" / name), "wav16"))
        doc = sidecar_xml.sidecar_path(audio)
        # the old marker: "created|" and the keep function's qualname, no written bytes recorded
        journal.rows.add(JournalRow(str(doc.resolve()), time.time(), -1, 0, 0, "", "",
                                    "created|sidecar.pipeline.write:sidecar_kept_reason"))
        identity = sidecar_xml.Identity(audio.name, audio.stat().st_size, formats.audio_fingerprint(str(audio)), str(audio))
        sidecar_xml.write(audio, _record(name), identity, human={"Description"} if name == "edited" else ())
        created.append(doc)
    plain, edited = (journal.undo(doc) for doc in created)
    assert (plain.ok, plain.status) == (True, "removed") and not created[0].exists(), plain.reason
    assert (edited.ok, edited.status) == (False, "kept") and created[1].exists()
    assert "Description" in edited.reason
