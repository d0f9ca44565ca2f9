"""A real PostgreSQL for the tests: the server SIDECAR_TEST_POSTGRES names, or a throwaway cluster.

With SIDECAR_TEST_POSTGRES set (CI: postgresql://127.0.0.1:5432/test, trust
auth), tests use that server. Otherwise Debian's server binaries
(/usr/lib/postgresql/N/bin, installed by `make install`) start a cluster in a
temporary folder on a free port, stopped when the session ends. PostgreSQL
refuses to run as root: as root the cluster belongs to `nobody`, and lives
under /tmp where that user can reach it (the checkout may sit in a mode-700
folder). When neither can be had, every PostgreSQL test fails with one line
saying why; none passes by skipping.

Each test gets a database of its own (CREATE DATABASE), so parallel workers
and LISTEN/NOTIFY never meet; where the server's role may not create
databases, a schema of its own, named in the URL's search_path.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

ENV = "SIDECAR_TEST_POSTGRES"


class NoPostgres(Exception):
    """Neither a server named by SIDECAR_TEST_POSTGRES nor a throwaway cluster can be had."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_binaries() -> str:
    """The folder of Debian's newest PostgreSQL server binaries."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not found:
        raise NoPostgres(f"{ENV} is not set and PostgreSQL's server binaries are not installed "
                         "(/usr/lib/postgresql/*/bin/initdb): run `make install`, or set "
                         f"{ENV}=postgresql://host:port/database")
    return os.path.dirname(found[-1])


class Cluster:
    """A PostgreSQL cluster of its own in a temporary folder: start, stop, start again (same port)."""

    def __init__(self):
        self.bin = server_binaries()
        self.port = _free_port()
        self.folder = tempfile.mkdtemp(prefix="sidecar-pg-", dir="/tmp")
        self.data = os.path.join(self.folder, "data")
        self.log = os.path.join(self.folder, "server.log")
        self.user: str | None = None
        if os.geteuid() == 0:       # postgres will not run as root
            self.user = "nobody"
            uid = pwd.getpwnam(self.user).pw_uid
            os.chown(self.folder, uid, -1)
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [os.path.join(self.bin, tool), *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise NoPostgres(f"{tool} failed for the throwaway PostgreSQL cluster in {self.folder}: "
                             f"{detail[-1] if detail else done.returncode}")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def remove(self) -> None:
        if self.running():
            try:
                self.stop("immediate")
            except NoPostgres:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _with_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + "options=" + quote(f"-csearch_path={schema}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class Server:
    """Where the session's test databases come from."""

    def __init__(self, url: str, cluster: Cluster | None = None):
        self.url = url
        self.cluster = cluster

    @classmethod
    def find(cls) -> "Server":
        url = os.environ.get(ENV)
        if url:
            try:
                psycopg.connect(url, connect_timeout=10).close()
            except psycopg.Error as exc:
                raise NoPostgres(f"{ENV}={url} cannot be reached: {str(exc).strip().splitlines()[0]}") from None
            return cls(url)
        cluster = Cluster()
        try:
            cluster.start()
        except NoPostgres:
            cluster.remove()
            raise
        return cls(cluster.url, cluster)

    def new_database(self) -> tuple[str, callable]:
        """A URL of an empty database (or schema) of its own, and how to drop it."""
        name = "sidecar_t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            try:
                conn.execute(f'CREATE DATABASE "{name}"')
            except psycopg.errors.InsufficientPrivilege:
                conn.execute(f'CREATE SCHEMA "{name}"')
                return _with_schema(self.url, name), lambda: self._drop(f'DROP SCHEMA "{name}" CASCADE')
        return _with_database(self.url, name), lambda: self._drop(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _drop(self, sql: str) -> None:
        for _ in range(3):
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(sql)
                return
            except psycopg.OperationalError:
                time.sleep(0.5)

    def close(self) -> None:
        if self.cluster:
            self.cluster.remove()


# -- fixtures (conftest imports them) --------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_server():
    try:
        server = Server.find()
    except NoPostgres as exc:
        server = exc
    yield server
    if isinstance(server, Server):
        server.close()


@pytest.fixture
def pg_url(pg_server) -> str:
    """An empty database of this test's own; the test fails, with the reason, where none can be had."""
    if isinstance(pg_server, NoPostgres):
        pytest.fail(f"no PostgreSQL for this test: {pg_server}", pytrace=False)
    url, drop = pg_server.new_database()
    yield url
    drop()


def open_backend(kind: str, tmp_path, request):
    from sidecar.index.store import open_store
    if kind == "sqlite":
        return open_store(tmp_path / f"index-{len(list(tmp_path.iterdir()))}.db")
    # this machine's files for a shared index (the sounds-like graph) go to the test's folder
    request.getfixturevalue("monkeypatch").setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return open_store(request.getfixturevalue("pg_url"))


def is_postgres(store) -> bool:
    return type(store).__name__ == "PgStore"


def reopen(store):
    """Another connection to the same index (another process or machine would have its own)."""
    from sidecar.index.store import open_store
    return open_store(store.db.url if is_postgres(store) else store.location)


def sql(store, statement: str) -> list[tuple]:
    """A statement of a test's own (no parameters) on either backend, rows as tuples."""
    if is_postgres(store):
        return [tuple(r.values()) for r in store.db.execute(statement)]
    return [tuple(r) for r in store.db.execute(statement).fetchall()]


@pytest.fixture(params=["sqlite", "postgresql"])
def index_store(request, tmp_path):
    """The index, once per backend: every store test runs against both."""
    opened = open_backend(request.param, tmp_path, request)
    yield opened
    opened.close()


@pytest.fixture
def pg_cluster():
    """A throwaway cluster of this test's own, for tests that stop and start the server (the shared
    server is never restarted); the test fails, with the reason, where none can be had."""
    try:
        own = Cluster()
        own.start()
    except NoPostgres as exc:
        pytest.fail(f"no PostgreSQL cluster for this test: {exc}", pytrace=False)
    yield own
    own.remove()


def cluster_database(cluster: Cluster, name: str) -> str:
    """The URL of a new database on the cluster."""
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(cluster.url, name)


@pytest.fixture
def store_pair(request, tmp_path):
    """A SQLite and a PostgreSQL index side by side (the same library in both)."""
    lite = open_backend("sqlite", tmp_path, request)
    pg = open_backend("postgresql", tmp_path, request)
    yield lite, pg
    lite.close()
    pg.close()
