"""The index: SQLite in WAL mode with FTS5, behind one small interface.

Every SQL statement of the project runs here (add, update, query, claim the
next job), so a PostgreSQL backend for a shared studio index is a module
beside this one, not a rewrite. Search input never becomes SQL text: the
query tree compiles to one FTS5 MATCH string bound as a parameter.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sidecar.index.query import Query, cjk_split, parse
from sidecar.metadata.record import Record

#: 2: CJK text in the t_* columns is split into single characters (an older index is rebuilt on open)
SCHEMA_VERSION = 2
TEXT_COLUMNS = ("t_description", "t_keywords", "t_labels", "t_category", "t_name", "t_path")
DEFAULT_DB = Path.home() / ".local" / "share" / "sidecar" / "index.db"

_SCHEMA = """
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
CREATE TABLE IF NOT EXISTS labels (
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    label TEXT NOT NULL, mid TEXT NOT NULL, probability REAL NOT NULL, source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS labels_file ON labels(file_id);
CREATE INDEX IF NOT EXISTS labels_label ON labels(label);
CREATE VIRTUAL TABLE IF NOT EXISTS files_fts USING fts5(
    t_description, t_keywords, t_labels, t_category, t_name, t_path,
    content='files', content_rowid='id',
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
"""

#: columns the work queue gained after the first schema; added in place to an older index
#: columns added to category_models since it first shipped (an older index gets them at open)
_MODEL_COLUMNS = {"features": "TEXT NOT NULL DEFAULT '[]'"}
_JOB_COLUMNS = {
    "tries": "INTEGER NOT NULL DEFAULT 0",          # failed attempts so far
    "not_before": "REAL NOT NULL DEFAULT 0",        # back-off, or the stability wait
    "lease_until": "REAL",                          # a claim not renewed by then is taken up again
    "seen_size": "INTEGER", "seen_mtime_ns": "INTEGER",   # the file as last observed
    "again": "INTEGER NOT NULL DEFAULT 0",          # changed while claimed: queue it again after
    "taken_over": "REAL",                           # the claim time of a worker that died holding it
    "finished": "REAL",
}

#: bm25 weights, in FTS column order: a category or keyword hit counts most.
_WEIGHTS = "2.0, 3.0, 2.0, 3.0, 2.0, 1.0"


@dataclass
class IndexedFile:
    """One row of the index: a file, its identity and its canonical record."""

    path: str
    size: int
    mtime_ns: int
    fingerprint: str
    format: str
    record: Record
    written: dict = field(default_factory=dict)
    human_fields: list[str] = field(default_factory=list)
    updated: str = ""
    classified: str = ""

    def to_json(self) -> dict:
        """Canonical field names first, as every --json output shows a file."""
        out = {"path": self.path, "format": self.format, "size": self.size,
               "fingerprint": self.fingerprint}
        rec = self.record.to_dict()
        provenance = rec.pop("provenance")
        out.update(rec)
        out["provenance"] = provenance
        out["human_fields"] = self.human_fields
        out["written"] = self.written
        out["updated"] = self.updated
        return out


@dataclass
class StoredEmbedding:
    """A file's embeddings as the index keeps them (raw little-endian arrays)."""

    file_id: int
    model: str
    fingerprint: str
    vector: bytes
    blocks: bytes
    starts: bytes
    dim: int
    size: int = 0           # the file's size and mtime when indexed
    mtime_ns: int = 0


def default_db_path() -> str:
    return os.environ.get("SIDECAR_DB") or str(DEFAULT_DB)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# "DOORWood" -> "DOOR Wood", "carDoor" -> "car Door": UCS names and camelCase become words
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _name_words(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    words = re.sub(r"[_\-.]+", " ", stem)
    split = _CAMEL.sub(" ", words)
    return words if split == words else f"{words} {split}"


def _path_words(path: str) -> str:
    parent = os.path.dirname(path)
    return re.sub(r"[/\\_\-.]+", " ", parent).strip()


def _text_columns(path: str, rec: Record) -> dict[str, str]:
    """The full-text columns of a file: what search matches, CJK split into characters."""
    text = {
        "t_description": " ".join(x for x in (rec.Description, rec.FXName, rec.TrackTitle,
                                               rec.Notes, rec.UserComments) if x),
        "t_keywords": " ; ".join(rec.Keywords),
        "t_labels": " ; ".join(l.label for l in rec.provenance.labels),
        "t_category": " ".join(x for x in (rec.CatID, rec.Category, rec.SubCategory) if x),
        "t_name": _name_words(path),
        "t_path": _path_words(path),
    }
    return {k: cjk_split(v) for k, v in text.items()}


class _Result:
    """A statement's rows, already fetched, with the cursor's reading methods."""

    def __init__(self, rows: list, rowcount: int):
        self._rows = rows
        self.rowcount = rowcount

    def fetchall(self) -> list:
        return self._rows

    def fetchone(self):
        return self._rows[0] if self._rows else None


class Store:
    """The SQLite index. Thread-safe: one connection guarded by a lock (WAL lets readers in)."""

    def __init__(self, conn: sqlite3.Connection, path: str):
        self.conn = conn
        self.path = path
        self._lock = threading.RLock()
        self.tracer: Callable[[str, tuple], None] | None = None

    @classmethod
    def open(cls, db_path: str | os.PathLike | None = None) -> "Store":
        path = str(db_path or default_db_path())
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        store = cls(conn, path)
        with store.atomic():
            for statement in _split_sql(_SCHEMA):
                conn.execute(statement)
            conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        if store.schema_version() < SCHEMA_VERSION:
            store._upgrade()
        store._add_columns()
        return store

    def _add_columns(self) -> None:
        """Columns newer than the table, added to an index made before them."""
        with self.atomic():
            for table, columns in (("jobs", _JOB_COLUMNS), ("category_models", _MODEL_COLUMNS)):
                have = {r[1] for r in self.execute(f"PRAGMA table_info({table})").fetchall()}
                for name, kind in columns.items():
                    if name not in have:
                        self.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            self.execute("CREATE INDEX IF NOT EXISTS jobs_ready ON jobs(state, not_before, queued)")
            self.execute("UPDATE jobs SET state = 'set_aside' WHERE state = 'failed'")

    def schema_version(self) -> int:
        row = self.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        try:
            return int(row[0]) if row else SCHEMA_VERSION
        except ValueError:
            return 0

    def _upgrade(self) -> None:
        """Bring an index written by an older version up to SCHEMA_VERSION.

        The t_* columns are computed again from each row's path and stored
        record, with the update trigger dropped for the while, and the FTS
        index is rebuilt from them once. One transaction: another process
        opening the index meanwhile waits, then finds it done.
        """
        with self.atomic():
            if self.schema_version() >= SCHEMA_VERSION:
                return
            self.execute("DROP TRIGGER IF EXISTS files_au")
            rows = self.execute("SELECT id, path, record FROM files").fetchall()
            sets = ", ".join(f"{c} = ?" for c in TEXT_COLUMNS)
            self.conn.executemany(
                f"UPDATE files SET {sets} WHERE id = ?",
                [(*_text_columns(path, Record.from_dict(json.loads(record))).values(), rowid)
                 for rowid, path, record in rows])
            for statement in _split_sql(_SCHEMA):
                self.execute(statement)
            self.execute("INSERT INTO files_fts(files_fts) VALUES ('rebuild')")
            self.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.conn.close()

    # -- plumbing ---------------------------------------------------------
    def execute(self, sql: str, params: tuple | dict = ()) -> "_Result":
        if self.tracer:
            self.tracer(sql, params)
        # rows are fetched under the lock: a cursor read later from another thread would
        # interleave with a transaction under way on this shared connection
        with self._lock:
            cur = self.conn.execute(sql, params)
            return _Result(cur.fetchall(), cur.rowcount)

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

    # -- files ------------------------------------------------------------
    def get(self, path: str) -> IndexedFile | None:
        row = self.execute("SELECT * FROM files WHERE path = ?", (os.path.abspath(path),)).fetchone()
        return _row_to_file(row) if row else None

    def identities(self) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, fingerprint) for every indexed file: the rescan's fast path."""
        rows = self.execute("SELECT path, size, mtime_ns, fingerprint FROM files").fetchall()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def paths_heard_by(self, wanted) -> set[str]:
        """Paths whose provenance (engine, model) satisfies wanted(engine, model): the files an
        engine upgrade must hear again. The distinct pairs are few; only theirs are fetched."""
        pairs = self.execute("SELECT DISTINCT engine, json_extract(record, '$.provenance.model') "
                             "FROM files").fetchall()
        out: set[str] = set()
        for engine, model in pairs:
            if wanted(engine or "", model or ""):
                rows = self.execute("SELECT path FROM files WHERE engine = ? AND "
                                    "json_extract(record, '$.provenance.model') IS ?", (engine, model)).fetchall()
                out.update(r[0] for r in rows)
        return out

    def find_by_fingerprint(self, fingerprint: str) -> list[IndexedFile]:
        rows = self.execute("SELECT * FROM files WHERE fingerprint = ?", (fingerprint,)).fetchall()
        return [_row_to_file(r) for r in rows]

    def upsert(self, item: IndexedFile) -> None:
        rec = item.record
        item.path = os.path.abspath(item.path)
        item.updated = item.updated or _now()
        prov = rec.provenance
        values = {
            "path": item.path, "size": item.size, "mtime_ns": item.mtime_ns,
            "fingerprint": item.fingerprint, "format": item.format,
            "duration": rec.Duration, "samplerate": rec.SampleRate, "bitdepth": rec.BitDepth,
            "channels": rec.Channels,
            "record": json.dumps(rec.to_dict(), ensure_ascii=False),
            "written": json.dumps(item.written, ensure_ascii=False),
            "human_fields": json.dumps(item.human_fields),
            "engine": prov.engine, "classified": item.classified or prov.time, "updated": item.updated,
            **_text_columns(item.path, rec),
        }
        cols = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        updates = ", ".join(f"{k}=excluded.{k}" for k in values if k != "path")
        with self.atomic():
            self.execute(f"INSERT INTO files ({cols}) VALUES ({marks}) "
                         f"ON CONFLICT(path) DO UPDATE SET {updates}", values)
            file_id = self.execute("SELECT id FROM files WHERE path = ?", (item.path,)).fetchone()[0]
            self.execute("DELETE FROM labels WHERE file_id = ?", (file_id,))
            self.conn.executemany(
                "INSERT INTO labels(file_id, label, mid, probability, source) VALUES (?, ?, ?, ?, ?)",
                [(file_id, l.label, l.mid, l.probability, l.source) for l in prov.labels])

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """Record a new size and mtime for a file whose audio is known unchanged."""
        self.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                     (size, mtime_ns, os.path.abspath(path)))

    def delete(self, path: str) -> bool:
        with self.atomic():
            cur = self.execute("DELETE FROM files WHERE path = ?", (os.path.abspath(path),))
        return cur.rowcount > 0

    def delete_many(self, paths: list[str]) -> int:
        """Forget these files (labels go with them) in one transaction; how many were indexed."""
        with self.atomic():
            cur = self.conn.executemany("DELETE FROM files WHERE path = ?",
                                        [(os.path.abspath(p),) for p in paths])
        return max(cur.rowcount, 0)

    def paths_under(self, root: str) -> list[str]:
        """Every indexed path inside the folder root (at any depth), sorted.

        A range on the path index, not LIKE, so `%` and `_` in folder names are
        plain characters: "/lib/a" covers "/lib/a/x.wav", never "/lib/ab/x.wav".
        """
        prefix = os.path.join(os.path.abspath(root), "")
        # every string that starts with prefix sorts in [prefix, prefix with its last character + 1)
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self.execute("SELECT path FROM files WHERE path >= ? AND path < ? ORDER BY path",
                            (prefix, upper)).fetchall()
        return [r[0] for r in rows]

    def has_files_under(self, root: str) -> bool:
        prefix = os.path.join(os.path.abspath(root), "")
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return self.execute("SELECT 1 FROM files WHERE path >= ? AND path < ? LIMIT 1",
                            (prefix, upper)).fetchone() is not None

    def all(self) -> Iterator[IndexedFile]:
        for row in self.execute("SELECT * FROM files ORDER BY path").fetchall():
            yield _row_to_file(row)

    def count(self) -> int:
        return self.execute("SELECT count(*) FROM files").fetchone()[0]

    # -- embeddings (sounds like) -----------------------------------------
    def put_embedding(self, path: str, emb: StoredEmbedding) -> None:
        """The embeddings of an indexed file (replacing any it had); the vector log records it."""
        with self.atomic():
            row = self.execute("SELECT id FROM files WHERE path = ?", (os.path.abspath(path),)).fetchone()
            if row is None:
                raise ValueError(f"{path} is not indexed")
            self.execute(
                "INSERT INTO embeddings(file_id, model, fingerprint, vector, blocks, starts, dim) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(file_id) DO UPDATE SET model=excluded.model, "
                "fingerprint=excluded.fingerprint, vector=excluded.vector, blocks=excluded.blocks, "
                "starts=excluded.starts, dim=excluded.dim",
                (row[0], emb.model, emb.fingerprint, emb.vector, emb.blocks, emb.starts, emb.dim))

    def embedding(self, path: str) -> StoredEmbedding | None:
        row = self.execute(
            "SELECT e.*, f.size, f.mtime_ns FROM embeddings e JOIN files f ON f.id = e.file_id "
            "WHERE f.path = ?", (os.path.abspath(path),)).fetchone()
        return _row_to_embedding(row) if row else None

    def embedding_stale(self, model: str) -> set[str]:
        """Paths of indexed files without embeddings of this model for their current audio."""
        rows = self.execute(
            "SELECT f.path FROM files f LEFT JOIN embeddings e ON e.file_id = f.id "
            "WHERE e.file_id IS NULL OR e.model != ? OR e.fingerprint != f.fingerprint", (model,)).fetchall()
        return {r[0] for r in rows}

    def vector_count(self) -> int:
        return self.execute("SELECT count(*) FROM embeddings").fetchone()[0]

    def vector_batches(self, size: int = 20_000) -> Iterator[tuple[list[int], list[bytes]]]:
        """Every file vector, (ids, vectors) a batch at a time, by file id."""
        last = -1
        while True:
            rows = self.execute("SELECT file_id, vector FROM embeddings WHERE file_id > ? "
                                "ORDER BY file_id LIMIT ?", (last, size)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [r[0] for r in rows], [r[1] for r in rows]

    def vectors_of(self, ids: list[int]) -> list[tuple[int, bytes]]:
        rows = self.execute("SELECT file_id, vector FROM embeddings WHERE file_id IN "
                            "(SELECT value FROM json_each(?)) ORDER BY file_id", (json.dumps(ids),)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def vector_changes(self, after: int) -> list[tuple[int, int]]:
        """(seq, file id) of every vector added, replaced or removed after change `after`."""
        rows = self.execute("SELECT seq, file_id FROM vector_changes WHERE seq > ? ORDER BY seq",
                            (after,)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def last_vector_change(self) -> int:
        row = self.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_changes'").fetchone()
        return int(row[0]) if row else 0

    def vector_log_floor(self) -> int:
        """Changes up to this number were dropped from the log (a graph older than it is rebuilt)."""
        row = self.execute("SELECT value FROM meta WHERE key = 'vector_log_floor'").fetchone()
        return int(row[0]) if row else 0

    def forget_vector_changes(self, upto: int) -> None:
        with self.atomic():
            self.execute("DELETE FROM vector_changes WHERE seq <= ?", (upto,))
            self.execute("INSERT INTO meta(key, value) VALUES ('vector_log_floor', ?) ON CONFLICT(key) "
                         "DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                         (str(upto),))

    def meta_value(self, key: str) -> str | None:
        row = self.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta_value(self, key: str, value: str) -> None:
        with self.atomic():
            self.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                         "value = excluded.value", (key, value))

    def files_with_vectors(self, model: str) -> Iterator[tuple[IndexedFile, bytes]]:
        """Every indexed file with its vector of this embedding model (current audio only)."""
        rows = self.execute("SELECT f.*, e.vector AS e_vector FROM files f JOIN embeddings e ON e.file_id = f.id "
                            "WHERE e.model = ? AND e.fingerprint = f.fingerprint ORDER BY f.path", (model,)).fetchall()
        for row in rows:
            yield _row_to_file(row), row["e_vector"]

    def save_category_model(self, row: dict) -> int:
        """Keep a learned CatID model; its version (one more than the last)."""
        cols = ", ".join(row)
        with self.atomic():
            self.execute(f"INSERT INTO category_models ({cols}) VALUES ({', '.join('?' * len(row))})",
                         tuple(row.values()))
            return self.execute("SELECT max(version) FROM category_models").fetchone()[0]

    def latest_category_model(self):
        """The newest learned model's row, or None."""
        return self.execute("SELECT * FROM category_models ORDER BY version DESC LIMIT 1").fetchone()

    def files_by_id(self, ids: list[int]) -> dict[int, IndexedFile]:
        rows = self.execute("SELECT * FROM files WHERE id IN (SELECT value FROM json_each(?))",
                            (json.dumps(ids),)).fetchall()
        return {r["id"]: _row_to_file(r) for r in rows}

    # -- search -----------------------------------------------------------
    def search_sql(self, query: Query, limit: int | None = None) -> tuple[str, list]:
        """The SQL and parameters for a parsed query (kept apart so tests can read it)."""
        if all(g.positives for g in query.groups):
            match = " OR ".join(_group_fts(g) for g in query.groups)
            sql = (f"SELECT files.* FROM files_fts JOIN files ON files.id = files_fts.rowid "
                   f"WHERE files_fts MATCH ? ORDER BY bm25(files_fts, {_WEIGHTS}), files.path")
            params: list = [match]
        else:
            clauses, params = [], []
            for g in query.groups:
                if g.positives:
                    clauses.append("files.id IN (SELECT rowid FROM files_fts WHERE files_fts MATCH ?)")
                    params.append(_group_fts(g))
                else:
                    clauses.append("files.id NOT IN (SELECT rowid FROM files_fts WHERE files_fts MATCH ?)")
                    params.append(" OR ".join(t.fts() for t in g.negatives))
            sql = "SELECT files.* FROM files WHERE " + " OR ".join(f"({c})" for c in clauses) + " ORDER BY files.path"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return sql, params

    def search(self, query: str | Query, *, limit: int | None = None,
               expand: Callable[[str], list[str]] | bool | None = None) -> list[IndexedFile]:
        """Files matching a query in the search language, best first.

        expand: a synonym function, True/None for the default vocabulary, False to search literally.
        """
        parsed = parse(query) if isinstance(query, str) else query
        synonyms = _synonym_function(expand)
        if synonyms is not None:
            parsed = parsed.expanded(synonyms)
        try:
            if limit is not None and all(g.positives for g in parsed.groups):
                return self._search_fast(parsed, int(limit))
            sql, params = self.search_sql(parsed, limit)
            rows = self.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:
            from sidecar.errors import QueryError
            raise QueryError(f"cannot search for {query!r}: {exc}") from exc
        return [_row_to_file(r) for r in rows]

    #: a query with more matches than this is ranked over a window of its first matches
    RANK_WINDOW = 100

    def _search_fast(self, query: Query, limit: int) -> list[IndexedFile]:
        """Best first within milliseconds on a large index.

        bm25 costs about a microsecond per matching row, too slow to rank every
        match of a common word in a million-file library while a DAW script
        waits. A query with fewer than RANK_WINDOW matches is ranked exactly.
        One with more is ranked in tiers over a window of its first matches:
        matches in category or keywords first, then the others, each by bm25
        (FTS5 serves a rowid range cheaply, a list of rowids not).
        """
        match = " OR ".join(_group_fts(g) for g in query.groups)
        window = max(self.RANK_WINDOW, limit * 2)
        head = self._first(match, window)
        if len(head) < window:
            ids = self._ranked(match, None, limit)          # few matches: exact bm25
        else:
            ids = []
            if not any(t.column for g in query.groups for t in g.terms):
                tier1 = f"{{t_category t_keywords}} : ({match})"
                top = self._first(tier1, window)
                if top:
                    ids = self._ranked(tier1, top[-1], limit)
            if len(ids) < limit:
                taken = set(ids)
                more = self._ranked(match, head[-1], limit + len(ids))
                ids += [i for i in more if i not in taken][: limit - len(ids)]
        if not ids:
            return []
        rows = self.execute("SELECT * FROM files WHERE id IN (SELECT value FROM json_each(?))",
                            (json.dumps(ids),)).fetchall()
        by_id = {r["id"]: r for r in rows}
        return [_row_to_file(by_id[i]) for i in ids if i in by_id]

    def _first(self, match: str, count: int) -> list[int]:
        """The first `count` matching rowids, unranked: FTS5 stops as soon as it has them."""
        return [r[0] for r in self.execute(
            "SELECT rowid FROM files_fts WHERE files_fts MATCH ? LIMIT ?", (match, count)).fetchall()]

    def _ranked(self, match: str, upto: int | None, limit: int) -> list[int]:
        """Best `limit` matches by bm25, among those with rowid <= upto (None: all of them)."""
        order = f"ORDER BY bm25(files_fts, {_WEIGHTS}), rowid LIMIT ?"
        if upto is None:
            sql, params = f"SELECT rowid FROM files_fts WHERE files_fts MATCH ? {order}", (match, limit)
        else:
            sql = f"SELECT rowid FROM files_fts WHERE files_fts MATCH ? AND rowid <= ? {order}"
            params = (match, upto, limit)
        return [r[0] for r in self.execute(sql, params).fetchall()]

    # -- the work queue ---------------------------------------------------
    # Every file that needs work is one row, keyed by path. Claims carry a lease that the
    # worker renews; a claim whose worker died is taken up again. The PostgreSQL twin of
    # these statements claims with FOR UPDATE SKIP LOCKED.
    def enqueue(self, paths: list[str], *, delay: float = 0.0,
                seen: dict[str, tuple[int, int] | None] | None = None, now: float | None = None) -> int:
        """Ask for work on these paths; `delay` seconds must pass first (the stability wait).

        A path already queued keeps its place and waits the longer of the two; one being
        worked on is queued again once that worker is done; done or set-aside work starts
        afresh. seen: path -> (size, mtime_ns) as observed now, or None for a missing file.
        """
        now = time.time() if now is None else now
        seen = seen or {}
        rows = []
        for p in paths:
            ident = seen.get(p)
            rows.append((os.path.abspath(p), now, now + delay,
                         ident[0] if ident else None, ident[1] if ident else None))
        with self.atomic():
            cur = self.conn.executemany(
                "INSERT INTO jobs(path, state, queued, not_before, seen_size, seen_mtime_ns) "
                "VALUES (?, 'queued', ?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET "
                "  again = CASE WHEN state = 'claimed' THEN 1 ELSE again END, "
                "  tries = CASE WHEN state IN ('done', 'set_aside') THEN 0 ELSE tries END, "
                "  queued = CASE WHEN state IN ('done', 'set_aside') THEN excluded.queued ELSE queued END, "
                "  not_before = CASE WHEN state = 'claimed' THEN not_before "
                "                    ELSE max(not_before, excluded.not_before) END, "
                "  seen_size = CASE WHEN state = 'claimed' THEN seen_size ELSE excluded.seen_size END, "
                "  seen_mtime_ns = CASE WHEN state = 'claimed' THEN seen_mtime_ns ELSE excluded.seen_mtime_ns END, "
                "  reason = CASE WHEN state = 'claimed' THEN reason ELSE '' END, "
                "  state = CASE WHEN state = 'claimed' THEN 'claimed' ELSE 'queued' END",
                rows)
        return cur.rowcount

    def claim(self, worker: str, lease: float, *, now: float | None = None) -> "Job | None":
        """Take the next job whose wait is over, oldest first, for `lease` seconds."""
        now = time.time() if now is None else now
        with self.atomic():
            row = self.execute(
                "SELECT * FROM jobs WHERE state = 'queued' AND not_before <= ? "
                "ORDER BY not_before, queued LIMIT 1", (now,)).fetchone()
            if row is None:
                return None
            self.execute("UPDATE jobs SET state = 'claimed', worker = ?, claimed = ?, lease_until = ? "
                         "WHERE path = ?", (worker, now, now + lease, row["path"]))
            return _row_to_job(row)

    def claim_path(self, path: str, worker: str, lease: float) -> bool:
        """Claim one given path (a scan beside the daemon); False while another worker holds it."""
        now = time.time()
        path = os.path.abspath(path)
        with self.atomic():
            row = self.execute("SELECT state, worker, lease_until FROM jobs WHERE path = ?", (path,)).fetchone()
            if row and row[0] == "claimed" and row[1] != worker and (row[2] or 0) > now:
                return False
            self.execute(
                "INSERT INTO jobs(path, state, worker, queued, claimed, lease_until) "
                "VALUES (?, 'claimed', ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET state = 'claimed', "
                "worker = excluded.worker, claimed = excluded.claimed, lease_until = excluded.lease_until",
                (path, worker, now, now, now + lease))
            return True

    def claim_next_job(self, worker: str, lease: float = 300.0) -> str | None:
        job = self.claim(worker, lease)
        return job.path if job else None

    def finish_job(self, path: str, ok: bool = True, reason: str = "", *, requeue_delay: float = 0.0) -> None:
        """Done, or set aside with its reason; a job that changed while claimed is queued again."""
        now = time.time()
        self.execute(
            "UPDATE jobs SET worker = '', lease_until = NULL, finished = ?, taken_over = NULL, "
            "  state = CASE WHEN again THEN 'queued' WHEN ? THEN 'done' ELSE 'set_aside' END, "
            "  reason = CASE WHEN again THEN '' ELSE ? END, "
            "  tries = CASE WHEN again THEN 0 WHEN ? THEN tries ELSE tries + 1 END, "
            "  queued = CASE WHEN again THEN ? ELSE queued END, "
            "  not_before = CASE WHEN again THEN ? ELSE not_before END, "
            "  seen_size = CASE WHEN again THEN NULL ELSE seen_size END, "
            "  again = 0 WHERE path = ?",
            (now, ok, reason, ok, now, now + requeue_delay, os.path.abspath(path)))

    def retry_job(self, path: str, delay: float, reason: str = "", *, count_try: bool = True,
                  seen: tuple[int, int] | None = None, asked_now: bool = False) -> None:
        """Back to the queue after `delay` seconds; a counted try brings it nearer to being set aside.
        asked_now: the job counts as asked for now (jobs queued meanwhile are ahead of it)."""
        now = time.time()
        params: tuple = (now + delay, reason, 1 if count_try else 0)
        seen_sql = ""
        if asked_now:
            seen_sql = ", queued = ?"
            params += (now,)
        if seen is not None:
            seen_sql = ", seen_size = ?, seen_mtime_ns = ?"
            params += seen
        self.execute(
            "UPDATE jobs SET state = 'queued', worker = '', lease_until = NULL, again = 0, "
            f"not_before = ?, reason = ?, tries = tries + ?{seen_sql} WHERE path = ?",
            (*params, os.path.abspath(path)))

    def renew_leases(self, worker: str, lease: float) -> None:
        self.execute("UPDATE jobs SET lease_until = ? WHERE state = 'claimed' AND worker = ?",
                     (time.time() + lease, worker))

    def release_claims(self, worker: str) -> int:
        """A worker stopping puts the jobs in its hands back, with no try counted."""
        return self.execute("UPDATE jobs SET state = 'queued', worker = '', lease_until = NULL, again = 0 "
                            "WHERE state = 'claimed' AND worker = ?", (worker,)).rowcount

    def take_over_claims(self, dead_workers: list[str]) -> int:
        """Claims of dead workers and expired leases go back to the queue, remembering the claim
        time (the file may have been written before the worker died)."""
        now = time.time()
        with self.atomic():
            marks = ", ".join("?" for _ in dead_workers) or "''"
            cur = self.execute(
                "UPDATE jobs SET state = 'queued', taken_over = claimed, worker = '', lease_until = NULL, "
                "not_before = 0 "
                f"WHERE state = 'claimed' AND (lease_until < ? OR worker IN ({marks}))",
                (now, *dead_workers))
            if dead_workers:
                self.execute(f"DELETE FROM workers WHERE id IN ({marks})", tuple(dead_workers))
        return cur.rowcount

    def ahead_of(self, path: str) -> int:
        """Fresh jobs asked for no later than this one and not finished: a gone file waits for
        them, since one of them may be where it moved to."""
        return self.execute(
            "SELECT count(*) FROM jobs, (SELECT queued AS q FROM jobs WHERE path = ?) AS me "
            "WHERE jobs.path != ? AND jobs.state IN ('queued', 'claimed') AND jobs.tries = 0 "
            "AND jobs.queued <= me.q", (os.path.abspath(path), os.path.abspath(path))).fetchone()[0]

    def queue_counts(self) -> dict[str, int]:
        return dict(self.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())

    def jobs_in(self, state: str, limit: int = 20) -> list["Job"]:
        rows = self.execute("SELECT * FROM jobs WHERE state = ? ORDER BY finished DESC, queued DESC LIMIT ?",
                            (state, limit)).fetchall()
        return [_row_to_job(r) for r in rows]

    def recent_errors(self, limit: int = 10) -> list["Job"]:
        rows = self.execute("SELECT * FROM jobs WHERE reason != '' AND (tries > 0 OR state = 'set_aside') "
                            "ORDER BY coalesce(finished, queued) DESC LIMIT ?", (limit,)).fetchall()
        return [_row_to_job(r) for r in rows]

    def finished_since(self, since: float) -> int:
        return self.execute("SELECT count(*) FROM jobs WHERE state = 'done' AND finished >= ?",
                            (since,)).fetchone()[0]

    def forget_done_jobs(self, older_than: float) -> int:
        return self.execute("DELETE FROM jobs WHERE state = 'done' AND finished < ?",
                            (time.time() - older_than,)).rowcount

    # -- workers (who holds claims; what a running daemon reports) ---------------
    def register_worker(self, worker: str, kind: str, host: str, pid: int, info: dict | None = None) -> None:
        now = time.time()
        self.execute("INSERT OR REPLACE INTO workers(id, kind, host, pid, started, heartbeat, info) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (worker, kind, host, pid, now, now, json.dumps(info or {})))

    def heartbeat(self, worker: str, info: dict | None = None) -> None:
        if info is None:
            self.execute("UPDATE workers SET heartbeat = ? WHERE id = ?", (time.time(), worker))
        else:
            self.execute("UPDATE workers SET heartbeat = ?, info = ? WHERE id = ?",
                         (time.time(), json.dumps(info, ensure_ascii=False), worker))

    def unregister_worker(self, worker: str) -> None:
        self.execute("DELETE FROM workers WHERE id = ?", (worker,))

    def workers(self) -> list[dict]:
        rows = self.execute("SELECT * FROM workers ORDER BY started").fetchall()
        return [{**dict(r), "info": json.loads(r["info"])} for r in rows]


@dataclass
class Job:
    """One row of the work queue, as a worker claimed it."""

    path: str
    state: str
    tries: int
    queued: float
    seen: tuple[int, int] | None
    reason: str = ""
    taken_over: float | None = None    # the claim time of a worker that died holding this job
    finished: float | None = None


def _row_to_job(row: sqlite3.Row) -> Job:
    seen = (row["seen_size"], row["seen_mtime_ns"]) if row["seen_size"] is not None else None
    return Job(row["path"], row["state"], row["tries"], row["queued"], seen, row["reason"],
               row["taken_over"], row["finished"])


def _group_fts(group) -> str:
    pos = " AND ".join(t.fts() for t in group.positives)
    if not group.negatives:
        return f"({pos})"
    neg = " OR ".join(t.fts() for t in group.negatives)
    return f"(({pos}) NOT ({neg}))"


def _synonym_function(expand) -> Callable[[str], list[str]] | None:
    if expand is False:
        return None
    if callable(expand):
        return expand
    try:
        from sidecar.vocabulary import default_vocabulary
    except ImportError:
        return None
    return default_vocabulary().expand_term


class _StoredFile(IndexedFile):
    """A row read back: its record is decoded on first use (search pages often need only paths)."""

    _record: Record | None = None
    _record_json: str = ""

    @property
    def record(self) -> Record:
        if self._record is None:
            self._record = Record.from_dict(json.loads(self._record_json))
        return self._record

    @record.setter
    def record(self, value: Record | None) -> None:
        self._record = value


def _row_to_file(row: sqlite3.Row) -> IndexedFile:
    item = _StoredFile(
        path=row["path"], size=row["size"], mtime_ns=row["mtime_ns"],
        fingerprint=row["fingerprint"], format=row["format"], record=None,
        written=json.loads(row["written"]), human_fields=json.loads(row["human_fields"]),
        updated=row["updated"], classified=row["classified"],
    )
    item._record_json = row["record"]
    return item


def _row_to_embedding(row: sqlite3.Row) -> StoredEmbedding:
    return StoredEmbedding(file_id=row["file_id"], model=row["model"], fingerprint=row["fingerprint"],
                           vector=row["vector"], blocks=row["blocks"], starts=row["starts"], dim=row["dim"],
                           size=row["size"], mtime_ns=row["mtime_ns"])


def _split_sql(script: str) -> list[str]:
    """Statements of the schema; triggers hold semicolons inside BEGIN ... END."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (not text.upper().startswith("CREATE TRIGGER") or text.upper().endswith("END;")):
            out.append(text)
            buf = []
    return out
