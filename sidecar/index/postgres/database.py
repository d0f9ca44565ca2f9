"""One pool of connections to the shared index, with transactions that nest, and plain errors.

Every thread of a process borrows from one psycopg pool. A transaction
(`atomic`) keeps its connection for the thread until it ends, so the calls
made inside it join it, as with the SQLite index. The database's URL is only
ever named redacted: a password never reaches a log line or an error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from sidecar.errors import IndexUnavailable
from sidecar.index.dburl import redact, scrub


class DatabaseUnavailable(IndexUnavailable):
    """The PostgreSQL server of the index cannot be reached, or went away mid-statement."""


#: how long opening the index waits for the first connection before saying the database is unreachable
CONNECT_SECONDS = 10.0

# the pool logs every failed attempt as a warning of several lines; the daemon says it in one
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


class Database:
    def __init__(self, url: str, *, max_size: int = 8, connect_seconds: float = CONNECT_SECONDS):
        self.url = url
        self.name = redact(url)
        self._local = threading.local()
        try:        # one direct attempt first: an unreachable database is said at once, with its reason
            psycopg.connect(url, connect_timeout=max(1, int(connect_seconds))).close()
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"cannot reach the index database {self.name}: {self._reason(exc)}") from None
        self.pool = ConnectionPool(url, min_size=1, max_size=max_size, open=False, name="sidecar-index",
                                   kwargs={"autocommit": True, "row_factory": dict_row,
                                           "application_name": "sidecar"},
                                   check=ConnectionPool.check_connection, timeout=connect_seconds)
        try:
            self.pool.open(wait=True, timeout=connect_seconds)
        except (PoolTimeout, psycopg.Error) as exc:
            self.pool.close()
            raise DatabaseUnavailable(f"cannot reach the index database {self.name}: {self._reason(exc)}") from None

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, PoolTimeout):
            try:        # the pool only says it timed out: one direct attempt says why
                psycopg.connect(self.url, connect_timeout=5).close()
                return "no connection within the time allowed"
            except psycopg.Error as direct:
                exc = direct
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return scrub(text, self.url)

    def close(self) -> None:
        self.pool.close()

    # -- statements -----------------------------------------------------------------
    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """The thread's transaction connection, or one borrowed from the pool for this statement."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        try:
            with self.pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise DatabaseUnavailable(f"lost the index database {self.name}: {self._reason(exc)}") from None
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"lost the index database {self.name}: {self._reason(exc)}") from None

    def execute(self, sql: str, params: tuple | dict | list = ()) -> list[dict]:
        with self.connection() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def execute_count(self, sql: str, params: tuple | dict | list = ()) -> int:
        with self.connection() as conn:
            return conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: list) -> int:
        with self.connection() as conn:
            with conn.cursor() as cur:
                cur.executemany(sql, rows)
                return cur.rowcount

    def one(self, sql: str, params: tuple | dict | list = ()) -> dict | None:
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: tuple | dict | list = ()):
        row = self.one(sql, params)
        return next(iter(row.values())) if row else None

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction; calls made inside it from this thread join it; rolled back on error."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        try:
            with self.pool.connection() as conn:
                self._local.conn = conn
                try:
                    with conn.transaction():
                        yield
                finally:
                    self._local.conn = None
        except PoolTimeout as exc:
            raise DatabaseUnavailable(f"lost the index database {self.name}: {self._reason(exc)}") from None
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"lost the index database {self.name}: {self._reason(exc)}") from None
