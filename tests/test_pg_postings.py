"""The postings of the PostgreSQL index (migration 0004): which rows hold each word, in which
columns. FTS5's walk reads its stop lists there, so they must equal a recount from the rows
after every way a file comes, changes and goes: upserts, deletes, `sidecar index copy`, and the
migration of a database made before they existed."""

from __future__ import annotations

import random

from test_search_backends import library, paths, query, synonyms

from sidecar.index import fts_twin
from sidecar.index.copy import copy_index
from sidecar.index.interfaces import IndexedFile
from sidecar.index.postgres import PgStore, migrations
from sidecar.index.postgres.database import Database
from sidecar.index.postgres.files import PgFiles
from sidecar.index.store import open_store


def kept(db) -> set[tuple[str, int, int]]:
    return {(r["token"], r["file_id"], r["mask"]) for r in db.execute("SELECT token, file_id, mask FROM postings")}


def recount(db) -> set[tuple[str, int, int]]:
    """(word, file id, columns mask) of every word each row's tsvector holds, from the rows."""
    out = set()
    for row in db.execute("SELECT id, words FROM files"):
        masks: dict[str, int] = {}
        for column, tokens in enumerate(row["words"]):
            for token in tokens:
                if len(token.encode()) <= fts_twin.MAX_LEXEME_BYTES:
                    masks[token] = masks.get(token, 0) | (1 << column)
        out.update((token, row["id"], mask) for token, mask in masks.items())
    return out


def upsert(files, lib) -> None:
    for path, rec in lib:
        files.upsert(IndexedFile(path, 100, 1, "fp-" + path, "wav", rec))


def test_postings_follow_inserts_updates_and_deletes(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = PgStore.open(pg_url)
    lib = library(random.Random(21), 200)
    upsert(store.files, lib)
    assert kept(store.db) == recount(store.db) and len(kept(store.db)) > 1000

    changed = library(random.Random(99), 60)
    upsert(store.files, [(path, rec) for (path, _), (_, rec) in zip(lib[:60], changed)])
    store.files.delete_many([p for p, _ in lib[60:90]])
    store.files.delete(lib[90][0])
    long_word = "x" * (fts_twin.MAX_LEXEME_BYTES + 10)      # no tsvector holds it: no posting either
    path, rec = lib[91]
    rec.Description = f"{rec.Description} {long_word}"
    store.files.upsert(IndexedFile(path, 100, 2, "fp-" + path, "wav", rec))
    store.files.touch(lib[92][0], 5, 6)                     # no word changed: nothing to redo

    assert kept(store.db) == recount(store.db)
    ids = {r["id"] for r in store.db.execute("SELECT id FROM files")}
    assert {file_id for _, file_id, _ in kept(store.db)} == ids and len(ids) == 200 - 31
    store.close()


def test_postings_after_a_copy_and_a_migration_answer_as_sqlite(pg_url, pg_server, tmp_path, monkeypatch):
    """A copied index and one migrated from schema 3 (made before the postings) hold the same
    postings as a recount, and rank as SQLite does where FTS5's walk is replayed from them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lib = library(random.Random(7), 300)
    lite_path = str(tmp_path / "index.db")
    lite = open_store(lite_path)
    upsert(lite.files, lib)

    copied = pg_url
    copy_index(lite_path, copied)
    pg = PgStore.open(copied)
    assert kept(pg.db) == recount(pg.db) and len(kept(pg.db)) > 1000
    pg.close()

    older, drop = pg_server.new_database()
    try:
        db = Database(older)
        assert migrations.migrate(db, upto=3) == [1, 2, 3]
        upsert(PgFiles(db), lib)
        assert db.scalar("SELECT to_regclass('postings')") is None
        assert migrations.migrate(db) == list(range(4, migrations.latest() + 1))
        assert kept(db) == recount(db)
        db.close()

        walked = 0
        rng = random.Random(5)
        for store_url in (copied, older):
            pg = PgStore.open(store_url)
            for _ in range(80):
                q = query(rng, lib)
                walked += _walks(q)
                assert paths(pg.files.search(q, expand=synonyms, limit=5)) == \
                    paths(lite.files.search(q, expand=synonyms, limit=5)), q
            pg.close()
        assert walked > 0           # some of those searches replayed the walk from the postings
    finally:
        drop()
    lite.close()


def _walks(q: str) -> int:
    from sidecar.index.query import parse
    parsed = parse(q).expanded(synonyms)
    return int(all(g.positives for g in parsed.groups) and fts_twin.needs_walk(fts_twin.query_tree(parsed)))


def test_a_bulk_copy_leaves_tallies_indexes_and_trigger_as_upserts_would(pg_url, pg_server, tmp_path, monkeypatch):
    """`sidecar index copy` loads the files without their trigger and search indexes and builds
    them afterwards: the tallies, postings and indexes then equal those of upserts one by one, and
    the trigger keeps them again for the next write."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lib = library(random.Random(11), 150)
    lite_path = str(tmp_path / "index.db")
    lite = open_store(lite_path)
    upsert(lite.files, lib)
    lite.close()
    copy_index(lite_path, pg_url)

    def state(db):
        return (kept(db),
                {(r["token"], r["mask"], r["rows"]) for r in db.execute("SELECT * FROM word_rows WHERE rows > 0")},
                db.one("SELECT files, words FROM word_totals"),
                {(r["tablename"], r["indexdef"]) for r in db.execute(
                    "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema()")},
                db.scalar("SELECT tgenabled FROM pg_trigger WHERE tgname = 'files_word_totals'"))

    by_hand, drop = pg_server.new_database()
    try:
        one_by_one = PgStore.open(by_hand)
        upsert(one_by_one.files, lib)
        copied = PgStore.open(pg_url)
        assert state(copied.db) == state(one_by_one.db)
        assert copied.db.one("SELECT files FROM word_totals")["files"] == 150
        one_by_one.close()
    finally:
        drop()
    extra = library(random.Random(12), 3)
    upsert(copied.files, [("/elsewhere" + path, rec) for path, rec in extra])
    copied.files.delete(lib[0][0])
    assert kept(copied.db) == recount(copied.db)
    assert copied.db.one("SELECT files FROM word_totals")["files"] == 152
    copied.close()
