"""`sidecar index`: move an index between SQLite and PostgreSQL, bring a shared one's schema up."""

from __future__ import annotations

import click

from sidecar.cli.output import emit_json
from sidecar.errors import ConfigError
from sidecar.index.dburl import is_postgres, redact


@click.group()
def index():
    """Move an index between SQLite and PostgreSQL (copy), bring a shared index's schema up to date (migrate)."""


@index.command("copy")
@click.argument("source", metavar="FROM")
@click.argument("destination", metavar="TO")
@click.option("--json", "as_json", is_flag=True, help="Print the counts and checksums as one JSON document.")
def copy(source, destination, as_json):
    """Copy an index, row for row, into an empty one: a SQLite file or a postgresql:// URL each.

    Files, labels, vectors, learned models, the queue, the undo journal, the official UCS list,
    meta values and search by meaning's text vectors go across with their ids. Prints each table's row count and checksum on both sides,
    read back from each; exit status 1 if any differ."""
    from sidecar.index.copy import copy_index
    result = copy_index(source, destination, progress=lambda t: click.echo(f"copied {t}", err=True))
    same = result["from"]["tables"] == result["to"]["tables"]
    if as_json:
        emit_json({**result, "same": same})
    else:
        click.echo(f"{'table':<17} {'rows':>9}  checksum (FROM = TO)")
        for table, here in result["from"]["tables"].items():
            there = result["to"]["tables"][table]
            mark = "=" if here == there else f"!= {there['rows']} {there['checksum'][:16]}"
            click.echo(f"{table:<17} {here['rows']:>9}  {here['checksum'][:16]} {mark}")
        click.echo(f"{result['from']['index']} -> {result['to']['index']}: {'the same' if same else 'DIFFERENT'}")
    if not same:
        raise SystemExit(1)


@index.command("migrate")
@click.argument("url", required=False, envvar="SIDECAR_DB")
def migrate(url):
    """Bring a shared (PostgreSQL) index's schema up to this version's: run it once every machine
    runs this version of sidecar. URL defaults to SIDECAR_DB."""
    if not is_postgres(url):
        raise ConfigError("sidecar index migrate takes a postgresql:// URL (or SIDECAR_DB set to one); "
                          "a SQLite index is brought up to date when it is opened")
    from sidecar.index.postgres import migrations
    from sidecar.index.postgres.database import Database
    db = Database(url)
    try:
        done = migrations.migrate(db)
    finally:
        db.close()
    if done:
        click.echo(f"{redact(url)}: applied {', '.join(map(str, done))}; schema {migrations.latest()}")
    else:
        click.echo(f"{redact(url)}: already at schema {migrations.latest()}")
