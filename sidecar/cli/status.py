"""`sidecar status`: what the index holds and what the daemon is doing, read from the database
(so it works while the daemon runs, and after it stopped)."""

from __future__ import annotations

import time

import click

from sidecar.cli.common import db_option, make_app
from sidecar.cli.output import emit_json


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@db_option
def status(as_json, db_path):
    """Files indexed, by format and engine; the work queue by state, throughput, files set aside
    and the last errors; each running daemon with its roots, observers and engine health."""
    store = make_app(db_path, must_exist=True).store
    now = time.time()
    formats = store.files.count_by("format")      # every file has one ("" too): their sum is the count
    doc = {"db": store.location, "files": sum(formats.values()),
           "formats": formats, "engines": store.files.count_by("engine"),
           "jobs": store.queue.counts(),
           "throughput": {"last_minute": store.queue.finished_since(now - 60),
                          "last_hour": store.queue.finished_since(now - 3600)},
           "set_aside": [_job(j) for j in store.queue.jobs_in("set_aside", 50)],
           "last_errors": [_job(j) for j in store.queue.recent_errors(10)],
           "workers": [{"id": w.id, "kind": w.kind, "pid": w.pid, "host": w.host,
                        "started": _iso(w.started), "heartbeat_age": round(now - w.heartbeat, 1),
                        **w.info} for w in store.queue.workers()],
           "sounds_like": {"vectors": store.vectors.count(), "learned": _learned(store)}}
    if as_json:
        emit_json(doc)
        return
    click.echo(f"index {doc['db']}: {doc['files']} files")
    for key in ("formats", "engines", "jobs"):
        if doc[key]:
            click.echo(f"  {key}: " + ", ".join(f"{k or '-'} {v}" for k, v in sorted(doc[key].items())))
    sounds = doc["sounds_like"]
    learned = sounds["learned"]
    click.echo(f"  sounds like: {sounds['vectors']} files with a vector; " + (
        f"learned CatIDs: model {learned['version']} of {learned['created']}, {learned['files']} files in "
        f"{learned['categories']} categories, cross-validated accuracy {learned['accuracy']:.1%}"
        if learned else "no learned CatIDs (`sidecar learn`)"))
    t = doc["throughput"]
    click.echo(f"  done: {t['last_minute']} in the last minute, {t['last_hour']} in the last hour")
    for w in doc["workers"]:
        click.echo(f"{w['kind']} {w['id']} (pid {w['pid']}), started {w['started']}, "
                   f"heard from {w['heartbeat_age']:g} s ago")
        engine = w.get("engine")
        if engine:
            health = "healthy" if engine["healthy"] else f"DOWN: {engine['detail']}"
            where = f" at {', '.join(engine['max_urls'])}" if engine.get("max_urls") else ""
            click.echo(f"  engine: {engine['classifier']}{where}, {health}")
        if w.get("osc"):
            click.echo(f"  OSC bridge: {w['osc']}")
        for root in w.get("roots", []):
            state = f"{root['observer']} observer" if root["online"] else "OFFLINE"
            reason = f" ({root['reason']})" if root["reason"] else ""
            click.echo(f"  root {root['path']}: {state}{reason}")
    if doc["set_aside"]:
        click.echo(f"set aside ({len(doc['set_aside'])}):")
        for j in doc["set_aside"]:
            click.echo(f"  {j['path']}: {j['reason']} (after {j['tries']} tries)")
    if doc["last_errors"]:
        click.echo("last errors:")
        for j in doc["last_errors"]:
            click.echo(f"  {j['path']}: {j['reason']} ({j['state']}, {j['tries']} tries)")


def _learned(store) -> dict | None:
    """The newest learned CatID model, as `sidecar learn` reported it."""
    model = store.models.latest()
    if model is None:
        return None
    return {"version": model.version, "created": model.created, "embedding_model": model.embedding_model,
            **{k: model.report.get(k) for k in ("files", "categories", "accuracy", "features")}}


def _job(job) -> dict:
    return {"path": job.path, "state": job.state, "tries": job.tries, "reason": job.reason,
            "finished": _iso(job.finished) if job.finished else None}


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
