"""`sidecar similar`: the library's files that sound like a given one."""

from __future__ import annotations

import click

from sidecar.cli.common import db_option, make_app
from sidecar.cli.output import print_rows


@click.command()
@click.argument("file", type=click.Path())
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many files to show (1 or more).")
@click.option("--exact", is_flag=True, help="Compare with every file (the default below 20,000 files).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout, nearest first.")
@db_option
def similar(file, limit, exact, as_json, db_path):
    """The files of the library that sound most like FILE (indexed or not), nearest first, with
    their cosine distance (0 = the same sound). FILE itself is left out."""
    from sidecar.similarity.search import SimilarityError, similar_to_file
    app = make_app(db_path, must_exist=True)
    try:
        found = similar_to_file(app.store, file, limit, exact=True if exact else None,
                                embedder_factory=app.required_embedder)
    except SimilarityError as exc:
        raise click.UsageError(str(exc)) from None
    print_rows(found, as_json, "no similar file in the index (run `sidecar scan` first)",
               ["distance", "path", "CatID", "Description"], [8, 60, 10, 30],
               lambda n: [f"{n.distance:.3f}", n.path, n.file.record.CatID, n.file.record.Description])
