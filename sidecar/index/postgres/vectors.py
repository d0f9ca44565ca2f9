"""Sounds-like vectors and their change log, learned CatID models and meta values, on PostgreSQL.

PostgreSQL 15 as Debian ships it has no pgvector: the vectors are rows, and
each machine keeps its own usearch graph in step by reading `vector_changes`
after the last change it applied (the log's numbers become visible in order,
see migration 0001).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import json

from sidecar.index.interfaces import IndexedFile, StoredEmbedding, StoredModel
from sidecar.index.postgres.files import FILE_COLUMNS, _row_to_file


#: a machine whose graph has not reported for this long no longer keeps the shared log from shrinking
FOLLOWER_DAYS = 30


class PgVectors:
    """The VectorStore of a PostgreSQL index."""

    def __init__(self, db, follower: str):
        self.db = db
        self.follower = follower        # this machine and its graph's folder

    def put(self, path: str, emb: StoredEmbedding) -> None:
        with self.db.atomic():
            file_id = self.db.scalar("SELECT id FROM files WHERE path = %s", (os.path.abspath(path),))
            if file_id is None:
                raise ValueError(f"{path} is not indexed")
            self.db.execute(
                "INSERT INTO embeddings (file_id, model, fingerprint, vector, blocks, starts, dim) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (file_id) DO UPDATE SET model = excluded.model, "
                "fingerprint = excluded.fingerprint, vector = excluded.vector, blocks = excluded.blocks, "
                "starts = excluded.starts, dim = excluded.dim",
                (file_id, emb.model, emb.fingerprint, emb.vector, emb.blocks, emb.starts, emb.dim))

    def get(self, path: str) -> StoredEmbedding | None:
        row = self.db.one("SELECT e.*, f.size, f.mtime_ns FROM embeddings e JOIN files f ON f.id = e.file_id "
                          "WHERE f.path = %s", (os.path.abspath(path),))
        return _row_to_embedding(_bytes(row)) if row else None

    def stale_paths(self, model: str) -> set[str]:
        rows = self.db.execute(
            "SELECT f.path FROM files f LEFT JOIN embeddings e ON e.file_id = f.id "
            "WHERE e.file_id IS NULL OR e.model != %s OR e.fingerprint != f.fingerprint", (model,))
        return {r["path"] for r in rows}

    def count(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM embeddings"))

    def batches(self, size: int = 20_000) -> Iterator[tuple[list[int], list[bytes]]]:
        last = -1
        while True:
            rows = self.db.execute("SELECT file_id, vector FROM embeddings WHERE file_id > %s "
                                   "ORDER BY file_id LIMIT %s", (last, size))
            if not rows:
                return
            last = rows[-1]["file_id"]
            yield [r["file_id"] for r in rows], [bytes(r["vector"]) for r in rows]

    def by_ids(self, ids: list[int]) -> list[tuple[int, bytes]]:
        rows = self.db.execute("SELECT file_id, vector FROM embeddings WHERE file_id = ANY(%s) ORDER BY file_id",
                               (list(ids),))
        return [(r["file_id"], bytes(r["vector"])) for r in rows]

    def changes(self, after: int) -> list[tuple[int, int]]:
        rows = self.db.execute("SELECT seq, file_id FROM vector_changes WHERE seq > %s ORDER BY seq", (after,))
        return [(r["seq"], r["file_id"]) for r in rows]

    def last_change(self) -> int:
        # the sequence, not max(seq): numbers stay used after the log is trimmed (as sqlite_sequence)
        row = self.db.one("SELECT last_value, is_called FROM vector_changes_seq_seq")
        return int(row["last_value"]) if row and row["is_called"] else 0

    def log_floor(self) -> int:
        value = self.db.scalar("SELECT value FROM meta WHERE key = 'vector_log_floor'")
        return int(value) if value else 0

    def forget_changes(self, upto: int) -> None:
        """This machine's graph holds every change up to `upto`: the shared log is trimmed below
        what every machine's graph holds (machines seen in the last FOLLOWER_DAYS days)."""
        with self.db.atomic():
            self.db.execute("INSERT INTO vector_followers (follower, seq) VALUES (%s, %s) ON CONFLICT (follower) "
                            "DO UPDATE SET seq = greatest(vector_followers.seq, excluded.seq), seen = now()",
                            (self.follower, upto))
            floor = self.db.scalar("SELECT min(seq) FROM vector_followers "
                                   f"WHERE seen > now() - interval '{FOLLOWER_DAYS} days'")
            self.db.execute("DELETE FROM vector_changes WHERE seq <= %s", (floor,))
            self.db.execute("INSERT INTO meta (key, value) VALUES ('vector_log_floor', %s) ON CONFLICT (key) "
                            "DO UPDATE SET value = greatest(meta.value::bigint, excluded.value::bigint)::text",
                            (str(floor),))

    def files_with_vectors(self, model: str) -> Iterator[tuple[IndexedFile, bytes]]:
        cols = ", ".join(f"f.{c.strip()}" for c in FILE_COLUMNS.split(","))
        rows = self.db.execute(f"SELECT {cols}, e.vector AS e_vector FROM files f JOIN embeddings e "
                               "ON e.file_id = f.id WHERE e.model = %s AND e.fingerprint = f.fingerprint "
                               "ORDER BY f.path", (model,))
        for row in rows:
            yield _row_to_file(row), bytes(row["e_vector"])



class PgModels:
    """The ModelStore of a PostgreSQL index: each model saved is a new version."""

    def __init__(self, db):
        self.db = db

    def save(self, model: StoredModel) -> int:
        return int(self.db.scalar(
            "INSERT INTO category_models (created, embedding_model, classes, coef, intercept, report, features) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING version",
            (model.created, model.embedding_model, json.dumps(model.classes), model.coef, model.intercept,
             json.dumps(model.report), json.dumps(model.features))))

    def latest(self) -> StoredModel | None:
        row = self.db.one("SELECT * FROM category_models ORDER BY version DESC LIMIT 1")
        if row is None:
            return None
        return StoredModel(embedding_model=row["embedding_model"], classes=json.loads(row["classes"]),
                           coef=bytes(row["coef"]), intercept=bytes(row["intercept"]),
                           report=json.loads(row["report"]), features=json.loads(row["features"]),
                           created=row["created"], version=row["version"])


class PgMeta:
    """The MetaStore of a PostgreSQL index."""

    def __init__(self, db):
        self.db = db

    def get(self, key: str) -> str | None:
        return self.db.scalar("SELECT value FROM meta WHERE key = %s", (key,))

    def set(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET "
                        "value = excluded.value", (key, value))

    def update(self, key: str, change) -> str:
        with self.db.atomic():          # the row locked from the read on: another update waits
            self.db.execute("INSERT INTO meta (key, value) VALUES (%s, NULL) ON CONFLICT (key) DO NOTHING", (key,))
            value = change(self.db.scalar("SELECT value FROM meta WHERE key = %s FOR UPDATE", (key,)))
            self.set(key, value)
        return value


def _row_to_embedding(row: dict) -> StoredEmbedding:
    return StoredEmbedding(file_id=row["file_id"], model=row["model"], fingerprint=row["fingerprint"],
                           vector=row["vector"], blocks=row["blocks"], starts=row["starts"], dim=row["dim"],
                           size=row["size"], mtime_ns=row["mtime_ns"])


def _bytes(row: dict) -> dict:
    """bytea comes back as memoryview: the rest of the project reads bytes."""
    return {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()}
