"""What keeps a million-file index quick: `sidecar status` and the identities a rescan or the
daemon's catch-up compares read indexes, never the rows themselves (a file's row holds its whole
record, an embedding's its vectors), and every file is read a page at a time. The queries are those
the real code runs, caught by the index's tracer; their plans come from SQLite itself."""

from __future__ import annotations

from click.testing import CliRunner

from sidecar.cli import cli
from sidecar.index.interfaces import IndexedFile, StoredEmbedding
from sidecar.index.sqlite import db as sqlite_db
from sidecar.index.store import open_store
from sidecar.metadata.record import Record


def test_every_count_of_sidecar_status_reads_an_index(tmp_path, monkeypatch):
    path = tmp_path / "index.db"
    store = open_store(path)
    for i in range(30):
        item = IndexedFile(f"/lib/f{i}.wav", 1, 1, f"pcm:{i}", "wav" if i % 2 else "flac", Record())
        store.files.upsert(item)
        store.vectors.put(item.path, StoredEmbedding(0, "m", f"pcm:{i}", b"\0" * 2048, b"", b"", 512))
    store.queue.enqueue([f"/lib/f{i}.wav" for i in range(5)])
    store.close()

    seen: list[str] = []
    opened = sqlite_db.SqliteDb.open

    def traced(*args, **kwargs):
        db = opened(*args, **kwargs)
        db.tracer = lambda sql, params: seen.append((sql, params))
        return db

    monkeypatch.setattr(sqlite_db.SqliteDb, "open", traced)   # the tracer hook, on the command's own index
    result = CliRunner().invoke(cli, ["status", "--json", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert '"files": 30' in result.output and '"vectors": 30' in result.output

    check = open_store(path)
    counted = [(sql, params) for sql, params in seen if "count(" in sql and sql.lstrip().upper().startswith("SELECT")]
    assert len(counted) >= 4, counted
    for sql, params in counted:
        plan = " / ".join(r[3] for r in check.db.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert all("INDEX" in step for step in plan.split(" / ") if step.startswith("SCAN")), (sql, plan)
    check.close()


def _plan(store, sql: str, params=()) -> list[str]:
    return [r[3] for r in store.db.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]


def test_identities_read_an_index_and_every_file_comes_a_page_at_a_time(tmp_path):
    store = open_store(tmp_path / "index.db")
    paths = [f"/lib/{i % 7}/f{i:05d}.wav" for i in range(2_345)]
    with store.atomic():
        for i, path in enumerate(paths):
            store.files.upsert(IndexedFile(path, i, i * 10, f"pcm:{i}", "wav", Record(Description=f"n{i}")))
    seen: list[str] = []
    store.db.tracer = lambda sql, params: seen.append(sql)
    known = store.files.identities()
    assert known[paths[42]] == (42, 420, "pcm:42") and len(known) == len(paths)
    assert all("COVERING INDEX" in step for step in _plan(store, seen[-1]) if step.startswith("SCAN")), seen[-1]
    seen.clear()
    every = [(f.path, f.record.Description) for f in store.files.all()]
    assert every == sorted((p, f"n{i}") for i, p in enumerate(paths))
    assert len(seen) == 3                                   # 1,000 + 1,000 + 345 rows
    store.close()
