"""`sidecar index copy FROM TO`: an index moved between SQLite and PostgreSQL, row for row.

Every table that holds the library's knowledge goes across with its keys
(file ids stay the ids the vectors and a search's tie-break use): files and
their labels, vectors, learned models, the queue, the undo journal, the
official UCS list, meta values and, where the source was ever searched by
meaning, its text vectors, their state and to-do list (so nothing is encoded
again). What belongs to the running processes of the source (its workers,
its vector change logs) does not: the destination's sounds-like log starts at
the source's last change number, its text vectors' log at their copy, so
every machine builds its graphs afresh. The destination must be empty.

Each side is then summed up per table: a row count and a checksum that does
not depend on row order (the sum of each row's sha256, modulo 2^256, over a
canonical form of its values), read back from the destination, not from what
was sent.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from psycopg.rows import tuple_row

from sidecar.errors import ConfigError
from sidecar.index import fts_twin
from sidecar.index.dburl import is_postgres, redact

#: table -> its columns, as both backends name them (PostgreSQL's search columns are computed)
TABLES: dict[str, tuple[str, ...]] = {
    "files": ("id", "path", "size", "mtime_ns", "fingerprint", "format", "duration", "samplerate", "bitdepth",
              "channels", "record", "written", "human_fields", "engine", "classified", "updated",
              "t_description", "t_keywords", "t_labels", "t_category", "t_name", "t_path"),
    "labels": ("file_id", "label", "mid", "probability", "source"),
    "embeddings": ("file_id", "model", "fingerprint", "vector", "blocks", "starts", "dim"),
    "category_models": ("version", "created", "embedding_model", "classes", "coef", "intercept", "report",
                        "features"),
    "jobs": ("path", "state", "worker", "queued", "claimed", "reason", "tries", "not_before", "lease_until",
             "seen_size", "seen_mtime_ns", "again", "taken_over", "finished"),
    "journal": ("path", "recorded_at", "size", "audio_offset", "audio_length", "audio_sha256",
                "original_sha256", "span_fn", "head", "tail"),
    "ucs_categories": ("catid", "category", "subcategory", "catshort", "explanations", "synonyms"),
    "ucs_translations": ("catid", "lang", "category", "subcategory", "explanations", "synonyms"),
    "ucs_meta": ("key", "value"),
    "meta": ("key", "value"),
    # search by meaning's vectors (only where it was ever used: see _Side.meaning_kept)
    "text_vector_state": ("key", "value"),
    "text_vectors": ("file_id", "words_digest", "words", "heard"),
    "text_vector_todo": ("file_id", "n"),
}
#: the tables of search by meaning, copied only when the source keeps them
_MEANING = ("text_vector_state", "text_vectors", "text_vector_todo")
#: meta keys that describe one backend's own state, not the library
_OWN_META = ("schema", "vector_log_floor")
#: keys of one backend's own state of search by meaning (PostgreSQL's flag for "in use", each log's floor)
_OWN_TEXT_STATE = ("enabled", "floor.words", "floor.heard")
#: which rows of a key-value table are the library's
_OWN_KEYS = {"meta": _OWN_META, "text_vector_state": _OWN_TEXT_STATE}
#: PostgreSQL tables a copy loads in bulk (see _PostgresSide.loading)
_BULK_TABLES = ("files", "labels", "postings", "word_rows", "word_totals")
BATCH = 2000


class CopyError(ConfigError):
    """The copy cannot start (an unreachable side, a destination that is not empty)."""


@dataclass
class Summary:
    rows: int = 0
    checksum: int = 0

    def add(self, values: tuple) -> None:
        self.rows += 1
        self.checksum = (self.checksum + int.from_bytes(hashlib.sha256(_canonical(values)).digest(), "big")) % 2**256

    def to_json(self) -> dict:
        return {"rows": self.rows, "checksum": f"{self.checksum:064x}"}


def _canonical(values: tuple) -> bytes:
    def one(v):
        if isinstance(v, (bytes, bytearray, memoryview)):
            return {"b": bytes(v).hex()}
        if isinstance(v, float):
            return {"f": v.hex()}
        return v
    return json.dumps([one(v) for v in values], ensure_ascii=False, separators=(",", ":")).encode()


# -- the two sides ---------------------------------------------------------------------------
class _Side:
    name: str

    def rows(self, table: str) -> Iterator[tuple]:
        raise NotImplementedError

    def tables(self) -> set[str]:
        raise NotImplementedError

    def write(self, table: str, rows: list[tuple]) -> None:
        raise NotImplementedError

    def loading(self):
        """Around every write of a copy."""
        return nullcontext()

    def meaning_kept(self) -> bool:
        """Whether this index was ever searched by meaning (it then keeps text vectors)."""
        raise NotImplementedError

    def keep_meaning(self) -> None:
        """Start keeping search by meaning's tables, with an empty to-do list (the source's follows)."""
        raise NotImplementedError

    def finish(self, last_change: int) -> None:
        pass

    def last_change(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def summarize(self) -> dict[str, dict]:
        out = {}
        have = self.tables()
        for table in TABLES:
            summary = Summary()
            if table in have:
                for values in self.rows(table):
                    summary.add(values)
            out[table] = summary.to_json()
        return out


class _SqliteSide(_Side):
    def __init__(self, path: str, *, create: bool):
        from sidecar.index.sqlite import SqliteStore
        self.name = path
        if create:
            SqliteStore.open(path).close()      # every table of the index, journal and UCS list included
        self.conn = sqlite3.connect(f"file:{path}?mode={'rw' if create else 'ro'}", uri=True)

    def tables(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def rows(self, table: str) -> Iterator[tuple]:
        cols = ", ".join(TABLES[table])
        own = _OWN_KEYS.get(table, ())
        where = f" WHERE key NOT IN ({', '.join('?' * len(own))})" if own else ""
        order = " ORDER BY rowid" if table == "ucs_categories" else ""      # the list's own order
        yield from self.conn.execute(f"SELECT {cols} FROM {table}{where}{order}", own)

    def write(self, table: str, rows: list[tuple]) -> None:
        cols = TABLES[table]
        with self.conn:
            self.conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                  rows)

    def last_change(self) -> int:
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_changes'").fetchone()
        return int(row[0]) if row else 0

    def finish(self, last_change: int) -> None:
        with self.conn:
            if last_change:
                self.conn.execute("INSERT OR REPLACE INTO sqlite_sequence (name, seq) VALUES ('vector_changes', ?)",
                                  (last_change,))
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('vector_log_floor', ?)",
                              (str(last_change),))

    def count_files(self) -> int:
        return self.conn.execute("SELECT count(*) FROM files").fetchone()[0]

    def meaning_kept(self) -> bool:
        return "text_vectors" in self.tables()

    def keep_meaning(self) -> None:
        from sidecar.index.sqlite import SqliteStore
        store = SqliteStore.open(self.name)
        try:
            store.text_vectors.ensure()         # its tables and triggers, every file to do...
        finally:
            store.close()
        with self.conn:
            self.conn.execute("DELETE FROM text_vector_todo")     # ...but the source's list is the one

    def close(self) -> None:
        self.conn.close()


class _PostgresSide(_Side):
    def __init__(self, url: str):
        from sidecar.index.postgres import PgStore
        self.name = redact(url)
        self.store = PgStore.open(url)
        self.db = self.store.db
        self._position = 0          # ucs_categories keeps the list's order in a column
        self._bulk = False          # inside loading(), as the tables' owner

    def tables(self) -> set[str]:
        return set(TABLES)

    def rows(self, table: str) -> Iterator[tuple]:
        cols = ", ".join(TABLES[table])
        own = _OWN_KEYS.get(table, ())
        where = " WHERE key <> ALL(%s)" if own else ""
        order = " ORDER BY position" if table == "ucs_categories" else ""
        with self.db.pool.connection() as conn:
            with conn.transaction():
                with conn.cursor(name=f"copy_{table}", row_factory=tuple_row) as cur:
                    cur.execute(f"SELECT {cols} FROM {table}{where}{order}", (list(own),) if own else None)
                    for row in cur:
                        yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)

    def write(self, table: str, rows: list[tuple]) -> None:
        cols = list(TABLES[table])
        if table == "files":        # the search columns PostgreSQL adds, from the t_* text
            text_at = [cols.index(c) for c in fts_twin.COLUMNS]
            extra = []
            for row in rows:
                words = fts_twin.tokenizer().columns({c: row[i] for c, i in zip(fts_twin.COLUMNS, text_at)})
                extra.append((json.dumps(words), sum(len(w) for w in words), fts_twin.tsvector_text(words)))
            rows = [r + e for r, e in zip(rows, extra)]
            cols += ["words", "word_count", "tv"]
        if table == "ucs_categories":
            rows = [r + (self._position + k,) for k, r in enumerate(rows)]
            self._position += len(rows)
            cols.append("position")
        with self.db.atomic(), self.db.connection() as conn:
            if table == "files" and not self._bulk:
                conn.execute("SELECT 1 FROM word_totals FOR UPDATE")
            # COPY, not INSERTs: a tenth of the round trips and parsing for a library of a million files
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    @contextmanager
    def loading(self) -> Iterator[None]:
        """The whole copy as one transaction (a failed copy leaves the destination empty). When
        this role owns the tables, the files go in without their per-row trigger and without the
        indexes that only searches need, and the tallies, postings and indexes are then built once
        from all the rows: an index built at once is a sort, one grown row by row a descent per
        word of every row."""
        with self.db.atomic():
            owner = self.db.scalar(
                "SELECT bool_and(pg_has_role(current_user, relowner, 'USAGE')) FROM pg_class "
                "WHERE oid = ANY(%s::regclass[])", (list(_BULK_TABLES),))
            self._bulk = bool(owner)
            rebuild: list[str] = []
            if self._bulk:
                rebuild = self._set_indexes_aside()
                self.db.execute("ALTER TABLE files DISABLE TRIGGER files_word_totals")
            yield
            if self._bulk:
                self._tally()
                self.db.execute("ALTER TABLE files ENABLE TRIGGER files_word_totals")
                for statement in rebuild:
                    self.db.execute(statement)
                self._bulk = False

    def _set_indexes_aside(self) -> list[str]:
        """Drop the search-only indexes of the bulk tables (secondary indexes, and the postings'
        key, which nothing refers to); the statements that make them again."""
        rows = self.db.execute(
            "SELECT i.indexrelid::regclass::text AS name, i.indrelid::regclass::text AS tab, "
            "pg_get_indexdef(i.indexrelid) AS def, c.conname, pg_get_constraintdef(c.oid) AS condef "
            "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
            "WHERE i.indrelid = ANY(%s::regclass[]) ORDER BY 1", (list(_BULK_TABLES),))
        again = []
        for r in rows:
            if r["conname"] is None:
                self.db.execute(f'DROP INDEX "{r["name"]}"')
                again.append(r["def"])
            elif r["tab"] == "postings":
                self.db.execute(f'ALTER TABLE postings DROP CONSTRAINT "{r["conname"]}"')
                again.append(f'ALTER TABLE postings ADD CONSTRAINT "{r["conname"]}" {r["condef"]}')
        return again

    def _tally(self) -> None:
        """What the files' trigger keeps row by row, from all the rows at once (the statements of
        migrations 0002 and 0004)."""
        self.db.execute("UPDATE word_totals SET files = (SELECT count(*) FROM files), "
                        "words = (SELECT coalesce(sum(word_count), 0) FROM files)")
        self.db.execute("DELETE FROM word_rows")
        self.db.execute("INSERT INTO word_rows (token, mask, rows) SELECT m.token, m.mask, count(*) "
                        "FROM files f, word_masks(f.words) m GROUP BY m.token, m.mask")
        self.db.execute("DELETE FROM postings")
        self.db.execute("INSERT INTO postings (token, file_id, mask) SELECT m.token, f.id, m.mask "
                        "FROM files f, word_masks(f.words) m WHERE octet_length(m.token) <= %s "
                        "ORDER BY m.token, f.id", (fts_twin.MAX_LEXEME_BYTES,))

    def last_change(self) -> int:
        return self.store.vectors.last_change()

    def finish(self, last_change: int) -> None:
        with self.db.atomic():
            for table, column, sequence in (("files", "id", "files_id_seq"),
                                            ("category_models", "version", "category_models_version_seq")):
                self.db.execute(f"SELECT setval('{sequence}', greatest((SELECT max({column}) FROM {table}), 1), "
                                f"(SELECT max({column}) FROM {table}) IS NOT NULL)")
            if last_change:
                self.db.execute("SELECT setval('vector_changes_seq_seq', %s)", (last_change,))
            self.db.execute("INSERT INTO meta (key, value) VALUES ('vector_log_floor', %s) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(last_change),))
        # a bulk load leaves the planner without statistics and the word tally full of dead
        # versions (one per file holding a word), and the postings not yet known all-visible (their
        # index-only scans read the table): searches pay for that until autovacuum comes by
        self.db.execute("VACUUM (ANALYZE) files, word_rows, word_totals, postings")

    def count_files(self) -> int:
        return self.store.files.count()

    def meaning_kept(self) -> bool:
        return self.store.text_vectors.exists()

    def keep_meaning(self) -> None:
        # the files are in already and none is to do yet: the flag alone, not ensure()'s fill
        self.db.execute("INSERT INTO text_vector_state (key, value) VALUES ('enabled', '1') ON CONFLICT DO NOTHING")

    def close(self) -> None:
        self.store.close()


def _open(target: str, *, destination: bool) -> _Side:
    if is_postgres(target):
        return _PostgresSide(target)
    import os
    if not destination and not os.path.isfile(target):
        raise CopyError(f"{target}: no such index")
    return _SqliteSide(target, create=destination)


def copy_index(source: str, destination: str, progress=None) -> dict:
    """Copy every table from source to destination (an empty index); both sides' counts and checksums."""
    if source == destination:
        raise CopyError("FROM and TO are the same index")
    src = _open(source, destination=False)
    try:
        dst = _open(destination, destination=True)
    except BaseException:
        src.close()
        raise
    try:
        held = dst.count_files()
        if held:
            raise CopyError(f"{dst.name} already holds {held} files: copy into an empty index")
        have = src.tables()
        meaning = src.meaning_kept()
        with dst.loading():
            for table in TABLES:
                if table not in have or (table in _MEANING and not meaning):
                    continue
                if table == _MEANING[0]:
                    dst.keep_meaning()
                batch: list[tuple] = []
                for values in src.rows(table):
                    batch.append(values)
                    if len(batch) >= BATCH:
                        dst.write(table, batch)
                        batch = []
                if batch:
                    dst.write(table, batch)
                if progress:
                    progress(table)
        dst.finish(src.last_change())
        return {"from": {"index": src.name, "tables": src.summarize()},
                "to": {"index": dst.name, "tables": dst.summarize()}}
    finally:
        src.close()
        dst.close()
