"""Text vectors of search by meaning in SQLite (the TextVectorStore of interfaces.py): for each
file, the vector of its own words and the vector of what was heard; a to-do list that triggers on
the files table fill whenever a file is added or its record or path changes; and a numbered change
log per kind that kept copies and the approximate index follow. Rows of deleted files go with them
(ON DELETE CASCADE); the log records that too.

The tables are made when meaning search is first used (ensure()): until then an index holds none
and a scan does no work for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sidecar.index.interfaces import TEXT_VECTOR_KINDS, TEXT_VECTOR_SIZE
from sidecar.index.sqlite.db import SqliteDb, split_sql

_SCHEMA = """
CREATE TABLE IF NOT EXISTS text_vectors (
    file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    words_digest TEXT NOT NULL DEFAULT '',  -- of the model and the words the vector was made from
    words BLOB,                             -- float32 unit vector; NULL: the file has no words
    heard BLOB                              -- float32 unit vector; NULL: nothing heard
);
CREATE TABLE IF NOT EXISTS text_vector_todo (
    file_id INTEGER PRIMARY KEY,
    n INTEGER NOT NULL DEFAULT 0            -- bumped by each change: a refresh clears what it saw
);
CREATE TABLE IF NOT EXISTS text_vector_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL,
    kind TEXT NOT NULL                      -- words | heard: each kind's copies follow their own
);
CREATE INDEX IF NOT EXISTS text_vector_changes_kind ON text_vector_changes(kind, seq);
CREATE TABLE IF NOT EXISTS text_vector_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS text_todo_ai AFTER INSERT ON files BEGIN
    INSERT INTO text_vector_todo(file_id) VALUES (new.id) ON CONFLICT(file_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS text_todo_au AFTER UPDATE OF record, path ON files BEGIN
    INSERT INTO text_vector_todo(file_id) VALUES (new.id) ON CONFLICT(file_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS text_todo_ad AFTER DELETE ON files BEGIN
    DELETE FROM text_vector_todo WHERE file_id = old.id;
END;
CREATE TRIGGER IF NOT EXISTS text_vectors_ai AFTER INSERT ON text_vectors BEGIN
    INSERT INTO text_vector_changes(file_id, kind) SELECT new.file_id, 'words' WHERE new.words IS NOT NULL;
    INSERT INTO text_vector_changes(file_id, kind) SELECT new.file_id, 'heard' WHERE new.heard IS NOT NULL;
END;
CREATE TRIGGER IF NOT EXISTS text_vectors_au_words AFTER UPDATE OF words ON text_vectors
WHEN old.words IS NOT new.words BEGIN
    INSERT INTO text_vector_changes(file_id, kind) VALUES (new.file_id, 'words');
END;
CREATE TRIGGER IF NOT EXISTS text_vectors_au_heard AFTER UPDATE OF heard ON text_vectors
WHEN old.heard IS NOT new.heard BEGIN
    INSERT INTO text_vector_changes(file_id, kind) VALUES (new.file_id, 'heard');
END;
CREATE TRIGGER IF NOT EXISTS text_vectors_ad AFTER DELETE ON text_vectors BEGIN
    INSERT INTO text_vector_changes(file_id, kind) SELECT old.file_id, 'words' WHERE old.words IS NOT NULL;
    INSERT INTO text_vector_changes(file_id, kind) SELECT old.file_id, 'heard' WHERE old.heard IS NOT NULL;
END;
"""


class SqliteTextVectors:
    """The TextVectorStore of a SQLite index."""

    def __init__(self, db: SqliteDb, prefix: Path | None):
        self.db = db
        self.prefix = prefix
        self._ready = False

    def exists(self) -> bool:
        """Whether this index was ever searched by meaning (until then it holds no text vectors)."""
        return bool(self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'text_vectors'")
                    .fetchall())

    def ensure(self) -> None:
        """Make the tables (every file the index holds is then to do)."""
        if self._ready:
            return
        new = not self.exists()
        with self.db.atomic():
            for statement in split_sql(_SCHEMA):
                self.db.execute(statement)
            if new:
                self.db.execute("INSERT OR IGNORE INTO text_vector_todo(file_id) SELECT id FROM files")
        self._ready = True

    # -- what needs doing ---------------------------------------------------------------
    def todo(self, limit: int | None = None) -> list[tuple[int, int]]:
        """(file id, change count) of files whose vectors may be out of date, by id."""
        self.ensure()
        sql = "SELECT file_id, n FROM text_vector_todo ORDER BY file_id"
        rows = self.db.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        return [(int(r[0]), int(r[1])) for r in rows]

    def todo_count(self) -> int:
        self.ensure()
        return int(self.db.execute("SELECT count(*) FROM text_vector_todo").fetchone()[0])

    def redo_all(self) -> None:
        """Every file to do again (the label vectors or the model changed)."""
        self.ensure()
        self.db.execute("INSERT INTO text_vector_todo(file_id) SELECT id FROM files WHERE true "
                        "ON CONFLICT(file_id) DO UPDATE SET n = n + 1")

    def state(self, key: str) -> str | None:
        self.ensure()
        row = self.db.execute("SELECT value FROM text_vector_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str) -> None:
        self.ensure()
        self.db.execute("INSERT INTO text_vector_state(key, value) VALUES (?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    # -- reading and writing -------------------------------------------------------------
    def digests(self, ids: list[int]) -> dict[int, str]:
        self.ensure()
        out = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(f"SELECT file_id, words_digest FROM text_vectors WHERE file_id IN ({marks})",
                                     tuple(chunk)).fetchall():
                out[int(r[0])] = r[1]
        return out

    def write(self, rows: list[tuple[int, str | None, bytes | None, bytes | None]],
              done: list[tuple[int, int]]) -> None:
        """rows: (file id, words digest, words, heard); a None digest keeps the words as they are.
        done: the to-do entries these rows answer, cleared unless the file changed meanwhile."""
        self.ensure()
        with self.db.atomic():
            for file_id, digest, words, heard in rows:
                if digest is None:
                    self.db.execute("UPDATE text_vectors SET heard = ? WHERE file_id = ? AND heard IS NOT ?",
                                    (heard, file_id, heard))
                    continue
                self.db.execute(
                    "INSERT INTO text_vectors(file_id, words_digest, words, heard) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(file_id) DO UPDATE SET words_digest = excluded.words_digest, "
                    "words = excluded.words, heard = excluded.heard "
                    "WHERE words IS NOT excluded.words OR heard IS NOT excluded.heard "
                    "OR words_digest IS NOT excluded.words_digest",
                    (file_id, digest, words, heard))
            for file_id, n in done:
                self.db.execute("DELETE FROM text_vector_todo WHERE file_id = ? AND n = ?", (file_id, n))

    def kind(self, kind: str) -> "SqliteTextVectorKind":
        self.ensure()
        return SqliteTextVectorKind(self.db, _column(kind), self)


class SqliteTextVectorKind:
    """One kind of text vector (words or heard) with its own change log: the shape of the index's
    sounds-like vector store, so the same kept copies and approximate index serve it."""

    ndim = TEXT_VECTOR_SIZE

    def __init__(self, db: SqliteDb, kind: str, table: SqliteTextVectors):
        self.db = db
        self.name = kind
        self.table = table
        #: the approximate index's files: index.db.text-words-N.usearch beside the index
        self.stem = f"text-{kind}"
        self.prefix = table.prefix

    def count(self) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM text_vectors WHERE {self.name} IS NOT NULL")
                   .fetchone()[0])

    def batches(self, size: int = 20_000) -> Iterator[tuple[list[int], list[bytes]]]:
        """Every vector of this kind, (ids, vectors) a batch at a time, by file id."""
        last = -1
        while True:
            rows = self.db.execute(f"SELECT file_id, {self.name} FROM text_vectors WHERE file_id > ? "
                                   f"AND {self.name} IS NOT NULL ORDER BY file_id LIMIT ?", (last, size)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [int(r[0]) for r in rows], [bytes(r[1]) for r in rows]

    def by_ids(self, ids: list[int]) -> list[tuple[int, bytes]]:
        out = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            out += [(int(r[0]), bytes(r[1])) for r in self.db.execute(
                f"SELECT file_id, {self.name} FROM text_vectors WHERE file_id IN ({marks}) "
                f"AND {self.name} IS NOT NULL ORDER BY file_id", tuple(chunk)).fetchall()]
        return out

    def changes(self, after: int) -> list[tuple[int, int]]:
        """(seq, file id) of every vector of this kind added, replaced or removed after `after`."""
        return [(int(r[0]), int(r[1])) for r in self.db.execute(
            "SELECT seq, file_id FROM text_vector_changes WHERE kind = ? AND seq > ? ORDER BY seq",
            (self.name, after)).fetchall()]

    def last_change(self) -> int:
        """The newest change number of either kind (numbers are shared; a copy at it misses none)."""
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'text_vector_changes'").fetchone()
        return int(row[0]) if row else 0

    def log_floor(self) -> int:
        """Changes of this kind up to this number were dropped from the log."""
        return int(self.table.state(f"floor.{self.name}") or 0)

    def forget_changes(self, upto: int) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM text_vector_changes WHERE kind = ? AND seq <= ?", (self.name, upto))
            if upto > self.log_floor():
                self.table.set_state(f"floor.{self.name}", str(upto))


def _column(kind: str) -> str:
    if kind not in TEXT_VECTOR_KINDS:
        raise ValueError(f"unknown kind of text vector {kind!r}")
    return kind
