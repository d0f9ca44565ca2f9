"""The PostgreSQL backend of the index: one database shared by a team's machines."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

from sidecar.cache import user_cache_dir

from sidecar.index.postgres import migrations
from sidecar.index.postgres.database import Database
from sidecar.index.postgres.files import PgFiles
from sidecar.index.postgres.journal import PgJournal, PgUcs
from sidecar.index.postgres.queue import PgQueue, WorkListener
from sidecar.index.postgres.text_vectors import PgTextVectors
from sidecar.index.postgres.vectors import PgMeta, PgModels, PgVectors

__all__ = ["PgStore"]


class PgStore:
    """A Store over one PostgreSQL database: its stores share one pool of connections."""

    ephemeral = False

    def __init__(self, db: Database):
        self.db = db
        self.location = db.name         # the URL, password hidden: what logs and `status` show
        self.files = PgFiles(db)
        self.queue = PgQueue(db)
        follower = f"{socket.gethostname()}:{self.cache_prefix()}"    # this machine's copies of the vectors
        self.vectors = PgVectors(db, follower)
        self.models = PgModels(db)
        self.meta = PgMeta(db)
        self.journal = PgJournal(db)
        self.ucs = PgUcs(db)
        self.text_vectors = PgTextVectors(db, self.cache_prefix(), follower)

    @classmethod
    def open(cls, url: str, *, max_connections: int = 8) -> "PgStore":
        """Connect (DatabaseUnavailable if it cannot) and check the schema (SchemaMismatch)."""
        db = Database(url, max_size=max_connections)
        try:
            migrations.check(db)
        except BaseException:
            db.close()
            raise
        return cls(db)

    def atomic(self):
        return self.db.atomic()

    def cache_prefix(self) -> Path:
        """This machine's files for the shared index (its sounds-like graph): in the user's cache
        folder, one subfolder per database (named by a digest of its redacted URL)."""
        folder = user_cache_dir(f"index-{hashlib.sha256(self.location.encode()).hexdigest()[:16]}")
        return folder / "index"

    def clone(self) -> "PgStore":
        """Another pool on the same database: a reader that never waits for this one's writes."""
        return PgStore(Database(self.db.url, max_size=4))

    def close(self) -> None:
        self.db.close()

    def schema_version(self) -> int:
        return migrations.applied(self.db)

    def listen_for_work(self, wake) -> WorkListener:
        """Call wake() whenever any machine queues work (until the listener is stopped)."""
        return WorkListener(self.db.url, wake).start()
