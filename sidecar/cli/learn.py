"""`sidecar learn`: a CatID model learned from the files a person already categorised."""

from __future__ import annotations

import click

from sidecar.cli.common import db_option, load_config, make_app
from sidecar.cli.output import emit_json, table
from sidecar.errors import ConfigError


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@db_option
def learn(as_json, db_path):
    """Learn CatIDs from the files that carry one a person gave (a CatID or Category in the file or
    its sidecar, or a UCS file name), using their sounds-like embeddings. Reports cross-validated
    accuracy overall and per category, and saves the model with a new version: from then on a scan
    gives a file no person categorised the learned CatID when the model is sure enough
    ([learn] min_confidence). Refuses, exit 2, when there is too little to learn from."""
    from sidecar.similarity.categories import NotEnoughToLearn, learn_and_save
    from sidecar.similarity.embedder import MODEL
    cfg = load_config()
    app = make_app(db_path, cfg, must_exist=True)
    try:
        model = learn_and_save(app.store, app.vocabulary, MODEL)
    except NotEnoughToLearn as exc:
        raise ConfigError(str(exc)) from None
    doc = {"version": model.version, "embedding_model": model.embedding_model, "created": model.created,
           "min_confidence": cfg.learn_min_confidence, **model.report}
    if as_json:
        emit_json(doc)
        return
    r = model.report
    click.echo(f"learned model {model.version}: {r['files']} files in {r['categories']} categories, "
               f"cross-validated accuracy {r['accuracy']:.1%} ({r['folds']} folds, {r['seconds']:.1f} s)")
    click.echo("features: " + ", ".join(f"{name} {acc:.1%}" + (" (chosen)" if name == r["features"] else "")
                                        for name, acc in r["accuracy_by_features"].items()))
    table([[c, str(v["files"]), f"{v['accuracy']:.1%}"] for c, v in sorted(r["per_category"].items(),
                                                                            key=lambda kv: -kv[1]["files"])],
          ["CatID", "files", "accuracy"], [16, 8, 8])
    if r["left_out"]:
        click.echo("left out (fewer than 5 files): " + ", ".join(f"{c} ({n})" for c, n in r["left_out"].items()),
                   err=True)
