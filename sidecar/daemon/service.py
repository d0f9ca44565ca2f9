"""`sidecar daemon`: one always-on process that watches, works the queue and serves the bridge.

Threads: the observers (watchdog) hand paths to the feeder, which enqueues them;
worker threads claim jobs; APScheduler runs the periodic work (heartbeat and
leases, offline roots, scheduled rescans); the OSC bridge answers the DAW. The
main thread only waits for signals: SIGTERM/SIGINT stop, SIGHUP reloads.
"""

from __future__ import annotations

import os
import queue
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sidecar import config as config_module
from sidecar.app import App
from sidecar.config import Config
from sidecar.daemon import eventlog
from sidecar.daemon.catchup import catch_up
from sidecar.daemon.idle_embed import IDLE_SECONDS, IdleEmbedder
from sidecar.daemon.ignore import IgnoreRules
from sidecar.daemon.roots import RootState, offline_reason
from sidecar.daemon.watch import Watcher
from sidecar.daemon.worker import JobRunner, Settings, engine_health
from sidecar.errors import ConfigError, IndexUnavailable, SidecarError
from sidecar.index.job_policy import JobEnd
from sidecar.metadata.record import QUALITY_FLAG_IDS
from sidecar.pipeline.rules_upgrade import described_by_older_rules, note_rules_applied
from sidecar.similarity.categories import APPLIED_KEY, recategorised
from sidecar.vocabulary.vocabulary import RULES_VERSION

def _while_index_answers(job):
    """A periodic job that skips its turn, in one line, while the index's server cannot be reached
    (the workers pause and say so; the next turn comes when it is back)."""
    def run(*args):
        try:
            job(*args)
        except IndexUnavailable as exc:
            eventlog.emit("skipped_while_index_lost", job=getattr(job, "__name__", "job"), reason=str(exc))
    return run


#: a SIGTERM is answered within this many seconds, whatever is in hand
STOP_SECONDS = 8.0
#: the page's "learn now" waits this long for its report
LEARN_NOW_SECONDS = 600.0
#: a temporary file this old is a crash's leftover even while another process writes
STALE_TEMP_SECONDS = 300


@dataclass
class _Root:
    options: config_module.RootOptions
    state: RootState

    @property
    def online(self) -> bool:
        return self.state.online

    @property
    def reason(self) -> str:
        return self.state.reason


