"""Sounds-like vectors in SQLite, and their change log (written by triggers on the table)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator

from sidecar.index.interfaces import IndexedFile, StoredEmbedding
from sidecar.index.sqlite.db import SqliteDb
from sidecar.index.sqlite.files import row_to_file


class SqliteVectors:
    """The VectorStore of a SQLite index."""

    def __init__(self, db: SqliteDb):
        self.db = db

    def put(self, path: str, emb: StoredEmbedding) -> None:
        """The embeddings of an indexed file (replacing any it had); the vector log records it."""
        with self.db.atomic():
            row = self.db.execute("SELECT id FROM files WHERE path = ?", (os.path.abspath(path),)).fetchone()
            if row is None:
                raise ValueError(f"{path} is not indexed")
            self.db.execute(
                "INSERT INTO embeddings(file_id, model, fingerprint, vector, blocks, starts, dim) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(file_id) DO UPDATE SET model=excluded.model, "
                "fingerprint=excluded.fingerprint, vector=excluded.vector, blocks=excluded.blocks, "
                "starts=excluded.starts, dim=excluded.dim",
                (row[0], emb.model, emb.fingerprint, emb.vector, emb.blocks, emb.starts, emb.dim))

    def get(self, path: str) -> StoredEmbedding | None:
        row = self.db.execute(
            "SELECT e.*, f.size, f.mtime_ns FROM embeddings e JOIN files f ON f.id = e.file_id "
            "WHERE f.path = ?", (os.path.abspath(path),)).fetchone()
        return _row_to_embedding(row) if row else None

    def stale_paths(self, model: str) -> set[str]:
        """Paths of indexed files without embeddings of this model for their current audio."""
        rows = self.db.execute(
            "SELECT f.path FROM files f LEFT JOIN embeddings e ON e.file_id = f.id "
            "WHERE e.file_id IS NULL OR e.model != ? OR e.fingerprint != f.fingerprint", (model,)).fetchall()
        return {r[0] for r in rows}

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM embeddings").fetchone()[0]

    def batches(self, size: int = 20_000) -> Iterator[tuple[list[int], list[bytes]]]:
        """Every file vector, (ids, vectors) a batch at a time, by file id."""
        last = -1
        while True:
            rows = self.db.execute("SELECT file_id, vector FROM embeddings WHERE file_id > ? "
                                   "ORDER BY file_id LIMIT ?", (last, size)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [r[0] for r in rows], [r[1] for r in rows]

    def by_ids(self, ids: list[int]) -> list[tuple[int, bytes]]:
        rows = self.db.execute("SELECT file_id, vector FROM embeddings WHERE file_id IN "
                               "(SELECT value FROM json_each(?)) ORDER BY file_id", (json.dumps(ids),)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def files_with_vectors(self, model: str) -> Iterator[tuple[IndexedFile, bytes]]:
        """Every indexed file with its vector of this embedding model (current audio only)."""
        rows = self.db.execute("SELECT f.*, e.vector AS e_vector FROM files f JOIN embeddings e ON e.file_id = f.id "
                               "WHERE e.model = ? AND e.fingerprint = f.fingerprint ORDER BY f.path",
                               (model,)).fetchall()
        for row in rows:
            yield row_to_file(row), row["e_vector"]

    def changes(self, after: int) -> list[tuple[int, int]]:
        """(seq, file id) of every vector added, replaced or removed after change `after`."""
        rows = self.db.execute("SELECT seq, file_id FROM vector_changes WHERE seq > ? ORDER BY seq",
                               (after,)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def last_change(self) -> int:
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_changes'").fetchone()
        return int(row[0]) if row else 0

    def log_floor(self) -> int:
        """Changes up to this number were dropped from the log (a graph older than it is rebuilt)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'vector_log_floor'").fetchone()
        return int(row[0]) if row else 0

    def forget_changes(self, upto: int) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM vector_changes WHERE seq <= ?", (upto,))
            self.db.execute("INSERT INTO meta(key, value) VALUES ('vector_log_floor', ?) ON CONFLICT(key) "
                            "DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                            (str(upto),))


def _row_to_embedding(row: sqlite3.Row) -> StoredEmbedding:
    return StoredEmbedding(file_id=row["file_id"], model=row["model"], fingerprint=row["fingerprint"],
                           vector=row["vector"], blocks=row["blocks"], starts=row["starts"], dim=row["dim"],
                           size=row["size"], mtime_ns=row["mtime_ns"])
