"""One SQLite database in WAL mode: its schema, its upgrades, one connection behind a lock.

Every SQL statement of the SQLite backend runs through SqliteDb.execute, so the stores
beside this module hold statements and nothing else of the connection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sidecar.index.text import TEXT_COLUMNS, text_columns
from sidecar.metadata.record import Record

#: 2: CJK text in the t_* columns is split into single characters (an older index is rebuilt on open)
#: 3: the full-text index keeps 2- and 3-character prefix indexes (rebuilt on open)
SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    fingerprint TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT '',
    duration REAL, samplerate INTEGER, bitdepth INTEGER, channels INTEGER,
    record TEXT NOT NULL,
    written TEXT NOT NULL DEFAULT '{}',
    human_fields TEXT NOT NULL DEFAULT '[]',
    engine TEXT NOT NULL DEFAULT '',
    classified TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    t_description TEXT, t_keywords TEXT, t_labels TEXT, t_category TEXT, t_name TEXT, t_path TEXT
);
CREATE INDEX IF NOT EXISTS files_fingerprint ON files(fingerprint);
-- a rescan's and the daemon's catch-up's identities of every file, without reading the records
CREATE INDEX IF NOT EXISTS files_identity ON files(path, size, mtime_ns, fingerprint);
-- `sidecar status` counts by format and by engine, and the vectors: from indexes, not the rows
CREATE INDEX IF NOT EXISTS files_format ON files(format);
CREATE INDEX IF NOT EXISTS files_engine ON files(engine);
CREATE TABLE IF NOT EXISTS labels (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    label TEXT NOT NULL, mid TEXT NOT NULL, probability REAL NOT NULL, source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS labels_file ON labels(file_id);
CREATE INDEX IF NOT EXISTS labels_label ON labels(label);
CREATE VIRTUAL TABLE IF NOT EXISTS files_fts USING fts5(
    t_description, t_keywords, t_labels, t_category, t_name, t_path,
    content='files', content_rowid='id', prefix='2 3',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS files_ai AFTER INSERT ON files BEGIN
    INSERT INTO files_fts(rowid, t_description, t_keywords, t_labels, t_category, t_name, t_path)
    VALUES (new.id, new.t_description, new.t_keywords, new.t_labels, new.t_category, new.t_name, new.t_path);
END;
CREATE TRIGGER IF NOT EXISTS files_ad AFTER DELETE ON files BEGIN
    INSERT INTO files_fts(files_fts, rowid, t_description, t_keywords, t_labels, t_category, t_name, t_path)
    VALUES ('delete', old.id, old.t_description, old.t_keywords, old.t_labels, old.t_category, old.t_name, old.t_path);
END;
CREATE TRIGGER IF NOT EXISTS files_au AFTER UPDATE ON files BEGIN
    INSERT INTO files_fts(files_fts, rowid, t_description, t_keywords, t_labels, t_category, t_name, t_path)
    VALUES ('delete', old.id, old.t_description, old.t_keywords, old.t_labels, old.t_category, old.t_name, old.t_path);
    INSERT INTO files_fts(rowid, t_description, t_keywords, t_labels, t_category, t_name, t_path)
    VALUES (new.id, new.t_description, new.t_keywords, new.t_labels, new.t_category, new.t_name, new.t_path);
END;
CREATE TABLE IF NOT EXISTS jobs (
    path TEXT PRIMARY KEY,
    state TEXT NOT NULL DEFAULT 'queued',   -- queued | claimed | done | set_aside
    worker TEXT NOT NULL DEFAULT '',
    queued REAL NOT NULL, claimed REAL, reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, queued);
CREATE TABLE IF NOT EXISTS embeddings (
    file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    fingerprint TEXT NOT NULL,      -- of the audio it was heard from
    vector BLOB NOT NULL,           -- the file's: float32, unit length
    blocks BLOB NOT NULL,           -- one per block: float16, rows of `dim`
    starts BLOB NOT NULL,           -- each block's start, seconds: float32
    dim INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS embeddings_model ON embeddings(model);
CREATE TABLE IF NOT EXISTS vector_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS embeddings_ai AFTER INSERT ON embeddings BEGIN
    INSERT INTO vector_changes(file_id) VALUES (new.file_id);
END;
CREATE TRIGGER IF NOT EXISTS embeddings_au AFTER UPDATE OF vector ON embeddings BEGIN
    INSERT INTO vector_changes(file_id) VALUES (new.file_id);
END;
CREATE TRIGGER IF NOT EXISTS embeddings_ad AFTER DELETE ON embeddings BEGIN
    INSERT INTO vector_changes(file_id) VALUES (old.file_id);
END;
CREATE TABLE IF NOT EXISTS category_models (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    embedding_model TEXT NOT NULL,
    classes TEXT NOT NULL,          -- JSON list of CatIDs
    coef BLOB NOT NULL,             -- float64, classes x dim
    intercept BLOB NOT NULL,        -- float64, classes
    report TEXT NOT NULL,           -- JSON: cross-validated accuracy, overall and per category
    features TEXT NOT NULL DEFAULT '[]'  -- JSON list of AudioSet MIDs whose scores follow the vector
);
CREATE TABLE IF NOT EXISTS workers (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
    started REAL NOT NULL, heartbeat REAL NOT NULL, info TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS journal (
    path TEXT PRIMARY KEY,
    recorded_at REAL NOT NULL,
    size INTEGER NOT NULL,
    audio_offset INTEGER NOT NULL,
    audio_length INTEGER NOT NULL,
    audio_sha256 TEXT NOT NULL,
    original_sha256 TEXT NOT NULL,
    span_fn TEXT NOT NULL,
    head BLOB NOT NULL,
    tail BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS ucs_categories (
    catid TEXT PRIMARY KEY, category TEXT NOT NULL, subcategory TEXT NOT NULL,
    catshort TEXT NOT NULL DEFAULT '', explanations TEXT NOT NULL DEFAULT '',
    synonyms TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS ucs_translations (
    catid TEXT NOT NULL, lang TEXT NOT NULL, category TEXT NOT NULL DEFAULT '',
    subcategory TEXT NOT NULL DEFAULT '', explanations TEXT NOT NULL DEFAULT '',
    synonyms TEXT NOT NULL DEFAULT '[]', PRIMARY KEY (catid, lang));
CREATE TABLE IF NOT EXISTS ucs_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: columns added to category_models since it first shipped (an older index gets them at open)
_MODEL_COLUMNS = {"features": "TEXT NOT NULL DEFAULT '[]'"}
#: columns the work queue gained after the first schema; added in place to an older index
_JOB_COLUMNS = {
    "tries": "INTEGER NOT NULL DEFAULT 0",          # failed attempts so far
    "not_before": "REAL NOT NULL DEFAULT 0",        # back-off, or the stability wait
    "lease_until": "REAL",                          # a claim not renewed by then is taken up again
    "seen_size": "INTEGER", "seen_mtime_ns": "INTEGER",   # the file as last observed
    "again": "INTEGER NOT NULL DEFAULT 0",          # changed while claimed: queue it again after
    "taken_over": "REAL",                           # the claim time of a worker that died holding it
    "finished": "REAL",
}


class Result:
    """A statement's rows, already fetched, with the cursor's reading methods."""

    def __init__(self, rows: list, rowcount: int):
        self._rows = rows
        self.rowcount = rowcount

    def fetchall(self) -> list:
        return self._rows

    def fetchone(self):
        return self._rows[0] if self._rows else None


class SqliteDb:
    """One connection, thread-safe behind a lock (WAL lets other processes read meanwhile)."""

    def __init__(self, conn: sqlite3.Connection, path: str):
        self.conn = conn
        self.path = path
        self._lock = threading.RLock()
        self.tracer: Callable[[str, tuple], None] | None = None

    @classmethod
    def open(cls, path: str, *, synchronous: str = "NORMAL") -> "SqliteDb":
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        return cls(conn, path)

    def create_schema(self) -> None:
        with self.atomic():
            for statement in split_sql(SCHEMA):
                self.conn.execute(statement)
            self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        if self.schema_version() < SCHEMA_VERSION:
            self._upgrade()
        self._add_columns()

    def schema_version(self) -> int:
        row = self.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        try:
            return int(row[0]) if row else SCHEMA_VERSION
        except ValueError:
            return 0

    def _add_columns(self) -> None:
        """Columns newer than the table, added to an index made before them."""
        with self.atomic():
            for table, columns in (("jobs", _JOB_COLUMNS), ("category_models", _MODEL_COLUMNS)):
                have = {r[1] for r in self.execute(f"PRAGMA table_info({table})").fetchall()}
                for name, kind in columns.items():
                    if name not in have:
                        self.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            self.execute("CREATE INDEX IF NOT EXISTS jobs_ready ON jobs(state, not_before, queued)")
            # `sidecar status` over a week of done jobs: the last hour's, and the last errors
            self.execute("CREATE INDEX IF NOT EXISTS jobs_finished ON jobs(state, finished)")
            self.execute("CREATE INDEX IF NOT EXISTS jobs_errors ON jobs(coalesce(finished, queued)) "
                         "WHERE reason != '' AND (tries > 0 OR state = 'set_aside')")
            self.execute("UPDATE jobs SET state = 'set_aside' WHERE state = 'failed'")

    def _upgrade(self) -> None:
        """Bring an index written by an older version up to SCHEMA_VERSION.

        Before 2, the t_* columns are computed again from each row's path and
        stored record, with the update trigger dropped for the while. The FTS
        index is made again with this version's options and rebuilt from them
        once. One transaction: another process opening the index meanwhile
        waits, then finds it done.
        """
        with self.atomic():
            version = self.schema_version()
            if version >= SCHEMA_VERSION:
                return
            if version < 2:
                self.execute("DROP TRIGGER IF EXISTS files_au")
                rows = self.execute("SELECT id, path, record FROM files").fetchall()
                sets = ", ".join(f"{c} = ?" for c in TEXT_COLUMNS)
                self.executemany(
                    f"UPDATE files SET {sets} WHERE id = ?",
                    [(*text_columns(path, Record.from_dict(json.loads(record))).values(), rowid)
                     for rowid, path, record in rows])
            self.execute("DROP TABLE IF EXISTS files_fts")      # its options are fixed when made
            for statement in split_sql(SCHEMA):
                self.execute(statement)
            self.execute("INSERT INTO files_fts(files_fts) VALUES ('rebuild')")
            self.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.conn.close()

    def execute(self, sql: str, params: tuple | dict = ()) -> Result:
        if self.tracer:
            self.tracer(sql, params)
        # rows are fetched under the lock: a cursor read later from another thread would
        # interleave with a transaction under way on this shared connection
        with self._lock:
            cur = self.conn.execute(sql, params)
            return Result(cur.fetchall(), cur.rowcount)

    def collect(self, sql: str, build: Callable[[Iterator[tuple]], object], params: tuple = ()):
        """build(rows) over a statement's rows as plain tuples, one at a time (no list of them all,
        no sqlite3.Row each): for reads of every file at once."""
        if self.tracer:
            self.tracer(sql, params)
        with self._lock:
            cur = self.conn.cursor()
            cur.row_factory = None
            return build(cur.execute(sql, params))

    def executemany(self, sql: str, rows: list) -> int:
        with self._lock:
            return self.conn.executemany(sql, rows).rowcount

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """BEGIN/COMMIT, rolled back on any exception; nested calls join the outer one."""
        with self._lock:
            if self.conn.in_transaction:
                yield
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")


def split_sql(script: str) -> list[str]:
    """Statements of the schema; triggers hold semicolons inside BEGIN ... END."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (not text.upper().startswith("CREATE TRIGGER") or text.upper().endswith("END;")):
            out.append(text)
            buf = []
    return out
