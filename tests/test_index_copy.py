"""`sidecar index copy`: SQLite to PostgreSQL and back gives the same rows, vectors, models and answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from daemon_support import tiny_wav
from sidecar.index.copy import CopyError, copy_index
from sidecar.index.dburl import redact
from sidecar.index.interfaces import TEXT_VECTOR_SIZE, IndexedFile, StoredEmbedding, StoredModel, UcsRow
from sidecar.index.postgres import PgStore
from sidecar.index.store import open_store
from sidecar import formats
from sidecar.metadata.journal import Journal
from sidecar.metadata.record import Label, Provenance, Record

WORDS = "door wood metal rain car engine glass crash footsteps gravel wind night café".split()


def fill(db: str, tmp_path, count: int = 120) -> None:
    """A SQLite index with a bit of everything a library's index holds."""
    rng = np.random.default_rng(3)
    store = open_store(db)
    for i in range(count):
        words = [WORDS[j] for j in rng.choice(len(WORDS), 3, replace=False)]
        rec = Record(Description=" ".join(words), Keywords=words[:2], CatID="DOORWood" if i % 3 else "RAINGen",
                     provenance=Provenance(engine="embedded", model="yamnet", time="2026-12-04T10:00:00Z",
                                           labels=[Label(words[0].title(), 0.25 + i / 1000, "/m/x", "yamnet")]))
        path = f"/lib/{words[0]}/{i:04d} {words[1]}.wav"
        store.files.upsert(IndexedFile(path, 1000 + i, 10**18 + i, f"fp{i}", "wav", rec, written={"fields": ["Description"]},
                                 human_fields=["Notes"] if i % 7 == 0 else []))
        vec = rng.random(8).astype("<f4")
        store.vectors.put(path, StoredEmbedding(0, "aisfx-0.1.2", f"fp{i}", (vec / np.linalg.norm(vec)).tobytes(),
                                                  rng.random(16).astype("<f2").tobytes(),
                                                  np.arange(2, dtype="<f4").tobytes(), 8))
    store.models.save(StoredModel("aisfx-0.1.2", ["DOORWood", "RAINGen"], rng.random((2, 8)).tobytes(),
                                  rng.random(2).tobytes(), {"accuracy": 0.9}, [], created="2026-12-04T10:00:00Z"))
    store.queue.enqueue(["/lib/new.wav", "/lib/other.wav"], seen={"/lib/new.wav": (10, 20)})
    store.queue.claim("gone-worker", lease=60)
    store.meta.set("learned_at", "2026-12-04")
    meaning = store.text_vectors          # searched by meaning once: all but the last 7 files done
    meaning.set_state("labels", "minilm/labels-1")
    todo = meaning.todo()
    done = todo[:-7] if len(todo) > 7 else []
    unit = lambda: (v := rng.random(TEXT_VECTOR_SIZE).astype("<f4") - 0.5) / np.linalg.norm(v)  # noqa: E731
    meaning.write([(fid, f"digest-{fid}", None if fid % 11 == 0 else unit().tobytes(),
                    None if fid % 5 == 0 else unit().tobytes()) for fid, _ in done], done)
    store.ucs.save([UcsRow("DOORWood", "DOORS", "WOOD", "DOOR", "wooden doors", ["portal"],
                           {"de": {"Category": "TÜREN", "SubCategory": "HOLZ"}}),
                    UcsRow("AMBForst", "AMBIENCE", "FOREST")], "8.2.1", "UCS v8.2.1.xlsx")
    store.close()
    with Journal.at(db) as journal:
        for k in range(3):
            journal.record_original(tiny_wav(tmp_path / "audio" / f"t{k}.wav", seed=k), formats.WAV)


