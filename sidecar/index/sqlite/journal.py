"""The undo journal's rows in SQLite, on a connection of their own.

Its own connection syncs every commit to disk (synchronous=FULL): a journal row
must outlive a crash, while the index's rows can be found again by a rescan.
"""

from __future__ import annotations

import sqlite3
import threading

from sidecar.errors import StoreError
from sidecar.index.interfaces import JournalRow
from sidecar.index.sqlite.db import SqliteDb

_COLUMNS = "path, recorded_at, size, audio_offset, audio_length, audio_sha256, original_sha256, span_fn"


class SqliteJournal:
    """The JournalStore of a SQLite index."""

    def __init__(self, path: str, shared: SqliteDb):
        self.path = path
        # an in-memory database exists once per connection: there the journal shares the index's
        self._shared = shared if path == ":memory:" else None
        self._db: SqliteDb | None = None
        self._lock = threading.Lock()

    def _conn(self) -> SqliteDb:
        with self._lock:
            if self._db is None:
                self._db = self._shared or SqliteDb.open(self.path, synchronous="FULL")
            return self._db

    def _run(self, sql: str, params: tuple = ()):
        try:
            return self._conn().execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"journal database {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._db is not None and self._shared is None:
            self._db.close()
        self._db = None

    def add(self, row: JournalRow) -> bool:
        return self._run(
            "INSERT OR IGNORE INTO journal VALUES (?,?,?,?,?,?,?,?,?,?)",
            (row.path, row.recorded_at, row.size, row.audio_offset, row.audio_length, row.audio_sha256,
             row.original_sha256, row.span_fn, row.head, row.tail)).rowcount > 0

    def get(self, path: str) -> JournalRow | None:
        found = self._run(f"SELECT {_COLUMNS}, head, tail FROM journal WHERE path = ?", (path,)).fetchone()
        return JournalRow(*found) if found else None

    def has(self, path: str) -> bool:
        return self._run("SELECT 1 FROM journal WHERE path = ?", (path,)).fetchone() is not None

    def entries(self) -> list[JournalRow]:
        return [JournalRow(*r) for r in self._run(f"SELECT {_COLUMNS} FROM journal ORDER BY recorded_at").fetchall()]

    def set_original_sha256(self, path: str, sha256_hex: str, *, unless: str | None = None) -> bool:
        sql, params = "UPDATE journal SET original_sha256 = ? WHERE path = ?", [sha256_hex, path]
        if unless is not None:
            sql += " AND original_sha256 != ?"
            params.append(unless)
        return self._run(sql, tuple(params)).rowcount > 0

    def rename(self, old: str, new: str) -> bool:
        db = self._conn()
        try:
            with db.atomic():
                moved = db.execute("UPDATE OR IGNORE journal SET path = ? WHERE path = ?", (new, old)).rowcount > 0
                if not moved:
                    db.execute("DELETE FROM journal WHERE path = ?", (old,))
        except sqlite3.Error as exc:
            raise StoreError(f"journal database {self.path}: {exc}") from exc
        return moved

    def delete(self, path: str) -> None:
        self._run("DELETE FROM journal WHERE path = ?", (path,))