class Daemon:
    """app: the application for the configuration in force (the daemon makes another on SIGHUP,
    keeping the index and the embedder); make_bridge(app): the OSC bridge it hosts (None: none);
    make_web(app, learn=, status=): the web page it serves when [web] enabled (None: none)."""

    def __init__(self, app: App, *, cli_roots: list[str], config_path: str | None,
                 make_bridge: Callable[[App], object] | None = None,
                 make_web: Callable[..., object] | None = None):
        self.app = app
        self.make_bridge = make_bridge
        self.make_web = make_web
        self.web = None
        self.cfg = app.config
        self.cli_roots = [os.path.abspath(r) for r in cli_roots]
        self.config_path = config_path
        self.stopping = threading.Event()
        self._reload = threading.Event()
        self._wake = threading.Event()          # new jobs
        self._events: queue.Queue = queue.Queue()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.host = socket.gethostname()
        self.roots: dict[str, _Root] = {}
        self._roots_lock = threading.RLock()    # the scheduler, the feeder and workers look at roots
        self.started = time.time()
        self._engine_ok = (True, "")
        self._engine_lock = threading.Lock()
        self._engine_checked = 0.0
        self.bridge = None
        self._threads: list[threading.Thread] = []
        self._revisit: set[str] = set()         # unchanged files to take anyway (see revisit())
        self._revisit_lock = threading.Lock()
        self._busy = 0                          # workers holding a job
        self._last_busy = time.monotonic()      # when a worker last let one go
        self._busy_lock = threading.Lock()
        self.idle_embed: IdleEmbedder | None = None

    # -- what workers ask ----------------------------------------------------
    @property
    def root_check_seconds(self) -> float:
        return self.cfg.daemon.root_check_seconds

    def root_of(self, path: str) -> _Root | None:
        best = None
        for root_path, root in list(self.roots.items()):
            if path.startswith(root_path.rstrip(os.sep) + os.sep) and (best is None or len(root_path) > len(best[0])):
                best = (root_path, root)
        return best[1] if best else None

    def confirm_online(self, root: _Root) -> bool:
        """Looked at again right before a file is taken as deleted: a root that vanished is
        marked offline, never emptied out of the index."""
        self._check_root(root.state.path)
        return root.online

    def revisit(self, path: str) -> bool:
        """Whether an unchanged file is to be taken anyway, once: it lacks its sounds-like vector,
        or a newly learned model changes its category."""
        with self._revisit_lock:
            if path in self._revisit:
                self._revisit.discard(path)
                return True
        return False

    def engine_healthy(self) -> bool:
        """Asked after a failed classification; a down engine pauses every worker until it answers."""
        with self._engine_lock:
            ok, detail = engine_health(self.engine)
            was = self._engine_ok[0]
            self._engine_ok = (ok, detail)
            self._engine_checked = time.monotonic()
        if was and not ok:
            eventlog.emit("engine_down", engine=self.cfg.classifier, reason=detail)
        return ok

    # -- lifecycle -------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        signal.signal(signal.SIGHUP, lambda *_: self._reload.set())
        self._start()
        try:
            while not self.stopping.is_set():
                self.stopping.wait(0.5)
                if self._reload.is_set():
                    self._reload.clear()
                    self.reload()
        finally:
            self._stop()
        return 0

    def _start(self) -> None:
        cfg = self.cfg
        self.app.on_embedder_unavailable(lambda exc: eventlog.emit("embeddings_off", reason=str(exc)))
        self.store = self.app.store
        # a shared index announces new work from any machine: idle workers wake at once
        listen = getattr(self.store, "listen_for_work", None)
        self._listener = listen(self._wake.set) if listen else None
        self._take_over_dead_claims()
        self.store.queue.register_worker(self.worker_id, "daemon", self.host, os.getpid(), self._info())
        self.rules = IgnoreRules(cfg.daemon.ignore)
        self.engine = self.app.engine
        self._build_context()
        self.runner = JobRunner(self)
        self.watcher = Watcher(self._on_event)
        eventlog.emit("started", db=self.store.location, worker=self.worker_id, pid=os.getpid(),
                      roots=[r.path for r in cfg.roots], classifier=cfg.classifier)
        self._spawn(self._feed, "sidecar-feeder")
        for options in cfg.roots:
            self._add_root(options, catch=False)
        self._catch_up_all(first=True)
        self._spawn(self._revisit_known, "sidecar-revisit")
        self._start_osc()
        self._start_web()
        for i in range(cfg.jobs):
            self._spawn(self._work, f"sidecar-worker-{i}")
        if self.app.embedder is not None:
            self.idle_embed = IdleEmbedder(self.app.embedder, self.store, roots=self._online_roots,
                                           idle=self._workers_idle, stopping=self.stopping, jobs=cfg.jobs)
            self._spawn(self.idle_embed.run, "sidecar-sounds-like")
        self._start_scheduler()

    def _online_roots(self) -> list[str]:
        return [path for path, root in list(self.roots.items()) if root.online]

    def _workers_idle(self) -> bool:
        """No worker holds a job, and none has for IDLE_SECONDS: the idle pass may run."""
        with self._busy_lock:
            return self._busy == 0 and time.monotonic() - self._last_busy >= IDLE_SECONDS

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _build_context(self) -> None:
        cfg = self.cfg
        self.settings = Settings(cfg.daemon.stable_seconds, cfg.daemon.max_tries, cfg.daemon.retry_seconds,
                                 cfg.daemon.retry_max_seconds, cfg.daemon.lease_seconds)
        self.context = self.app.context(lazy_vocabulary=True)
        if self.context.categories is None:
            # the tags never wait for the sounds-like vectors: they are made when the workers are
            # idle (daemon/idle_embed.py), unless a learned model needs them to describe a file
            self.context.embedder = None
        if self.idle_embed is not None:
            self.idle_embed.look_everywhere()

    def _revisit_known(self) -> None:
        """Indexed files that lack a sounds-like vector, whose category the learned model
        changes, that older vocabulary rules described, or whose quality flags sit among their
        labels (indexed before the flags had their own field), are taken once more (without being
        heard again for their tags)."""
        ctx = self.context
        try:
            # the vocabulary's class names its rules: no need to load it before the catch-up
            redescribe = described_by_older_rules(self.store, RULES_VERSION)
            if not redescribe:
                note_rules_applied(self.store, RULES_VERSION)
            redescribe |= self.store.files.paths_labelled(QUALITY_FLAG_IDS)
        except Exception as exc:
            eventlog.emit("revisit_error", reason=f"{type(exc).__name__}: {exc}")
            redescribe = set()
        ctx.recategorise = frozenset(redescribe)
        if ctx.embedder is None:    # no network, or vectors made by the idle pass (it finds the stale ones)
            self._queue_revisits(redescribe)
            return
        try:
            paths = set(self.store.vectors.stale_paths(ctx.embedder.model)) | redescribe
            if ctx.categories is not None:
                changed = recategorised(self.store, ctx.vocabulary, ctx.categories, self.cfg.learn_min_confidence)
                ctx.recategorise = frozenset(changed | redescribe)
                if not changed and not paths:      # every file has this model's decision: later starts skip
                    self.store.meta.set(APPLIED_KEY, str(ctx.categories.version))
                paths |= changed
        except Exception as exc:
            eventlog.emit("revisit_error", reason=f"{type(exc).__name__}: {exc}")
            return
        self._queue_revisits(paths)

    def _queue_revisits(self, paths) -> None:
        paths = [p for p in paths if self.root_of(p) is not None]
        if not paths:
            return
        with self._revisit_lock:
            self._revisit.update(paths)
        self.store.queue.enqueue(sorted(paths))
        self._wake.set()
        eventlog.emit("revisit_queued", files=len(paths))

    def _learn(self) -> None:
        """The schedule's retraining: only when the files a person categorised changed."""
        from sidecar.similarity.categories import NotEnoughToLearn, learn_and_save
        ctx = self.context
        embedder = self.app.embedder
        if embedder is None:
            return
        try:
            model = learn_and_save(self.store, ctx.vocabulary, embedder.model, unless_unchanged=True)
        except NotEnoughToLearn as exc:
            eventlog.emit("learn_skipped", reason=str(exc))
            return
        except Exception as exc:
            eventlog.emit("learn_error", reason=f"{type(exc).__name__}: {exc}")
            return
        if model is None:
            eventlog.emit("learn_skipped", reason="the files a person categorised did not change")
            return
        r = model.report
        eventlog.emit("learned", version=model.version, files=r["files"], categories=r["categories"],
                      accuracy=r["accuracy"])
        self._use_learned(model)

    def _use_learned(self, model) -> None:
        """A learned model describes files from their vectors: the workers embed inline from now."""
        ctx = self.context
        ctx.categories = model
        ctx.embedder = self.app.embedder
        self._revisit_known()

    def _maintain_vectors(self) -> None:
        from sidecar.similarity.search import maintain
        try:
            maintain(self.store)
        except Exception as exc:    # the graph is a cache: the next try or query rebuilds it
            eventlog.emit("vector_index_error", reason=f"{type(exc).__name__}: {exc}")
        from sidecar.meaning.refresh import maintain as maintain_meaning
        try:
            # the text vectors of files changed since (only once the index was searched by meaning)
            maintain_meaning(self.store, self.app.ucs_list)
        except Exception as exc:    # derived vectors: the next try or query makes them
            eventlog.emit("meaning_index_error", reason=f"{type(exc).__name__}: {exc}")

    def _stop(self) -> None:
        deadline = time.monotonic() + STOP_SECONDS
        self.stopping.set()
        self._wake.set()
        eventlog.emit("stopping")
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        self.watcher.stop()
        if self.bridge is not None:
            self.bridge.shutdown()
        if self.web is not None:
            self.web.shutdown()
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if getattr(self, "_listener", None) is not None:
            self._listener.stop()
        # what is still in hand goes back to the queue, no try counted; writes are atomic, so a
        # worker cut short now leaves at most a temporary file that the next start removes
        released = self.store.queue.release_claims(self.worker_id)
        self.store.queue.unregister_worker(self.worker_id)
        eventlog.emit("stopped", released=released, **self._counts())

    def _counts(self) -> dict:
        return {k: v for k, v in self.runner.summary.to_json().items()
                if k in ("classified", "reindexed", "failed", "skipped")}

    # -- claims of workers that died -------------------------------------------
    def _take_over_dead_claims(self) -> None:
        dead = []
        for w in self.store.queue.workers():
            if w.id == self.worker_id:
                continue
            if w.host == self.host and not _pid_alive(w.pid):
                dead.append(w.id)
            elif time.time() - w.heartbeat > 3 * max(self.cfg.daemon.lease_seconds, 60):
                dead.append(w.id)
        taken = self.store.queue.take_over_claims(dead)
        if taken:
            eventlog.emit("claims_taken_over", jobs=taken, workers=dead)

    def _live_peers(self) -> bool:
        return any(w.id != self.worker_id for w in self.store.queue.workers())

    # -- roots -----------------------------------------------------------------
    def _add_root(self, options, *, catch: bool) -> None:
        state = RootState(options.path)
        self.roots[options.path] = _Root(options, state)
        self._check_root(options.path, catch=catch)

    def _check_root(self, path: str, *, catch: bool = True) -> None:
        with self._roots_lock:
            self._check_root_locked(path, catch)

    def _check_root_locked(self, path: str, catch: bool) -> None:
        root = self.roots.get(path)
        if root is None:
            return
        reason = offline_reason(path, self.store.files.has_files_under(path))
        state = root.state
        if reason:
            if state.online or not state.reason or state.observer:
                self.watcher.unwatch(path)
                state.online, state.reason, state.observer = False, reason, ""
                eventlog.emit("root_offline", root=path, reason=reason)
            return
        if state.online:
            return
        options = root.options
        poll = options.poll_seconds or self.cfg.daemon.poll_seconds
        try:
            self.watcher.watch(state, options.observer, poll)
        except OSError as exc:
            state.reason = f"cannot watch: {exc.strerror or exc}"
            eventlog.emit("root_offline", root=path, reason=state.reason)
            return
        state.online = True
        eventlog.emit("watching", root=path, observer=state.observer, fstype=state.fstype,
                      **({"reason": state.reason} if state.reason else {}))
        if catch:
            self._catch_up(path, why="root back online")

    def _check_roots(self) -> None:
        for path in list(self.roots):
            self._check_root(path)

    def _catch_up_all(self, *, first: bool = False) -> None:
        started = time.perf_counter()
        known = self.store.files.stamps_by_folder()
        live_peers = self._live_peers() if first else True
        for path, root in list(self.roots.items()):
            if root.online:
                self._catch_up(path, known=known, why="start" if first else "rescan",
                               clean_temp=0 if first and not live_peers else STALE_TEMP_SECONDS,
                               started=started)
                started = None

    def _catch_up(self, path: str, *, known: dict | None = None, why: str, clean_temp: float = STALE_TEMP_SECONDS,
                  started: float | None = None) -> None:
        """started: when its work began, reading the index's identities (its log's figure counts
        them); default now."""
        from sidecar.metadata.safe_write import cleanup_temp_files
        started = time.perf_counter() if started is None else started
        known = self.store.files.stamps_by_folder() if known is None else known
        result = catch_up(path, known, self.rules)
        for folder in sorted(result.temp_folders):
            for action in cleanup_temp_files(folder, older_than=clean_temp):
                eventlog.emit("leftover_write", path=action.path, action=action.what)
        for where, reason in result.unreadable:
            eventlog.emit("unreadable", path=where, reason=reason)
        if result.changed:
            self.store.queue.enqueue(list(result.changed), delay=self.settings.stable_seconds, seen=result.changed)
        if result.gone:
            self.store.queue.enqueue(result.gone, delay=self.settings.stable_seconds)
        eventlog.emit("caught_up", root=path, why=why, listed=result.listed, changed=len(result.changed),
                      gone=len(result.gone), seconds=round(time.perf_counter() - started, 3))
        self._wake.set()

    # -- events -> queue -----------------------------------------------------------
    def _on_event(self, kind: str, path: str, root: str) -> None:
        self._events.put((kind, path, root))

    def _feed(self) -> None:
        """Collect event paths for a moment, then enqueue them in one transaction."""
        while not self.stopping.is_set():
            try:
                first = self._events.get(timeout=0.5)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + 0.1
            while time.monotonic() < deadline:
                try:
                    batch.append(self._events.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                self._enqueue_events(batch)
            except Exception as exc:   # the feeder must live on; a catch-up finds what was missed
                eventlog.emit("feeder_error", reason=f"{type(exc).__name__}: {exc}")

    def _enqueue_events(self, batch: list[tuple[str, str, str]]) -> None:
        seen: dict[str, tuple[int, int] | None] = {}
        order: list[str] = []
        for kind, path, root in batch:
            if kind.startswith("folder_"):
                self._folder_event(kind, path, root)
                continue
            if self.rules.ignored(path, root):
                continue
            eventlog.emit("file_" + kind.split("_", 1)[1], path=path)
            try:
                st = os.stat(path)
                seen[path] = (st.st_size, st.st_mtime_ns)
            except OSError:
                seen[path] = None
            if path not in order:
                order.append(path)
        if order:
            self.store.queue.enqueue(order, delay=self.settings.stable_seconds, seen=seen)
            self._wake.set()

    def _folder_event(self, kind: str, path: str, root: str) -> None:
        if os.path.abspath(path) == os.path.abspath(root) and kind in ("folder_deleted", "folder_moved_from"):
            self._check_root(root)      # the root itself went away
            return
        if kind in ("folder_created", "folder_moved_to"):
            # files moved or copied in with their folder may come with no event of their own
            if self.rules.ignored(os.path.join(path, "x.wav"), root):
                return
            self._catch_up(path, why=kind)
        elif kind in ("folder_deleted", "folder_moved_from"):
            gone = [p for p in self.store.files.paths_under(path) if not os.path.lexists(p)]
            if gone:
                self.store.queue.enqueue(gone, delay=self.settings.stable_seconds)
                self._wake.set()

    # -- workers -----------------------------------------------------------------
    def _work(self) -> None:
        while not self.stopping.is_set():
            if not self._engine_ok[0]:
                self._wait_for_engine()
                continue
            try:
                job = self.store.queue.claim(self.worker_id, self.settings.lease_seconds)
            except IndexUnavailable as exc:
                self._wait_for_index(exc)
                continue
            except Exception as exc:
                eventlog.emit("queue_error", reason=f"{type(exc).__name__}: {exc}")
                self.stopping.wait(1.0)
                continue
            if job is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            with self._busy_lock:
                self._busy += 1
            try:
                self._handle(job)
            finally:
                with self._busy_lock:
                    self._busy -= 1
                    self._last_busy = time.monotonic()
            if self.idle_embed is not None:
                self.idle_embed.note([job.path])

    def _handle(self, job) -> None:
        claimed = time.time() - 1.0
        while not self.stopping.is_set():
            try:
                self.runner.handle(job, self.worker_id)
                return
            except IndexUnavailable as exc:
                # the index's server went away mid-job: wait for it, then take the job up again as
                # one that may have been written already, so that it is never written twice; unless
                # its lease ran out meanwhile and another worker holds it now
                self._wait_for_index(exc)
                if not self._claim_again(job.path):
                    eventlog.emit("claim_lost", path=job.path)
                    return
                job = replace(job, taken_over=job.taken_over or claimed)
            except Exception as exc:    # never lose the job: back to the queue, counted as a try
                reason = f"unexpected {type(exc).__name__}: {exc}"
                eventlog.emit("failed", path=job.path, reason=reason)
                try:
                    self.store.queue.settle(job.path, job.tries, JobEnd.failed(reason), self.settings.retry)
                except IndexUnavailable as lost:     # its lease runs out; another worker takes it up
                    self._wait_for_index(lost)
                return

    def _claim_again(self, path: str) -> bool:
        """The job is this worker's again (False: another worker holds it)."""
        while not self.stopping.is_set():
            try:
                return self.store.queue.claim_path(path, self.worker_id, self.settings.lease_seconds)
            except IndexUnavailable as exc:
                self._wait_for_index(exc)
        return False

    def _wait_for_index(self, exc: Exception) -> None:
        """Pause this worker until the index answers again (the others find it down too)."""
        eventlog.emit("index_lost", reason=str(exc))
        while not self.stopping.wait(2.0):
            try:
                self.store.queue.counts()
            except IndexUnavailable:
                continue
            eventlog.emit("index_back")
            return

    def _wait_for_engine(self) -> None:
        with self._engine_lock:
            since = time.monotonic() - self._engine_checked
        if since < 2.0:
            self.stopping.wait(2.0 - since)
            return
        with self._engine_lock:
            ok, detail = engine_health(self.engine)
            self._engine_ok = (ok, detail)
            self._engine_checked = time.monotonic()
        if ok:
            eventlog.emit("engine_up", engine=self.cfg.classifier)
            self._wake.set()

    # -- periodic work -------------------------------------------------------------
    def _start_scheduler(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        self._schedule()
        self.scheduler.start()

    def _schedule(self) -> None:
        s = self.scheduler
        s.remove_all_jobs()
        d = self.cfg.daemon
        s.add_job(_while_index_answers(self._beat), "interval", seconds=max(1.0, min(d.lease_seconds / 3, 10.0)), id="heartbeat")
        s.add_job(_while_index_answers(self._check_roots), "interval", seconds=d.root_check_seconds, id="roots")
        s.add_job(_while_index_answers(lambda: self.store.queue.forget_done(7 * 86400)), "interval", hours=6, id="forget-done")
        s.add_job(_while_index_answers(self._maintain_vectors), "interval", minutes=10, id="vectors")
        if self.cfg.learn_schedule:
            s.add_job(_while_index_answers(self._learn), config_module.cron_trigger(self.cfg.learn_schedule), id="learn")
        for path, root in self.roots.items():
            expr = root.options.rescan or d.rescan
            if expr:
                s.add_job(_while_index_answers(self._rescan), config_module.cron_trigger(expr), args=[path], id=f"rescan:{path}")

    def _rescan(self, path: str) -> None:
        root = self.roots.get(path)
        if root is not None and root.online:
            self._catch_up(path, why="scheduled rescan")

    def _beat(self) -> None:
        try:
            self.store.queue.renew_leases(self.worker_id, self.settings.lease_seconds)
            self.store.queue.heartbeat(self.worker_id, self._info())
            self._take_over_dead_claims()
        except Exception as exc:
            eventlog.emit("heartbeat_error", reason=f"{type(exc).__name__}: {exc}")

    def _info(self) -> dict:
        ok, detail = self._engine_ok
        return {"roots": [r.state.to_json() for r in self.roots.values()],
                "engine": {"classifier": self.cfg.classifier, "max_urls": self.cfg.max_urls,
                           "healthy": ok, "detail": detail},
                "osc": f"{self.bridge.host}:{self.bridge.port}" if self.bridge else None,
                "web": self.web.url if self.web else None,
                "config": self.config_path or "", "jobs": self.cfg.jobs,
                "counts": self._counts() if hasattr(self, "runner") else {}}

    # -- the OSC bridge ----------------------------------------------------------------
    def _start_osc(self) -> None:
        if self.make_bridge is None or not self.cfg.osc.enabled:
            return
        try:
            self.bridge = self.make_bridge(self.app)    # its own connection: searches never wait for a write
        except OSError as exc:
            raise ConfigError(f"cannot serve OSC on {self.cfg.osc.host}:{self.cfg.osc.port}: "
                              f"{exc.strerror or exc} (another bridge running? use --no-osc)") from exc
        self.bridge.start()
        eventlog.emit("osc_listening", host=self.bridge.host, port=self.bridge.port)

    # -- the web page ------------------------------------------------------------------
    def _start_web(self) -> None:
        if self.make_web is None or not self.cfg.web.enabled:
            return
        try:
            self.web = self.make_web(self.app, learn=self._learn_for_page, status=lambda: {"daemon": self._info()})
        except OSError as exc:
            raise ConfigError(f"cannot serve the web page on {self.cfg.web.host}:{self.cfg.web.port}: "
                              f"{exc.strerror or exc}") from exc
        self.web.start()
        eventlog.emit("web_listening", url=self.web.url)

    def _learn_for_page(self) -> dict:
        """The page's "learn now": a job of the scheduler (one learning at a time with the
        nightly one); its report."""
        from concurrent.futures import Future

        from sidecar.web.status import learned_report
        done: Future = Future()

        def job():
            from sidecar.similarity.categories import learn_and_save
            try:
                embedder = self.app.embedder
                if embedder is None:
                    raise ConfigError("the sounds-like network is not installed: nothing to learn with")
                model = learn_and_save(self.store, self.context.vocabulary, embedder.model)
                eventlog.emit("learned", version=model.version, files=model.report["files"],
                              categories=model.report["categories"], accuracy=model.report["accuracy"])
                done.set_result(learned_report(model))
                self._use_learned(model)
            except BaseException as exc:
                if not done.done():
                    done.set_exception(exc)

        self.scheduler.add_job(job, id="learn-now", replace_existing=True, max_instances=1)
        return done.result(timeout=LEARN_NOW_SECONDS)

    # -- SIGHUP ----------------------------------------------------------------------
    def reload(self) -> None:
        try:
            new = load_daemon_config(self.config_path, self.cli_roots, db=self.cfg.db)
        except (ConfigError, SidecarError) as exc:
            eventlog.emit("reload_refused", reason=str(exc), config=self.config_path or "")
            return
        old = self.cfg
        new.db = old.db     # the index stays: a daemon holds one
        self.app = self.app.with_config(new)
        self.cfg = new
        self.rules = IgnoreRules(new.daemon.ignore)
        if self.app.engine is not self.engine:
            self.engine = self.app.engine
            self._engine_ok = (True, "")
        self._build_context()
        wanted = {r.path: r for r in new.roots}
        for path in list(self.roots):
            if path not in wanted:
                self.watcher.unwatch(path)
                del self.roots[path]
                eventlog.emit("root_removed", root=path)
        for path, options in wanted.items():
            if path in self.roots:
                self.roots[path].options = options
            else:
                self._add_root(options, catch=True)
        if (new.osc, [r.path for r in new.roots]) != (old.osc, [r.path for r in old.roots]):
            # the bridge answers for the networks and the roots of the configuration in force
            if self.bridge is not None:
                self.bridge.shutdown()
                self.bridge = None
            self._start_osc()
        if (new.web, [r.path for r in new.roots]) != (old.web, [r.path for r in old.roots]):
            if self.web is not None:
                self.web.shutdown()
                self.web = None
            self._start_web()
        self._schedule()
        eventlog.emit("reloaded", config=self.config_path or "", roots=list(self.roots))


def load_daemon_config(path: str | None, cli_roots: list[str], *, db: str | None = None) -> Config:
    """The file (or SIDECAR_CONFIG), the environment, the roots named on the command line."""
    cfg = config_module.load(path)
    if db:
        cfg.db = db
    cfg.add_roots(cli_roots)
    cfg.check()
    if not cfg.roots:
        raise ConfigError("no library root to watch: name one on the command line or in [[roots]]")
    return cfg


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
