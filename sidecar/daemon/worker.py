"""Work one job of the queue: wait for a still file, then the pipeline, then the index.

A job is a path. What to do is decided when it is claimed, from what is on
disk then: a file whose size and mtime match its index row is done; a file
still changing waits; a file that is gone leaves the index (once any job that
may be where it moved to has run); anything else goes through the stages.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sidecar.daemon import eventlog
from sidecar.errors import ClassifierError, ContainerError, SidecarError
from sidecar.index.interfaces import IndexedFile, Job, Store
from sidecar.index.job_policy import JobEnd, RetryPolicy, Settled
from sidecar.formats import audio_fingerprint
from sidecar.metadata.merge import machine_values
from sidecar.pipeline import runner
from sidecar.pipeline.stages import Context, process, read_existing, read_sidecar_edits
from sidecar.pipeline.task import Outcome, Task


#: the reason a job carries while its file is missing, before the file leaves the index
GONE = "missing: leaves the index unless it comes back"


@dataclass
class Settings:
    """What a worker needs of the configuration (replaced whole on reload)."""

    stable_seconds: float
    max_tries: int
    retry_seconds: float
    retry_max_seconds: float
    lease_seconds: float

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.max_tries, self.retry_seconds, self.retry_max_seconds)


#: what is said of a job once the queue settled it (an event in the log), or None
Report = Callable[[Settled], None] | None


class JobRunner:
    """Shared by the daemon's worker threads."""

    def __init__(self, service):
        self.service = service          # roots, settings, context, engine health, stop flag
        self.summary = runner.Summary()
        self._summary_lock = threading.Lock()

    @property
    def store(self) -> Store:
        return self.service.store

    def handle(self, job: Job, worker: str) -> None:
        """One turn at a job; the queue's retry policy says what follows (settle, called once)."""
        end, report = self._turn(job)
        settled = self.store.queue.settle(job.path, job.tries, end, self.service.settings.retry)
        if report is not None:
            report(settled)

    def _turn(self, job: Job) -> tuple[JobEnd, Report]:
        svc = self.service
        settings: Settings = svc.settings
        path = job.path
        root = svc.root_of(path)
        if root is None:
            return JobEnd.done("no longer under a watched root"), None
        if not root.online:
            return JobEnd.paused(svc.root_check_seconds, f"root offline: {root.reason}"), None
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if not svc.confirm_online(root):
                return JobEnd.paused(svc.root_check_seconds, f"root offline: {root.reason}"), None
            return self._gone(job)
        except OSError as exc:
            return self._failed(job, Task(path).done(Outcome.FAILED, exc.strerror or str(exc)))
        if job.seen != (st.st_size, st.st_mtime_ns):
            # still being written (or first seen just now): wait until it keeps still
            report = None
            if job.seen is not None:
                def report(_settled):
                    eventlog.emit("still_changing", path=path, size=st.st_size)
            return JobEnd.paused(settings.stable_seconds, seen=(st.st_size, st.st_mtime_ns)), report
        indexed = self.store.files.get(path)
        if (indexed is not None and (indexed.size, indexed.mtime_ns) == (st.st_size, st.st_mtime_ns)
                and not svc.revisit(path)):
            return JobEnd.done(), None      # the service's own write, or nothing new
        task = Task(path)
        task.indexed = indexed
        ctx: Context = svc.context
        if job.taken_over:
            self._written_before_interruption(task, job.taken_over, ctx)
        started = time.monotonic()
        task = process(task, ctx, stop=svc.stopping.is_set)
        if not task.finished:
            return JobEnd.paused(0), None           # stopped before its write: later
        if task.outcome == Outcome.FAILED:
            if task.stage == "classify" and not svc.engine_healthy():
                # the engine is down, not the file: nothing was written; wait for the engine
                def report(_settled):
                    eventlog.emit("waiting_for_engine", path=path, reason=task.reason)
                return JobEnd.paused(settings.stable_seconds, f"engine unavailable: {task.reason}"), report
            self._record(task)
            return self._failed(job, task)
        self._record(task)
        fields = {"path": path, "seconds": round(time.monotonic() - started, 3),
                  "waited": round(time.time() - job.queued, 3)}
        if task.moved_from:
            fields["moved_from"] = task.moved_from
        if task.written:
            fields["written"] = task.written
        if task.reason:
            fields["reason"] = task.reason
        return (JobEnd.done(task.reason if task.outcome == Outcome.SKIPPED else ""),
                lambda _settled: eventlog.emit(task.outcome.value, **fields))

    def _record(self, task: Task) -> None:
        """The index and the counts, through the runner's one consumer function."""
        with self._summary_lock:
            runner.record_task(task, self.summary, self.store, self.service.context)
            # a service runs for months: keep the counts, not every note and failure (the log has them)
            for kept in (self.summary.problems, self.summary.notes, self.summary.planned):
                del kept[:-100]

    @staticmethod
    def _failed(job: Job, task: Task) -> tuple[JobEnd, Report]:
        def report(settled: Settled) -> None:
            if settled.state == "set_aside":
                eventlog.emit("set_aside", path=job.path, tries=settled.tries, stage=task.stage, reason=task.reason)
            else:
                eventlog.emit("failed", path=job.path, tries=settled.tries, stage=task.stage, reason=task.reason,
                              retry_in=settled.wait)
        return JobEnd.failed(task.reason), report

    def _gone(self, job: Job) -> tuple[JobEnd, Report]:
        if job.reason != GONE:
            # a move may be reported as a deletion and, a moment later, a file in a new folder:
            # the file must stay missing for a while, and what was queued meanwhile goes first
            return JobEnd.paused(max(2 * self.service.settings.stable_seconds, 1.0), GONE, asked_now=True), None
        if self.store.queue.ahead_of(job.path):
            # one of the jobs asked for before may be where this file moved: they go first
            return JobEnd.paused(0.2, GONE), None
        removed = self.store.files.delete(job.path)
        return JobEnd.done(), (lambda _settled: eventlog.emit("removed", path=job.path)) if removed else None

    def _written_before_interruption(self, task: Task, claimed: float, ctx: Context) -> None:
        """A worker that died after writing this file but before indexing it: the file (or its
        sidecar) carries provenance dated after that claim. Index what is there instead of
        classifying again."""
        indexed = task.indexed
        try:
            from sidecar.formats import recognise
            found = recognise(task.path)
            if found is None:
                return
            record = read_existing(task.path, found.format, ctx.config)
            sidecar_record, _edited, _machine = read_sidecar_edits(task.path, ctx.config)
        except (SidecarError, OSError, ValueError):
            return
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(claimed)))
        written = [r for r in (record, sidecar_record) if r.provenance.engine and r.provenance.time >= since]
        if not written:
            return
        mine = max(written, key=lambda r: r.provenance.time)
        try:
            fingerprint = audio_fingerprint(task.path, found.format)
        except (SidecarError, OSError, ContainerError):
            return
        if indexed is not None and indexed.fingerprint == fingerprint:
            return      # the index knows this audio: the pipeline reindexes without classifying
        st = os.stat(task.path)
        task.indexed = IndexedFile(
            path=task.path, size=st.st_size, mtime_ns=st.st_mtime_ns, fingerprint=fingerprint,
            format=found.format, record=mine,
            written={"fields": machine_values(mine), "containers": [], "time": mine.provenance.time})
        task.notes.append("written before an interruption; indexed without classifying again")


def engine_health(engine) -> tuple[bool, str]:
    """(healthy, detail): an engine with a health check (MAX) is asked; the others always are."""
    check = getattr(engine, "check", None)
    if check is None:
        return True, ""
    try:
        check()
        return True, ""
    except ClassifierError as exc:
        return False, str(exc)