def test_sqlite_to_postgresql_and_back_loses_nothing(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first, back = str(tmp_path / "first.db"), str(tmp_path / "back.db")
    fill(first, tmp_path)

    there = copy_index(first, pg_url)
    assert there["from"]["tables"] == there["to"]["tables"]
    counts = {t: s["rows"] for t, s in there["from"]["tables"].items()}
    assert counts["files"] == 120 and counts["labels"] == 120 and counts["embeddings"] == 120
    assert counts["category_models"] == 1 and counts["jobs"] == 2 and counts["journal"] == 3
    assert (counts["ucs_categories"], counts["ucs_translations"], counts["ucs_meta"]) == (2, 1, 2)
    assert (counts["text_vectors"], counts["text_vector_todo"], counts["text_vector_state"]) == (113, 7, 1)
    assert there["to"]["index"] == redact(pg_url)

    home = copy_index(pg_url, back)
    assert home["from"]["tables"] == home["to"]["tables"] == there["from"]["tables"]

    lite, pg, again = open_store(first), open_store(pg_url), open_store(back)
    for query in ("door", "wood -metal", "rain, crash", '"door wood"', "foot*", "category:RAINGen café"):
        expected = [f.path for f in lite.files.search(query, limit=20)]
        assert [f.path for f in pg.files.search(query, limit=20)] == expected
        assert [f.path for f in again.files.search(query, limit=20)] == expected
    some = lite.files.paths_under("/lib")[5]
    for other in (pg, again):
        assert other.files.get(some).record.to_dict() == lite.files.get(some).record.to_dict()
        assert other.vectors.get(some).vector == lite.vectors.get(some).vector
        assert other.vectors.get(some).file_id == lite.vectors.get(some).file_id     # ids kept
        assert other.models.latest() == lite.models.latest()
        assert other.queue.counts() == lite.queue.counts()
        assert other.ucs.load() == lite.ucs.load()
        assert other.journal.entries() == lite.journal.entries()
        assert other.meta.get("learned_at") == "2026-12-04"
        # search by meaning's vectors came along: nothing is recomputed but what was still to do
        theirs, ours = other.text_vectors, lite.text_vectors
        assert theirs.state("labels") == ours.state("labels") and theirs.todo() == ours.todo()
        ids = list(range(1, 121))
        assert theirs.digests(ids) == ours.digests(ids) and len(ours.digests(ids)) == 113
        for kind in ("words", "heard"):
            assert theirs.kind(kind).by_ids(ids) == ours.kind(kind).by_ids(ids)
            assert 80 < theirs.kind(kind).count() == ours.kind(kind).count() < 113
    # a copy keeps on growing where the source stopped: new ids follow the copied ones
    copied = max(pg.files.by_ids(list(range(1, 1000))))
    pg.files.upsert(IndexedFile("/lib/after.wav", 1, 1, "fpA", "wav", Record(Description="after the copy")))
    assert [f.path for f in pg.files.search("after")] == ["/lib/after.wav"]
    assert max(pg.files.by_ids(list(range(1, 1000)))) > copied
    for s in (lite, pg, again):
        s.close()


def test_a_destination_that_holds_files_is_refused(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = str(tmp_path / "first.db")
    fill(first, tmp_path, count=5)
    copy_index(first, pg_url)
    with pytest.raises(CopyError, match="already holds 5 files"):
        copy_index(first, pg_url)
    with pytest.raises(CopyError, match="no such index"):
        copy_index(str(tmp_path / "missing.db"), pg_url)


def test_the_command_prints_both_sides_and_an_unreachable_database_is_exit_2(tmp_path, pg_url, monkeypatch):
    from conftest import run_sidecar
    first = str(tmp_path / "first.db")
    fill(first, tmp_path, count=8)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = run_sidecar("index", "copy", first, pg_url, "--json", env=env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["same"] and doc["from"]["tables"]["files"]["rows"] == 8
    text = run_sidecar("index", "copy", pg_url, str(tmp_path / "back.db"), env=env)
    assert text.returncode == 0 and "the same" in text.stdout and "files" in text.stdout

    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = f"postgresql://editor:s3cret@127.0.0.1:{port}/sfx"
    failed = run_sidecar("index", "copy", first, gone, env=env)
    assert failed.returncode == 2
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and f"editor:***@127.0.0.1:{port}" in lines[0] and "s3cret" not in failed.stderr
