"""Text vectors of search by meaning on PostgreSQL (the TextVectorStore of interfaces.py): the
SQLite index's tables (sidecar.index.sqlite.text_vectors), made by migration 0003 and kept
once the team first searches by meaning (ensure()). Each machine keeps its own copies and
approximate index in step with the shared change log; the log is trimmed below what every
machine's copies hold, as the sounds-like vectors' log is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sidecar.index.interfaces import TEXT_VECTOR_KINDS, TEXT_VECTOR_SIZE
from sidecar.index.postgres.vectors import FOLLOWER_DAYS


class PgTextVectors:
    """The TextVectorStore of a PostgreSQL index."""

    def __init__(self, db, prefix: Path, follower: str):
        self.db = db
        self.prefix = prefix
        self.follower = follower        # this machine and its copies' folder
        self._ready = False

    def exists(self) -> bool:
        """Whether this index was ever searched by meaning (until then it keeps no to-do list)."""
        return self.db.one("SELECT 1 FROM text_vector_state WHERE key = 'enabled'") is not None

    def ensure(self) -> None:
        """Start keeping the to-do list (every file the index holds is then to do)."""
        if self._ready:
            return
        with self.db.atomic():
            # every writer of files takes the totals' row first: none commits a file between the
            # flag and the fill, so none is missed
            self.db.execute("SELECT 1 FROM word_totals FOR UPDATE")
            if not self.exists():
                self.db.execute("INSERT INTO text_vector_state (key, value) VALUES ('enabled', '1')")
                self.db.execute("INSERT INTO text_vector_todo (file_id) SELECT id FROM files ON CONFLICT DO NOTHING")
        self._ready = True

    # -- what needs doing ---------------------------------------------------------------
    def todo(self, limit: int | None = None) -> list[tuple[int, int]]:
        self.ensure()
        sql = "SELECT file_id, n FROM text_vector_todo ORDER BY file_id"
        rows = self.db.execute(sql + (" LIMIT %s" if limit else ""), (int(limit),) if limit else ())
        return [(int(r["file_id"]), int(r["n"])) for r in rows]

    def todo_count(self) -> int:
        self.ensure()
        return int(self.db.scalar("SELECT count(*) FROM text_vector_todo"))

    def redo_all(self) -> None:
        self.ensure()
        self.db.execute("INSERT INTO text_vector_todo (file_id) SELECT id FROM files "
                        "ON CONFLICT (file_id) DO UPDATE SET n = text_vector_todo.n + 1")

    def state(self, key: str) -> str | None:
        self.ensure()
        return self.db.scalar("SELECT value FROM text_vector_state WHERE key = %s", (key,))

    def set_state(self, key: str, value: str) -> None:
        self.ensure()
        self.db.execute("INSERT INTO text_vector_state (key, value) VALUES (%s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # -- reading and writing -------------------------------------------------------------
    def digests(self, ids: list[int]) -> dict[int, str]:
        self.ensure()
        rows = self.db.execute("SELECT file_id, words_digest FROM text_vectors WHERE file_id = ANY(%s)", (list(ids),))
        return {int(r["file_id"]): r["words_digest"] for r in rows}

    def write(self, rows: list[tuple[int, str | None, bytes | None, bytes | None]],
              done: list[tuple[int, int]]) -> None:
        """rows: (file id, words digest, words, heard); a None digest keeps the words as they are.
        done: the to-do entries these rows answer, cleared unless the file changed meanwhile."""
        self.ensure()
        with self.db.atomic():
            for file_id, digest, words, heard in rows:
                if digest is None:
                    self.db.execute("UPDATE text_vectors SET heard = %s WHERE file_id = %s "
                                    "AND heard IS DISTINCT FROM %s", (heard, file_id, heard))
                    continue
                # a file deleted meanwhile has no row to refer to: nothing to keep for it
                self.db.execute(
                    "INSERT INTO text_vectors (file_id, words_digest, words, heard) "
                    "SELECT %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM files WHERE id = %s) "
                    "ON CONFLICT (file_id) DO UPDATE SET words_digest = excluded.words_digest, "
                    "words = excluded.words, heard = excluded.heard "
                    "WHERE text_vectors.words IS DISTINCT FROM excluded.words "
                    "OR text_vectors.heard IS DISTINCT FROM excluded.heard "
                    "OR text_vectors.words_digest IS DISTINCT FROM excluded.words_digest",
                    (file_id, digest, words, heard, file_id))
            if done:
                self.db.executemany("DELETE FROM text_vector_todo WHERE file_id = %s AND n = %s", done)

    def kind(self, kind: str) -> "PgTextVectorKind":
        self.ensure()
        return PgTextVectorKind(self.db, _column(kind), self)


class PgTextVectorKind:
    """One kind of text vector (words or heard) with its own change log: the shape of the index's
    sounds-like vector store, so the same kept copies and approximate index serve it."""

    ndim = TEXT_VECTOR_SIZE

    def __init__(self, db, kind: str, table: PgTextVectors):
        self.db = db
        self.name = kind
        self.table = table
        self.stem = f"text-{kind}"
        self.prefix = table.prefix

    def count(self) -> int:
        return int(self.db.scalar(f"SELECT count(*) FROM text_vectors WHERE {self.name} IS NOT NULL"))

    def batches(self, size: int = 20_000) -> Iterator[tuple[list[int], list[bytes]]]:
        last = -1
        while True:
            rows = self.db.execute(f"SELECT file_id, {self.name} AS v FROM text_vectors WHERE file_id > %s "
                                   f"AND {self.name} IS NOT NULL ORDER BY file_id LIMIT %s", (last, size))
            if not rows:
                return
            last = rows[-1]["file_id"]
            yield [int(r["file_id"]) for r in rows], [bytes(r["v"]) for r in rows]

    def by_ids(self, ids: list[int]) -> list[tuple[int, bytes]]:
        rows = self.db.execute(f"SELECT file_id, {self.name} AS v FROM text_vectors WHERE file_id = ANY(%s) "
                               f"AND {self.name} IS NOT NULL ORDER BY file_id", (list(ids),))
        return [(int(r["file_id"]), bytes(r["v"])) for r in rows]

    def changes(self, after: int) -> list[tuple[int, int]]:
        rows = self.db.execute("SELECT seq, file_id FROM text_vector_changes WHERE kind = %s AND seq > %s "
                               "ORDER BY seq", (self.name, after))
        return [(int(r["seq"]), int(r["file_id"])) for r in rows]

    def last_change(self) -> int:
        """The newest change number of either kind (the sequence: numbers stay used after a trim)."""
        row = self.db.one("SELECT last_value, is_called FROM text_vector_changes_seq_seq")
        return int(row["last_value"]) if row and row["is_called"] else 0

    def log_floor(self) -> int:
        return int(self.table.state(f"floor.{self.name}") or 0)

    def forget_changes(self, upto: int) -> None:
        """This machine's copies hold every change up to `upto`: the shared log is trimmed below
        what every machine's copies hold (machines seen in the last FOLLOWER_DAYS days)."""
        with self.db.atomic():
            self.db.execute("INSERT INTO text_vector_followers (follower, kind, seq) VALUES (%s, %s, %s) "
                            "ON CONFLICT (follower, kind) DO UPDATE "
                            "SET seq = greatest(text_vector_followers.seq, excluded.seq), seen = now()",
                            (self.table.follower, self.name, upto))
            floor = self.db.scalar("SELECT min(seq) FROM text_vector_followers WHERE kind = %s "
                                   f"AND seen > now() - interval '{FOLLOWER_DAYS} days'", (self.name,))
            self.db.execute("DELETE FROM text_vector_changes WHERE kind = %s AND seq <= %s", (self.name, floor))
            if floor > self.log_floor():
                self.table.set_state(f"floor.{self.name}", str(floor))


def _column(kind: str) -> str:
    if kind not in TEXT_VECTOR_KINDS:
        raise ValueError(f"unknown kind of text vector {kind!r}")
    return kind
