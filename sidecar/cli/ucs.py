"""`sidecar ucs`: import the official UCS list into the index and see what is loaded."""

from __future__ import annotations

import json

import click

from sidecar.app import App
from sidecar.cli.common import db_option
from sidecar.config import Config
from sidecar.vocabulary import UcsList, VocabularyError



@click.group("ucs")
def ucs() -> None:
    """The official Universal Category System list: CatIDs, explanations, synonyms, translations."""


@ucs.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def import_list(file: str, db_path: str | None, as_json: bool) -> None:
    """Store the official UCS list from FILE (.xlsx, .csv or .json), replacing any stored before."""
    try:
        ucs_list = UcsList.import_file(file)
        app = App(Config(db=db_path))
        ucs_list.save_to(app.store.ucs)
        stored = app.location
    except VocabularyError as exc:
        raise click.ClickException(str(exc)) from exc
    summary = {"path": file, "db": stored, "count": len(ucs_list), "version": ucs_list.version,
               "languages": ucs_list.languages}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    extra = f"; other languages: {', '.join(summary['languages'])}" if summary["languages"] else ""
    version = f" (version {ucs_list.version})" if ucs_list.version else ""
    click.echo(f"Imported {len(ucs_list)} UCS categories{version} into {stored}{extra}")


@ucs.command("info")
@click.argument("catid", required=False)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def info(catid: str | None, db_path: str | None, as_json: bool) -> None:
    """What official list is stored; with CATID, that category's entry."""
    ucs_list = App(Config(db=db_path)).ucs_list
    if catid is None:
        doc = {"count": len(ucs_list), "version": ucs_list.version, "source": ucs_list.source,
               "languages": ucs_list.languages}
        text = (f"{len(ucs_list)} UCS categories (version {ucs_list.version or '?'}) from {ucs_list.source}"
                if ucs_list else "No official UCS list imported; run `sidecar ucs import FILE`.")
    else:
        entry = ucs_list.get(catid)
        if entry is None:
            raise click.ClickException(f"{catid}: not in the stored UCS list")
        doc = {"CatID": entry.CatID, "Category": entry.Category, "SubCategory": entry.SubCategory,
               "CatShort": entry.CatShort, "Explanations": entry.Explanations, "Synonyms": entry.Synonyms,
               "names": entry.names}
        text = f"{entry.CatID}  {entry.Category} / {entry.SubCategory}\n{entry.Explanations}"
    click.echo(json.dumps(doc, ensure_ascii=False) if as_json else text)


if __name__ == "__main__":
    ucs()
