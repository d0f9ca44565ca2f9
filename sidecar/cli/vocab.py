"""`sidecar vocab LABEL|CATID|WORD`: how the vocabulary maps and expands a term."""

from __future__ import annotations

import json

import click

from sidecar import config as config_module
from sidecar.errors import ConfigError
from sidecar.app import App
from sidecar.cli.common import ConfigProblem, db_option
from sidecar.vocabulary import Vocabulary, VocabularyError


def _cat(d: dict) -> str:
    if not d.get("CatID"):
        return "(none)"
    names = " / ".join(x for x in (d.get("Category"), d.get("SubCategory")) if x)
    return f"{d['CatID']} ({names})" if names else d["CatID"]


def _text(result: dict) -> list[str]:
    kind = result["kind"]
    lines: list[str] = []
    if kind == "label":
        lines.append(f"label     {result['label']}  [{result['mid']}]")
        lines.append(f"CatID     {_cat(result)}")
        if result.get("UserCategory"):
            lines.append(f"user cat  {result['UserCategory']}")
        if result.get("note"):
            lines.append(f"note      {result['note']}")
        if result["alternatives"]:
            lines.append("also      " + ", ".join(_cat(a) for a in result["alternatives"]))
        lines.append("terms     " + ", ".join(result["terms"]))
        lines.append("broader   " + (", ".join(result["broader"]) or "-"))
        lines.append("synonyms  " + (", ".join(result["synonyms"]) or "-"))
    elif kind == "catid":
        lines.append(f"CatID     {_cat(result)}")
        if result.get("explanation"):
            lines.append(f"explains  {result['explanation']}")
        if "ucs_synonyms" in result:
            lines.append("synonyms  " + (", ".join(result["ucs_synonyms"]) or "-") + "  (UCS list)")
        lines.append("labels    " + (", ".join(result["labels"]) or "-"))
        if result["alternative_for"]:
            lines.append("also for  " + ", ".join(result["alternative_for"]))
        for lang, names in sorted(result.get("names", {}).items()):
            lines.append(f"{lang:<9} " + " / ".join(str(names.get(k, "")) for k in ("Category", "SubCategory")))
    else:
        lines.append(f"word      {result['word']}" + ("  (banned)" if result["banned"] else ""))
        lines.append("synonyms  " + (", ".join(result["synonyms"]) or "-"))
        lines.append("labels    " + (", ".join(result["labels"]) or "-"))
        lines.append("CatIDs    " + (", ".join(result["CatIDs"]) or "-"))
        if result.get("ucs_CatIDs"):
            lines.append("UCS list  " + ", ".join(result["ucs_CatIDs"]))
    return lines


@click.command("vocab")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--vocab", "vocab_file", type=click.Path(dir_okay=False),
              help="The user's vocabulary TOML (default: SIDECAR_VOCAB, then [scan] vocabulary in SIDECAR_CONFIG).")
@db_option(help="Index holding the official UCS list (default: SIDECAR_DB or ~/.local/share/sidecar/index.db).")
def vocab(text: str, as_json: bool, vocab_file: str | None, db_path: str | None) -> None:
    """Show how a LABEL, a CATID or a WORD is mapped: for a label its best CatID,
    alternatives, broader terms and synonyms; for a CatID the labels that give it;
    for a word its synonyms and the labels that use it."""
    try:
        cfg = config_module.load()
        if db_path:
            cfg.db = db_path
        vocabulary = Vocabulary.load(vocab_file or cfg.vocabulary or None, App(cfg).ucs_list)
    except (ConfigError, VocabularyError) as exc:
        raise ConfigProblem(str(exc)) from exc
    result = vocabulary.lookup(text)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo("\n".join(_text(result)))


if __name__ == "__main__":
    vocab()
