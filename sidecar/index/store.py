"""Open the index: a SQLite file by default, PostgreSQL for a team sharing one library.

`open_store(location)` takes a path (SQLite) or a `postgresql://` URL and returns a
Store (see interfaces.py); nothing else of the project names a backend.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sidecar.index.dburl import redact
from sidecar.index.interfaces import Store

DEFAULT_DB = Path.home() / ".local" / "share" / "sidecar" / "index.db"
_POSTGRES = re.compile(r"^postgres(ql)?(\+\w+)?://", re.IGNORECASE)


def default_location() -> str:
    """SIDECAR_DB, else the SQLite file in the user's data folder."""
    return os.environ.get("SIDECAR_DB") or str(DEFAULT_DB)


def is_url(location: str) -> bool:
    """A database server's URL rather than a file: no file test applies to it."""
    return bool(_POSTGRES.match(str(location)))


def without_password(location: str) -> str:
    """A location as a log or an error may show it (a password in the URL, or ?password=, as ***)."""
    return redact(str(location))


def open_store(location: str | os.PathLike | None = None, *, roots: dict[str, str] | None = None) -> Store:
    """The index at a path or URL (default: default_location()). roots: this machine's folder for
    each root id; the index then names the files inside them by id (see rooted.py)."""
    where = str(location or default_location())
    if is_url(where):
        from sidecar.index.postgres import PgStore
        store = PgStore.open(where)
    else:
        from sidecar.index.sqlite import SqliteStore
        store = SqliteStore.open(os.path.expanduser(where))
    if roots:
        from sidecar.index.rooted import rooted
        try:
            return rooted(store, roots)
        except BaseException:
            store.close()
            raise
    return store


def root_ids(cfg) -> dict[str, str]:
    """The roots of a configuration that carry an id: id -> this machine's folder."""
    return {r.id: r.path for r in getattr(cfg, "roots", []) if getattr(r, "id", "")}
