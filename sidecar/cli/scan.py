"""`sidecar scan`: classify, describe, write and index every audio file under the given paths."""

from __future__ import annotations

import os
import sys

import click

from sidecar.app import EngineUnavailable
from sidecar.cli.common import ConfigProblem, db_option, load_config, make_app, warn_embedder_unavailable
from sidecar.cli.output import emit_json, is_terminal, table, warn
from sidecar.config import CLASSIFIERS, POLICIES
from sidecar.errors import ClassifierError
from sidecar.metadata.record import join_keywords
from sidecar.pipeline import runner
from sidecar.pipeline.task import Outcome, Task


#: a temporary file this old is a crash's leftover, not another process's write under way
STALE_TEMP_SECONDS = 300


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--dry-run", is_flag=True, help="Print the plan (what would be written), touch nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--classifier", type=click.Choice(CLASSIFIERS),
              help="max (the default when a MAX URL is configured), embedded (the AudioSet engine, the "
                   "default otherwise) or descriptors (measures only; names no sounds).")
@click.option("--model", type=click.Path(dir_okay=False),
              help="A YAMNet ONNX export (.onnx or .zip) for the embedded engine instead of the installed one.")
@click.option("--max-url", "max_urls", multiple=True,
              help="MAX base URL (implies --classifier max); repeat to use several containers.")
@click.option("--jobs", "-j", type=int, help="Files processed at once (default 2).")
@click.option("--policy", type=click.Choice(POLICIES), help="How machine values meet existing ones (default append).")
@click.option("--no-synonyms", is_flag=True, help="Do not expand keywords with synonyms.")
@click.option("--no-tags", is_flag=True, help="Do not write embedded tags.")
@click.option("--no-riff", is_flag=True, help="Do not write bext, iXML or INFO chunks.")
@click.option("--no-sidecar", is_flag=True, help="Do not write sidecar XML documents.")
@click.option("--repair", is_flag=True,
              help="Write into WAV/AIFF files whose header is damaged too (the rewrite sets sizes right; "
                   "journaled for undo). Without it they get a sidecar and an index row only.")
@db_option
def scan(paths, dry_run, as_json, classifier, model, max_urls, jobs, policy, no_synonyms, no_tags, no_riff,
         no_sidecar, repair, db_path):
    """Classify every audio file under PATHS and write what was heard.

    Exit status 0 when every file succeeded, 1 when some failed (the scan still finished).
    """
    cfg = load_config(classifier=classifier, model=model, max_urls=max_urls, jobs=jobs, policy=policy)
    if no_synonyms:
        cfg.expand_synonyms = False
    cfg.write_tags &= not no_tags
    cfg.write_riff &= not no_riff
    cfg.write_sidecar &= not no_sidecar
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing:
        raise click.UsageError(f"no such file or folder: {', '.join(missing)}")
    # a dry run touches nothing, the index included: a missing index is planned against an empty one
    app = make_app(db_path, cfg, in_memory_if_missing=dry_run)
    try:
        app.check_engine()          # MAX unreachable, or a model asked for by name missing: say so now
    except EngineUnavailable as exc:
        raise ConfigProblem(str(exc)) from None
    except ClassifierError as exc:
        raise click.ClickException(str(exc)) from exc
    if not dry_run:
        from sidecar.metadata.safe_write import cleanup_temp_files
        for root in paths:
            # a crash left these: roll back half-done in-place updates, remove stale temporary files
            for action in cleanup_temp_files(root, older_than=STALE_TEMP_SECONDS):
                warn(f"{action.path}: {action.what}")
    app.on_embedder_unavailable(warn_embedder_unavailable)
    ctx = app.context(dry_run=dry_run, repair=repair)
    # the sounds-like embeddings wait until every file is written (see pipeline/sounds_like.py),
    # unless a learned category model needs each file's vector before it is described
    later = ctx.embedder if ctx.embedder is not None and ctx.categories is None else None
    if later is not None:
        ctx.embedder = None
    progress = _Progress(enabled=is_terminal() and not as_json)
    summary = runner.run(list(paths), ctx, app.store, jobs=cfg.jobs, on_task=progress)
    progress.close()
    if later is not None:
        _sounds_like_pass(list(paths), later, app.store, cfg.jobs, summary, enabled=is_terminal() and not as_json)
    summary.engine = _engine_name(app.engine)
    summary.engine_notes = app.engine_notes
    if as_json:
        doc = summary.to_json()
        if dry_run:
            doc["plan"] = [_plan_row(t) for t in summary.planned]
        emit_json(doc)
    else:
        if dry_run:
            _print_plan(summary.planned)
        _print_summary(summary)
    sys.exit(1 if summary.failed else 0)


