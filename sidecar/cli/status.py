"""`sidecar status`: what the index holds."""

from __future__ import annotations

import click

from sidecar.cli.common import db_option, load_config, open_store
from sidecar.cli.output import emit_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@db_option
def status(as_json, db_path):
    """Files indexed, by format and engine, and the work queue."""
    store = open_store(db_path, load_config(), must_exist=True)
    doc = {"db": store.path, "files": store.count(),
           "formats": dict(store.execute("SELECT format, count(*) FROM files GROUP BY format").fetchall()),
           "engines": dict(store.execute("SELECT engine, count(*) FROM files GROUP BY engine").fetchall()),
           "jobs": dict(store.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())}
    if as_json:
        emit_json(doc)
        return
    click.echo(f"index {doc['db']}: {doc['files']} files")
    for key in ("formats", "engines", "jobs"):
        if doc[key]:
            click.echo(f"  {key}: " + ", ".join(f"{k or '-'} {v}" for k, v in sorted(doc[key].items())))
