"""`sidecar show`: what a file carries, read back from every container, beside its index row."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict

import click

from sidecar.cli.common import db_option, load_config, make_app
from sidecar.cli.output import emit_json
from sidecar.errors import SidecarError
from sidecar import formats
from sidecar.formats import NotAudioError, recognise
from sidecar.metadata.record import DESCRIPTIVE_FIELDS, Record


def gather(path: str, cfg, app) -> dict:
    doc: dict = {"path": os.path.abspath(path)}
    try:
        found = recognise(path)
    except NotAudioError as exc:
        doc["error"] = str(exc)
        return doc
    if found is None:
        doc["error"] = "not an audio format SFX Sidecar handles"
        return doc
    fmt = formats.get(found.format)
    doc["format"] = fmt.name
    containers: dict = {"tags": _safe(lambda: _fields(fmt.read_tags(path)))}
    for name, read in fmt.chunk_readers().items():
        containers[name] = _safe(lambda read=read: _shown(read(path)))
    from sidecar.metadata import sidecar_xml
    doc_path = sidecar_xml.sidecar_path(path, cfg.mirror_for(path))
    if doc_path.exists():
        def sidecar():
            rec, identity, human = sidecar_xml.read(doc_path)
            return {"file": str(doc_path), "fields": _fields(rec), "human_fields": sorted(human),
                    "identity": asdict(identity)}
        containers["sidecar"] = _safe(sidecar)
    doc["containers"] = containers
    row = app.store.files.get(path)
    doc["index"] = row.to_json() if row else None
    if row and row.record.CatID:
        prov = row.record.provenance
        doc["category"] = {"CatID": row.record.CatID, "source": prov.category_source or "unknown",
                           "confidence": prov.category_confidence, "model": prov.category_model}
    catid = (row.record.CatID if row else "") or ""
    if catid:
        try:
            doc["ucs_explanation"] = app.ucs_list.explain(catid)
        except Exception:
            doc["ucs_explanation"] = ""
    return doc


def _shown(value):
    return _fields(value) if isinstance(value, Record) else value


def _fields(rec: Record) -> dict:
    out = {k: v for k, v in rec.descriptive().items() if v not in ("", [], None)}
    if not rec.provenance.is_empty():
        out["provenance"] = {"engine": rec.provenance.engine, "time": rec.provenance.time,
                             "machine_fields": rec.provenance.machine_fields}
    return out


def _safe(fn):
    try:
        return fn()
    except (SidecarError, OSError) as exc:
        return {"error": str(exc)}


@click.command()
@click.argument("file", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@db_option
def show(file, as_json, db_path):
    """Show what FILE carries in every container (tags, bext, iXML, INFO, sidecar) and its index row."""
    cfg = load_config()
    if not os.path.exists(file):
        raise click.UsageError(f"{file}: no such file")
    if os.path.isdir(file):
        raise click.UsageError(f"{file} is a folder: show takes one audio file")
    doc = gather(file, cfg, make_app(db_path, cfg, in_memory_if_missing=True))
    if as_json:
        emit_json(doc)
    else:
        _print(doc)
    if doc.get("error"):
        sys.exit(1)


def _print(doc: dict) -> None:
    click.echo(f"{doc['path']}  ({doc.get('format') or 'unknown format'})")
    if doc.get("error"):
        click.echo(f"  error: {doc['error']}")
    for name, content in doc.get("containers", {}).items():
        click.echo(f"[{name}]")
        _print_tree(content, 1)
    click.echo("[index]")
    if doc.get("index"):
        row = doc["index"]
        for key in DESCRIPTIVE_FIELDS + ("Duration", "SampleRate", "BitDepth", "Channels", "Loudness", "TruePeak"):
            if row.get(key) not in (None, "", []):
                click.echo(f"  {key}: {row[key]}")
        labels = row["provenance"]["labels"]
        if labels:
            click.echo("  labels: " + ", ".join(f"{l['label']} {l['probability']:.2f}" for l in labels))
        flags = row["provenance"].get("quality")
        if flags:
            click.echo("  quality flags: " + ", ".join(f["label"] for f in flags))
        if row["human_fields"]:
            click.echo("  human fields: " + ", ".join(row["human_fields"]))
        if doc.get("category"):
            click.echo(f"  category: {_category_line(doc['category'])}")
    else:
        click.echo("  not indexed")
    if doc.get("ucs_explanation"):
        click.echo(f"[UCS] {doc['ucs_explanation']}")


_SOURCES = {"person": "from a person", "ucs_name": "from a UCS file name", "audioset": "from AudioSet labels",
            "learned": "learned from the library", "unknown": "(source not recorded)"}


def _category_line(cat: dict) -> str:
    line = f"{cat['CatID']} {_SOURCES.get(cat['source'], cat['source'])}"
    if cat.get("model"):
        line += f" (model {cat['model']})"
    if cat.get("confidence") is not None:
        line += f", confidence {cat['confidence']:.2f}"
    return line


def _print_tree(value, depth: int) -> None:
    pad = "  " * depth
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                click.echo(f"{pad}{k}:")
                _print_tree(v, depth + 1)
            else:
                click.echo(f"{pad}{k}: {v}")
    elif isinstance(value, list):
        for v in value:
            click.echo(f"{pad}- {v}")
    else:
        click.echo(f"{pad}{value}")