def _sounds_like_pass(roots: list[str], embedder, store, jobs: int, summary: runner.Summary,
                      enabled: bool) -> None:
    """The embeddings of the files just written (and of any indexed before without them)."""
    from sidecar.pipeline import sounds_like

    def progress(done: int, total: int, path: str) -> None:
        if enabled:
            click.echo(f"\r\033[K  sounds like: {done}/{total}  {path[-60:]}", nl=False, err=True)

    result = sounds_like.run(roots, embedder, store, jobs=jobs, on_file=progress)
    if enabled and (result.embedded or result.notes):
        click.echo("\r\033[K", nl=False, err=True)
    summary.embedded, summary.embedded_audio_seconds = result.embedded, result.audio_seconds
    summary.embed_seconds = result.seconds
    summary.notes += result.notes
    if result.embedded:
        runner.update_vector_index(store, summary)


def _engine_name(lazy) -> str:
    """The engine that listened; the one configured when no file needed one."""
    engine = lazy.built or lazy
    model = getattr(engine, "model_name", "") if lazy.built else ""
    return f"{engine.name} ({model})" if model else engine.name


def _plan_row(task: Task) -> dict:
    rec = task.record
    return {"path": task.path, "format": task.format, "CatID": rec.CatID, "Category": rec.Category,
            "SubCategory": rec.SubCategory, "Description": rec.Description, "Keywords": rec.Keywords,
            "human_fields": sorted(task.human), "machine_fields": rec.provenance.machine_fields,
            "labels": [{"label": l.label, "probability": l.probability} for l in rec.provenance.labels],
            "quality": [l.label for l in rec.provenance.quality]}


def _print_plan(tasks: list[Task]) -> None:
    rows = [[t.path, t.record.CatID, t.record.Description, join_keywords(t.record.Keywords)] for t in tasks]
    table(rows, ["path", "CatID", "Description", "Keywords"], [48, 10, 30, 50])


def _print_summary(summary: runner.Summary) -> None:
    doc = summary.to_json()
    rate = f", {doc['audio_seconds'] / doc['seconds']:.0f}x real time" if doc["seconds"] and doc["audio_seconds"] else ""
    click.echo(f"seen {doc['seen']}: classified {doc['classified']}, written {doc['written']}, "
               f"reindexed {doc['reindexed']}, unchanged {doc['unchanged']}, planned {doc['planned']}, "
               f"skipped {doc['skipped']}, failed {doc['failed']} ({doc['seconds']:.1f} s{rate})", err=True)
    click.echo(f"  engine: {doc['engine']}", err=True)
    sounds = doc["sounds_like"]
    if sounds["embedded"]:
        pace = f", {sounds['audio_seconds'] / sounds['seconds']:.0f}x real time" if sounds["seconds"] else ""
        click.echo(f"  sounds like: {sounds['embedded']} files embedded after the writes "
                   f"({sounds['seconds']:.1f} s{pace})", err=True)
    for note in doc["engine_notes"]:
        click.echo(f"  engine note: {note}", err=True)
    for reason, n in doc["skipped_reasons"].items():
        click.echo(f"  skipped {n}: {reason}", err=True)
    for item in doc["notes"]:
        click.echo(f"  note: {item['path']}: {item['note']}", err=True)
    if doc["removed_from_index"]:
        click.echo(f"  removed from the index {len(doc['removed_from_index'])} files that are gone", err=True)
    for item in doc["failures"]:
        click.echo(f"  failed: {item['path']}: {item['reason']}", err=True)


class _Progress:
    """One line on a terminal; each failure is reported on its own line as it happens."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.n = 0

    def __call__(self, task: Task) -> None:
        self.n += 1
        if task.outcome == Outcome.FAILED:
            if self.enabled:
                click.echo("\r\033[K", nl=False, err=True)
            warn(f"{task.path}: {task.reason}")
        if self.enabled and (self.n % 10 == 0 or task.outcome != Outcome.UNCHANGED):
            name = task.path[-60:]
            click.echo(f"\r\033[K  {self.n} files  {task.outcome.value:<10} {name}", nl=False, err=True)

    def close(self) -> None:
        if self.enabled and self.n:
            click.echo("\r\033[K", nl=False, err=True)
