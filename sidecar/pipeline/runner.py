"""Run the stages over a library: workers for the file stages, one consumer for the index.

The rescan fast path happens before any worker: a file whose size and mtime
match its index row is unchanged and costs one stat.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from sidecar.classify.base import heard_by_an_older_engine
from sidecar.index.interfaces import IndexedFile, Store
from sidecar.library.walk import printable, walk
from sidecar.metadata.merge import machine_values
from sidecar.metadata.record import QUALITY_FLAG_IDS, Provenance
from sidecar.pipeline.rules_upgrade import described_by_older_rules, note_rules_applied
from sidecar.pipeline.stages import Context, process
from sidecar.pipeline.task import Outcome, Task
from sidecar.similarity.categories import APPLIED_KEY, recategorised


@dataclass
class Summary:
    seen: int = 0
    counts: Counter = field(default_factory=Counter)
    problems: list[tuple[str, str, str]] = field(default_factory=list)   # (outcome, path, reason)
    planned: list[Task] = field(default_factory=list)
    seconds: float = 0.0
    audio_seconds: float = 0.0
    written: int = 0
    notes: list[tuple[str, str]] = field(default_factory=list)    # (path, note)
    pruned: list[str] = field(default_factory=list)               # index rows of files that are gone
    engine: str = ""                                              # which engine listened
    engine_notes: list[str] = field(default_factory=list)         # e.g. a fallback to another engine
    #: the sounds-like pass after the writes (`sidecar scan`): files embedded, audio, seconds
    embedded: int = 0
    embedded_audio_seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def failed(self) -> int:
        return self.counts[Outcome.FAILED]

    def to_json(self) -> dict:
        skipped = Counter(r for o, _, r in self.problems if o == Outcome.SKIPPED.value)
        return {
            "seen": self.seen,
            "classified": self.counts[Outcome.CLASSIFIED],
            "written": self.written,
            "reindexed": self.counts[Outcome.REINDEXED],
            "unchanged": self.counts[Outcome.UNCHANGED],
            "planned": self.counts[Outcome.PLANNED],
            "skipped": self.counts[Outcome.SKIPPED],
            "failed": self.counts[Outcome.FAILED],
            "skipped_reasons": dict(skipped),
            "failures": [{"path": p, "reason": r} for o, p, r in self.problems if o == Outcome.FAILED.value],
            "notes": [{"path": p, "note": n} for p, n in self.notes],
            "removed_from_index": self.pruned,
            "seconds": round(self.seconds, 3),
            "audio_seconds": round(self.audio_seconds, 3),
            "engine": self.engine,
            "engine_notes": self.engine_notes,
            "sounds_like": {"embedded": self.embedded, "audio_seconds": round(self.embedded_audio_seconds, 3),
                            "seconds": round(self.embed_seconds, 3)},
        }


def run(roots: list[str], ctx: Context, store: Store, *, jobs: int = 2,
        on_task: Callable[[Task], None] | None = None) -> Summary:
    started = time.perf_counter()
    summary = Summary()
    known = store.files.identities()
    # files an older engine heard (the descriptor engine named no sound) are heard once more
    stale = store.files.paths_heard_by(
        lambda engine, model: heard_by_an_older_engine(Provenance(engine=engine, model=model), ctx.engine))
    # files indexed before embeddings existed (or by another model) get theirs, not a new classification
    unheard = store.vectors.stale_paths(ctx.embedder.model) if ctx.embedder is not None and not ctx.dry_run else set()
    # files whose category a newly learned model changes are described again, never heard again
    if ctx.categories is not None and not ctx.dry_run:
        ctx.recategorise = frozenset(recategorised(store, ctx.vocabulary, ctx.categories,
                                                   ctx.config.learn_min_confidence))
    # files older rules described get the current rules' words, from the labels the index keeps;
    # so do files indexed when quality flags sat among their labels (moved over, never heard again)
    rules_version = getattr(ctx.vocabulary, "rules_version", "")
    redescribe = described_by_older_rules(store, rules_version) if not ctx.dry_run else set()
    if not ctx.dry_run:
        redescribe |= store.files.paths_labelled(QUALITY_FLAG_IDS)
    ctx.recategorise = frozenset(ctx.recategorise | redescribe)
    recategorised_now: set[str] = set()
    candidates: list[Task] = []
    for found in walk(roots):
        summary.seen += 1
        if found.error:
            record_task(Task(printable(found.path)).done(Outcome.FAILED, found.error), summary, store, ctx, on_task)
            continue
        if found.skip_reason:
            if found.skip_reason != "sidecar document":
                task = Task(printable(found.path)).done(Outcome.SKIPPED, found.skip_reason)
                if found.named:
                    task.notes.append(f"skipped: {found.skip_reason}")
                record_task(task, summary, store, ctx, on_task)
            else:
                summary.seen -= 1
            continue
        path = os.path.abspath(found.path)
        ident = known.get(path)
        if ident is not None and not ctx.dry_run and path not in stale:
            try:
                st = os.stat(path)
            except OSError:
                st = None
            if (st is not None and (st.st_size, st.st_mtime_ns) == ident[:2] and path not in unheard
                    and path not in ctx.recategorise):
                record_task(Task(path).done(Outcome.UNCHANGED), summary, store, ctx, on_task)
                continue
        candidates.append(Task(path))
    if candidates:
        with _Claims(store, known, enabled=not ctx.dry_run) as claims:
            for task in _process_all(candidates, ctx, jobs, claims.process):
                record_task(task, summary, store, ctx, on_task)
                claims.finish(task)
                if task.path in ctx.recategorise and task.outcome == Outcome.CLASSIFIED:
                    recategorised_now.add(task.path)
    if not ctx.dry_run and recategorised_now >= redescribe:
        note_rules_applied(store, rules_version)    # later scans need not read every row for this
    if ctx.categories is not None and not ctx.dry_run and not unheard and recategorised_now >= ctx.recategorise:
        # every indexed file has this model's decision (a file without a vector yet had none to
        # decide by): later scans need not look again
        store.meta.set(APPLIED_KEY, str(ctx.categories.version))
    if not ctx.dry_run:
        summary.pruned = _prune(roots, store)
    if ctx.embedder is not None and not ctx.dry_run:
        update_vector_index(store, summary)
    if not ctx.dry_run:
        _update_meaning(store, ctx, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def update_vector_index(store: Store, summary: Summary) -> None:
    """Bring the approximate index's file up to date (a large library only; a small one is
    searched exactly). A failure here costs speed of `similar`, never the scan."""
    from sidecar.similarity.search import maintain
    try:
        maintain(store)
    except Exception as exc:    # the graph is a cache: the next scan or query rebuilds it
        summary.notes.append((store.location, f"sounds-like index not updated: {exc}"))


def _update_meaning(store: Store, ctx: Context, summary: Summary) -> None:
    """The text vectors of the files added or changed (search by meaning). A missing text model or
    a failure costs search by meaning, never the scan."""
    from sidecar.meaning.refresh import maintain
    from sidecar.meaning.text_model import TextModelUnavailable
    try:
        maintain(store, getattr(ctx.vocabulary, "ucs_list", None))
    except TextModelUnavailable as exc:
        summary.notes.append((store.location, f"search by meaning not updated: {exc}"))
    except Exception as exc:    # the vectors are derived: the next scan or query makes them
        summary.notes.append((store.location, f"search by meaning not updated: {type(exc).__name__}: {exc}"))


def _follow_move(task: Task, store: Store, ctx: Context) -> None:
    """The index row, the undo journal and the sidecar follow a moved file."""
    from sidecar.metadata import sidecar_xml

    store.files.delete(task.moved_from)
    if ctx.journal is not None:
        ctx.journal.rename(task.moved_from, task.path)
    if "sidecar" in task.written:
        old_doc = sidecar_xml.sidecar_path(task.moved_from, ctx.config.mirror_for(task.moved_from))
        if old_doc.exists():
            old_doc.unlink()      # its edits were carried into the new sidecar
        if ctx.journal is not None:
            ctx.journal.forget(str(old_doc))


def _prune(roots: list[str], store: Store) -> list[str]:
    """Index rows under a scanned folder whose file is gone (deleted, or moved out of reach)."""
    gone = []
    for root in roots:
        if os.path.isdir(root):
            gone += [p for p in store.files.paths_under(os.path.abspath(root)) if not os.path.lexists(p)]
    if gone:
        store.files.delete_many(gone)
    return gone


def holder_name(worker: str) -> str:
    """Who a claim's worker id says holds a file (scan:..., edit:..., or a daemon's host:pid:...)."""
    if worker.startswith("edit:"):
        return "a person's edit"
    if worker.startswith("scan:"):
        return "another sidecar scan"
    return "a sidecar daemon" if worker else "another writer"


class _Claims:
    """A scan works through the same queue as the daemon: each file is claimed before its work,
    so a file a daemon (or another scan) has in hand is left to it and never classified twice."""

    LEASE_SECONDS = 600.0

    def __init__(self, store: Store, known: dict, enabled: bool):
        self.store = store
        self.known = known          # the index as this scan found it when it began
        self.enabled = enabled and not store.ephemeral
        self.worker = f"scan:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    def __enter__(self) -> "_Claims":
        if self.enabled:
            self.store.queue.register_worker(self.worker, "scan", socket.gethostname(), os.getpid())
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.store.queue.release_claims(self.worker)
            self.store.queue.unregister_worker(self.worker)

    def process(self, task: Task, ctx: Context) -> Task:
        if not self.enabled:
            task.indexed = self.store.files.get(task.path)
            return process(task, ctx)
        if not self.store.queue.claim_path(task.path, self.worker, self.LEASE_SECONDS):
            return task.done(Outcome.SKIPPED, f"in the hands of {holder_name(self.store.queue.holder(task.path))} "
                                              "on the same index")
        # read after the claim: work another worker finished meanwhile is seen as done
        task.indexed = self.store.files.get(task.path)
        try:
            st = os.stat(task.path)
        except OSError:
            st = None
        row = task.indexed
        if st is not None and row is not None and (row.size, row.mtime_ns) == (st.st_size, st.st_mtime_ns) \
                and self.known.get(task.path) != (row.size, row.mtime_ns, row.fingerprint):
            return task.done(Outcome.UNCHANGED)     # another worker did it since this scan began
        return process(task, ctx)

    def finish(self, task: Task) -> None:
        if self.enabled and not (task.outcome == Outcome.SKIPPED and task.reason.startswith("in the hands")):
            self.store.queue.finish(task.path, True, task.reason if task.outcome == Outcome.FAILED else "")


def _process_all(tasks: list[Task], ctx: Context, jobs: int,
                 process=process) -> Iterable[Task]:
    if jobs <= 1:
        for t in tasks:
            yield process(t, ctx)
        return
    # a bounded window of futures keeps memory flat on a library of millions
    pending = set()
    queue = iter(tasks)
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="sidecar-worker") as pool:
        for t in queue:
            pending.add(pool.submit(process, t, ctx))
            if len(pending) >= jobs * 4:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        for f in pending:
            yield f.result()


def record_task(task: Task, summary: Summary, store: Store, ctx: Context,
                on_task: Callable[[Task], None] | None = None) -> None:
    """The single consumer (a scan's, and the daemon's for each job): index what changed, count, report."""
    outcome = task.outcome or Outcome.FAILED
    if task.moved_from and outcome in (Outcome.CLASSIFIED, Outcome.REINDEXED):
        _follow_move(task, store, ctx)
    if outcome in (Outcome.CLASSIFIED, Outcome.REINDEXED) and task.record is not None:
        if task.record.Duration:
            summary.audio_seconds += task.record.Duration
        previous = task.indexed.written if task.indexed else {}
        written = previous if outcome == Outcome.REINDEXED else {
            "fields": machine_values(task.record), "containers": task.written,
            "time": task.record.provenance.time}
        try:
            with store.atomic():    # the row and its vector together: no reader sees one alone
                store.files.upsert(IndexedFile(
                    path=task.path, size=task.size, mtime_ns=task.mtime_ns, fingerprint=task.fingerprint,
                    format=task.format, record=task.record, written=written,
                    human_fields=sorted(task.human)))
                if task.embedding is not None:
                    store.vectors.put(task.path, task.embedding)
        except (sqlite3.Error, ValueError) as exc:
            task.done(Outcome.FAILED, f"written, but the index could not record it: {exc}")
            outcome = Outcome.FAILED
    if outcome == Outcome.PLANNED:
        summary.planned.append(task)
    if task.written and outcome in (Outcome.CLASSIFIED, Outcome.REINDEXED):
        summary.written += 1
    summary.notes += [(task.path, note) for note in task.notes]
    if outcome in (Outcome.FAILED, Outcome.SKIPPED):
        summary.problems.append((outcome.value, task.path, task.reason))
    summary.counts[outcome] += 1
    if on_task:
        on_task(task)
