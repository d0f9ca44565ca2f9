"""A person's edit and another writer on the same file, forced to interleave: the edit takes the
file's claim in the work queue (the lock a scan and the daemon hold from their read to the index),
so it waits for a writer that holds the file, or is refused with one clear line, and then goes on
from what that writer left. Nothing either of them wrote is lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest
from mutagen.wave import WAVE

import audiogen
from conftest import run_sidecar
from sidecar.config import Config
from sidecar.index.store import open_store
from sidecar.pipeline.edit import EditError, person_edit

#: another process that writes the file the way a scan does: it claims the file, reads what the
#: index holds, writes when told to (its value of Notes, the rest as it read it), indexes, lets go
WRITER = textwrap.dedent("""
    import os, sys
    from sidecar.index.interfaces import IndexedFile
    from sidecar.index.store import open_store
    from sidecar.metadata.merge import Ownership
    from sidecar.pipeline.write import write_embedded
    db, path = sys.argv[1:]
    store = open_store(db)
    assert store.queue.claim_path(path, "scan:other-writer", 600)
    row = store.files.get(path)
    print("held", flush=True)
    sys.stdin.readline()
    record = row.record
    record.Notes = "noted by the other writer"
    write_embedded(path, record, row.format, owner=Ownership(ours=row.written.get("fields", {})))
    st = os.stat(path)
    store.files.upsert(IndexedFile(path=path, size=st.st_size, mtime_ns=st.st_mtime_ns, fingerprint=row.fingerprint,
                             format=row.format, record=record, written=row.written,
                             human_fields=row.human_fields, classified=row.classified))
    store.queue.finish(path, True)
    print("done", flush=True)
""")


@pytest.fixture
def indexed(tmp_path):
    wav = audiogen.write(str(tmp_path / "lib" / "door"), "wav16", audiogen.noise(0.5))
    db = str(tmp_path / "index.db")
    scanned = run_sidecar("scan", str(tmp_path / "lib"), "--db", db)
    assert scanned.returncode == 0, scanned.stderr
    return wav, db


class OtherWriter:
    def __init__(self, db: str, path: str):
        self.proc = subprocess.Popen([sys.executable, "-c", WRITER, db, path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "held", self.proc.stderr.read()

    def write_and_let_go(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        out, err = self.proc.communicate(timeout=120)
        assert self.proc.returncode == 0 and out.strip() == "done", err


def _tags(path: str) -> dict[str, str]:
    """The file's ID3 text frames, read by mutagen."""
    return {f.desc: str(f.text[0]) for f in WAVE(path).tags.getall("TXXX")}


def test_an_edit_waits_for_the_writer_that_holds_the_file_then_goes_on_from_what_it_wrote(indexed):
    wav, db = indexed
    store = open_store(db)
    before = open(wav, "rb").read()
    writer = OtherWriter(db, wav)
    waiting, result = threading.Event(), {}

    def edit():
        try:
            result["row"] = person_edit(store, Config(), wav, "Description", "my own words",
                                        wait=120, on_wait=waiting.set)
        except Exception as exc:
            result["error"] = exc
    editing = threading.Thread(target=edit)
    editing.start()
    assert waiting.wait(120), result                    # the edit found the file held, and waits
    assert open(wav, "rb").read() == before             # having written nothing
    writer.write_and_let_go()
    editing.join(120)
    assert "error" not in result, result.get("error")
    row = open_store(db).files.get(wav)
    assert row.record.Description == "my own words" and "Description" in row.human_fields
    assert row.record.Notes == "noted by the other writer"                   # the other writer's too
    tags = _tags(wav)
    assert tags["Description"] == "my own words" and tags["Notes"] == "noted by the other writer"


def test_an_edit_is_refused_with_one_line_while_the_file_stays_held_and_nothing_is_written(indexed):
    wav, db = indexed
    store = open_store(db)
    before, row_before = open(wav, "rb").read(), store.files.get(wav)
    writer = OtherWriter(db, wav)
    with pytest.raises(EditError) as refused:
        person_edit(store, Config(), wav, "Description", "my own words")     # waits its 3 s, in vain
    assert str(refused.value) == f"{wav}: a scan or the daemon is writing it right now; nothing written, " \
                                 f"try again in a moment"
    assert open(wav, "rb").read() == before and store.files.get(wav).record == row_before.record
    writer.write_and_let_go()
    # once the writer let go, the same edit is made, on top of what it wrote
    row = person_edit(store, Config(), wav, "Description", "my own words", wait=0)
    assert row.record.Description == "my own words" and row.record.Notes == "noted by the other writer"


def test_the_edit_lets_go_of_the_file_so_a_scan_after_it_takes_it(indexed):
    wav, db = indexed
    store = open_store(db)
    person_edit(store, Config(), wav, "Description", "my own words", wait=0)
    assert store.queue.claim_path(wav, "scan:next", 60)        # no claim left behind
    store.queue.finish(wav, True)


def test_a_scan_names_who_holds_a_file_it_leaves_alone(indexed, tmp_path):
    """A scan beside an edit, the daemon or another scan says whose hands the file is in."""
    import json
    wav, db = indexed
    audiogen.write(str(tmp_path / "lib" / "door"), "wav16", audiogen.noise(0.6))     # changed: work for a scan
    store = open_store(db)
    try:
        for worker, who in (("edit:host:1:ab", "a person's edit"), ("scan:host:2:cd", "another sidecar scan"),
                            ("host:3:ef", "a sidecar daemon")):
            assert store.queue.claim_path(wav, worker, 600)
            result = run_sidecar("scan", str(tmp_path / "lib"), "--db", db, "--json")
            assert result.returncode == 0, result.stderr
            assert json.loads(result.stdout)["skipped_reasons"] == {f"in the hands of {who} on the same index": 1}
            store.queue.release_claims(worker)
    finally:
        store.close()
