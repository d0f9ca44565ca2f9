"""`sidecar search`: the index, in Soundminer's search language."""

from __future__ import annotations

import click

from sidecar.cli.common import db_option, load_config, make_vocabulary, open_store
from sidecar.cli.output import emit_rows_json, table
from sidecar.errors import QueryError
from sidecar.metadata.record import join_keywords


@click.command()
@click.argument("query")
@click.option("--limit", "-n", type=int, default=50, show_default=True, help="Most results to show.")
@click.option("--literal", is_flag=True, help="Match the words as typed, without synonyms.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout, best first.")
@db_option
def search(query, limit, literal, as_json, db_path):
    """Find sounds: space = AND, comma = OR, -word = NOT, "a phrase", prefix*, field:word.

    Fields: description, keywords, labels, category (CatID, Category, SubCategory), name, path.
    A word also matches its synonyms unless --literal is given.
    """
    cfg = load_config()
    store = open_store(db_path, cfg)
    expand = False if literal else make_vocabulary(cfg, store).expand_term
    try:
        hits = store.search(query, limit=limit, expand=expand)
    except QueryError as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        emit_rows_json(h.to_json() for h in hits)
        return
    if not hits:
        click.echo("no match", err=True)
        return
    table([[h.path, h.record.CatID, h.record.Description, join_keywords(h.record.Keywords)] for h in hits],
          ["path", "CatID", "Description", "Keywords"], [56, 10, 30, 40])
