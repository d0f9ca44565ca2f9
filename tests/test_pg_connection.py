"""Naming the shared database: URLs with passwords, an unreachable server, a schema of another version."""

from __future__ import annotations

import socket

import pytest

from sidecar.index.dburl import is_postgres, redact, scrub
from sidecar.index.postgres import migrations
from sidecar.index.postgres.database import DatabaseUnavailable
from sidecar.index.postgres.migrations import SchemaMismatch
from sidecar.index.postgres import PgStore


@pytest.mark.parametrize("url, shown", [
    ("postgresql://editor:s3cret@db.example:5432/sfx", "postgresql://editor:***@db.example:5432/sfx"),
    ("postgres://editor@db/sfx", "postgres://editor@db/sfx"),
    ("postgresql://db/sfx?password=s3cret&sslmode=require", "postgresql://db/sfx?password=***&sslmode=require"),
    ("postgresql://ed:p%40ss@db/sfx", "postgresql://ed:***@db/sfx"),
    ("/home/me/index.db", "/home/me/index.db"),
])
def test_a_password_is_never_shown(url, shown):
    assert redact(url) == shown
    assert "s3cret" not in scrub(f"could not connect to {url}: password=s3cret rejected", url)


def test_which_targets_are_postgresql():
    assert is_postgres("postgresql://db/sfx") and is_postgres("POSTGRES://db/sfx")
    assert not is_postgres("/data/index.db") and not is_postgres(None) and not is_postgres("")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_database_is_one_line_naming_it_without_its_password():
    port = _closed_port()
    url = f"postgresql://editor:s3cret@127.0.0.1:{port}/sfx"
    with pytest.raises(DatabaseUnavailable) as caught:
        PgStore.open(url)
    message = str(caught.value)
    assert "\n" not in message and "s3cret" not in message
    assert f"postgresql://editor:***@127.0.0.1:{port}/sfx" in message
    assert "refused" in message.lower() or "connect" in message.lower()


def test_a_fresh_database_is_set_up_and_a_second_opening_finds_it_ready(pg_url):
    first = PgStore.open(pg_url)
    assert first.schema_version() == migrations.latest()
    second = PgStore.open(pg_url)           # nothing applied twice
    assert second.db.scalar("SELECT count(*) FROM schema_migrations") == len(migrations.steps())
    first.close()
    second.close()


def test_a_newer_schema_says_to_upgrade_this_machine(pg_url):
    store = PgStore.open(pg_url)
    store.db.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, 'from_the_future')",
                     (migrations.latest() + 1,))
    store.close()
    with pytest.raises(SchemaMismatch) as caught:
        PgStore.open(pg_url)
    assert "\n" not in str(caught.value) and "upgrade sidecar" in str(caught.value)


def test_an_older_schema_says_what_to_run(pg_url):
    store = PgStore.open(pg_url)
    store.db.execute("DELETE FROM schema_migrations WHERE version = %s", (migrations.latest(),))
    store.close()
    with pytest.raises(SchemaMismatch) as caught:
        PgStore.open(pg_url)
    assert "\n" not in str(caught.value) and "sidecar index migrate" in str(caught.value)


def test_the_configuration_names_a_shared_index_and_roots_by_id(tmp_path, monkeypatch):
    from sidecar.config import load
    from sidecar.index.store import root_ids
    monkeypatch.delenv("SIDECAR_DB", raising=False)
    path = tmp_path / "sidecar.toml"
    path.write_text('[index]\nurl = "postgresql://editor@db.studio.lan/sfx"\n\n'
                    '[[roots]]\nid = "sfx"\npath = "/Volumes/SFX"\n\n[[roots]]\npath = "/Users/me/Private"\n')
    cfg = load(str(path)).check()
    assert cfg.db == "postgresql://editor@db.studio.lan/sfx"
    assert root_ids(cfg) == {"sfx": "/Volumes/SFX"}
    monkeypatch.setenv("SIDECAR_DB", "/tmp/elsewhere.db")            # the environment wins, as for db =
    assert load(str(path)).db == "/tmp/elsewhere.db"
