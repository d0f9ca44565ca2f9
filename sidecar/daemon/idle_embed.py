"""The daemon's sounds-like pass: embeddings made while the workers have nothing to do.

A file's tags never wait for its sounds-like vector (pipeline/sounds_like.py says why). The
workers tag and write; each file they took is noted here; once no worker has held a job for
IDLE_SECONDS, this thread embeds the noted files, one per core at a time, and stops as soon as a
worker takes a job again. At start (and after a reload) it looks once for every indexed file
under the roots that lacks a current vector: files indexed before embeddings existed, by another
model, or left over when the daemon stopped mid-pass.

When a learned category model is in use the workers embed inline instead (its CatID comes from
the vector), and this pass only finds what they could not do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sidecar.daemon import eventlog
from sidecar.errors import IndexUnavailable

#: the workers have held no job for this long: the machine is the pass's
IDLE_SECONDS = 1.0


class IdleEmbedder:
    """embedder: the sounds-like network (loaded on first use); roots(): the online roots;
    idle(): no worker holds a job, and none has for IDLE_SECONDS; jobs: files embedded at once."""

    def __init__(self, embedder, store, *, roots: Callable[[], list[str]], idle: Callable[[], bool],
                 stopping: threading.Event, jobs: int = 1):
        self.embedder = embedder
        self.store = store
        self.roots = roots
        self.idle = idle
        self.stopping = stopping
        self.jobs = jobs
        self._lock = threading.Lock()
        self._noted: set[str] = set()
        self._look_everywhere = True        # the first pass asks the index for every stale file
        self._due = threading.Event()
        self._due.set()
        self.off = False                    # the network cannot be had: said once, elsewhere

    def note(self, paths) -> None:
        """Files a worker took: embedded when the workers are next idle, unless current."""
        with self._lock:
            self._noted.update(paths)
        self._due.set()

    def look_everywhere(self) -> None:
        with self._lock:
            self._look_everywhere = True
        self._due.set()

    def run(self) -> None:
        """The thread's loop, until the daemon stops."""
        while not self.stopping.is_set() and not self.off:
            if not self._due.wait(0.5):
                continue
            if not self.idle():
                self.stopping.wait(0.25)
                continue
            self._due.clear()
            with self._lock:
                everywhere, noted = self._look_everywhere, self._noted
                self._look_everywhere, self._noted = False, set()
            try:
                self._pass(everywhere, noted)
            except IndexUnavailable as exc:
                eventlog.emit("sounds_like_paused", reason=str(exc))
                self._put_back(everywhere, noted)
                self.stopping.wait(2.0)
            except Exception as exc:     # derived data: the next pass tries again
                eventlog.emit("sounds_like_error", reason=f"{type(exc).__name__}: {exc}")
                self.stopping.wait(5.0)

    def _put_back(self, everywhere: bool, noted: set[str]) -> None:
        with self._lock:
            self._look_everywhere |= everywhere
            self._noted |= noted
        self._due.set()

    def _pass(self, everywhere: bool, noted: set[str]) -> None:
        """Every stale file under the roots (everywhere), or those of the noted ones."""
        from sidecar.pipeline import sounds_like
        result = sounds_like.run(self.roots(), self.embedder, self.store, jobs=self.jobs,
                                 paths=None if everywhere else noted,
                                 keep_going=lambda: self.idle() and not self.stopping.is_set())
        for path, why in result.notes:
            eventlog.emit("sounds_like_skipped", path=path, reason=why)
        if result.unavailable:
            self.off = True
            return
        if result.embedded or result.left:
            eventlog.emit("sounds_like", embedded=result.embedded, left=result.left,
                          audio_seconds=round(result.audio_seconds, 3), seconds=round(result.seconds, 3))
        if result.left:
            # a worker took a job: what was not started waits for the next quiet moment
            self._put_back(everywhere, noted)
