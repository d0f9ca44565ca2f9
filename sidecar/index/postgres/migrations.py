"""The shared index's schema: numbered plain-SQL migrations, applied in order, one at a time.

Plain SQL rather than alembic: the project has no ORM (alembic brings
SQLAlchemy and Mako for what is a short, straight line of steps), and a
database administrator can read each step as it will run. `migrations/NNNN_name.sql`
are the steps; table `schema_migrations` lists those applied.

An empty database is set up on first use. A database made by a newer version
of the project, or one that an older version left behind, is never changed
behind the team's back: opening it says in one line what to run, since the
other machines may still run the other version.
"""

from __future__ import annotations

import re
from importlib import resources

from sidecar.errors import ConfigError, StoreError
from sidecar.index.postgres.database import Database

#: one lock for whoever sets the schema up: two daemons starting at once do it once
_LOCK = "hashtext('sidecar.schema')"


class SchemaMismatch(StoreError, ConfigError):
    """The database's schema is not the one this version of the project uses."""


def steps() -> list[tuple[int, str, str]]:
    """(number, name, sql) of every migration this version knows, in order."""
    out = []
    for entry in resources.files("sidecar.index.postgres").joinpath("migrations").iterdir():
        m = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if m:
            out.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(out)


def latest() -> int:
    return steps()[-1][0]


def applied(db: Database) -> int:
    """The newest migration the database has (0: none, a fresh database)."""
    exists = db.scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(db.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))


def migrate(db: Database, *, upto: int | None = None) -> list[int]:
    """Apply the migrations the database lacks, each in its own transaction; the numbers applied."""
    done = []
    target = latest() if upto is None else upto
    with db.atomic():
        db.execute(f"SELECT pg_advisory_xact_lock({_LOCK})")
        db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                   "name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())")
        have = applied(db)
        if have > latest():
            raise SchemaMismatch(newer_message(db, have))
        for number, name, sql in steps():
            if have < number <= target:
                db.execute(sql)
                db.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (number, name))
                done.append(number)
    return done


def newer_message(db: Database, have: int) -> str:
    return (f"the index database {db.name} has schema {have}, newer than this version of sidecar "
            f"knows ({latest()}): upgrade sidecar on this machine")


def check(db: Database) -> None:
    """Set up a fresh database; refuse, in one line, one whose schema is not this version's."""
    have = applied(db)
    if have == 0 and not db.scalar("SELECT to_regclass('files') IS NOT NULL"):
        migrate(db)
        return
    if have > latest():
        raise SchemaMismatch(newer_message(db, have))
    if have < latest():
        raise SchemaMismatch(
            f"the index database {db.name} has schema {have}, this version of sidecar needs {latest()}: "
            f"run `sidecar index migrate` (with SIDECAR_DB set to it) once every machine runs this version")
