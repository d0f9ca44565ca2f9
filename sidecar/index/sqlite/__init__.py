"""The SQLite backend: one file in WAL mode, the embedded default for one machine."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sidecar.errors import StoreError
from sidecar.index.sqlite.db import SCHEMA_VERSION, SqliteDb
from sidecar.index.sqlite.files import SqliteFiles
from sidecar.index.sqlite.journal import SqliteJournal
from sidecar.index.sqlite.models import SqliteMeta, SqliteModels
from sidecar.index.sqlite.queue import SqliteQueue
from sidecar.index.sqlite.text_vectors import SqliteTextVectors
from sidecar.index.sqlite.ucs import SqliteUcs
from sidecar.index.sqlite.vectors import SqliteVectors

__all__ = ["SCHEMA_VERSION", "SqliteStore"]


class SqliteStore:
    """A Store over one SQLite file (or ":memory:"): its stores share one connection."""

    def __init__(self, db: SqliteDb):
        self.db = db
        self.files = SqliteFiles(db)
        self.queue = SqliteQueue(db)
        self.vectors = SqliteVectors(db)
        self.models = SqliteModels(db)
        self.meta = SqliteMeta(db)
        self.journal = SqliteJournal(db.path, db)
        self.ucs = SqliteUcs(db)
        self.location = db.path
        self.ephemeral = db.path == ":memory:"
        self.text_vectors = SqliteTextVectors(db, self.cache_prefix())

    @classmethod
    def open(cls, path: str | os.PathLike) -> "SqliteStore":
        """StoreError, naming the file, when it cannot be opened as an index."""
        try:
            db = SqliteDb.open(str(path))
            db.create_schema()
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: not a usable index ({exc})") from exc
        return cls(db)

    def atomic(self):
        return self.db.atomic()

    def cache_prefix(self) -> Path | None:
        """Files derived from the index live beside it, named after it."""
        return None if self.ephemeral else Path(self.location)

    def clone(self) -> "SqliteStore":
        return self if self.ephemeral else SqliteStore(SqliteDb.open(self.location))

    def close(self) -> None:
        self.journal.close()
        self.db.close()
