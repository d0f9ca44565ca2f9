"""File events from watchdog, per root, fed to the work queue in batches.

A native observer (inotify, FSEvents, ReadDirectoryChangesW) where the file
system delivers events, a polling observer where it does not (network shares)
or where the kernel's inotify limits ran out. The handler only collects paths;
a feeder thread stats them and enqueues each batch in one transaction.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from sidecar.daemon import eventlog
from sidecar.daemon.roots import RootState, filesystem_type, inotify_limit_hint, is_remote


class _Handler(FileSystemEventHandler):
    def __init__(self, root: str, sink: Callable[[str, str, str], None]):
        self.root = root
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        src = _text(event.src_path)
        dest = _text(getattr(event, "dest_path", "") or "")
        what = "folder" if event.is_directory else "file"
        if kind == "moved":
            self.sink(what + "_moved_to", dest, self.root)     # first: a move's target before its source
            self.sink(what + "_moved_from", src, self.root)
        else:
            self.sink(f"{what}_{kind}", src, self.root)


def _text(path) -> str:
    return path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else str(path)


class Watcher:
    """The observers of every watched root."""

    def __init__(self, sink: Callable[[str, str, str], None]):
        self.sink = sink
        self._native: Observer | None = None
        self._watches: dict[str, tuple[object, object]] = {}    # root -> (observer, watch)
        self._lock = threading.Lock()

    def watch(self, state: RootState, mode: str, poll_seconds: float) -> None:
        """Start watching a root: `mode` auto, native or polling."""
        with self._lock:
            if state.path in self._watches:
                return
            state.fstype = filesystem_type(state.path)
            if mode == "auto" and is_remote(state.fstype):
                mode, state.reason = "polling", f"remote file system ({state.fstype})"
            elif mode == "polling":
                state.reason = "polling chosen in the configuration"
            else:
                mode, state.reason = "native", ""
            handler = _Handler(state.path, self.sink)
            if mode == "native":
                try:
                    if self._native is None:
                        self._native = Observer()
                        self._native.daemon = True
                        self._native.start()
                    self._watches[state.path] = (self._native, self._native.schedule(
                        handler, state.path, recursive=True))
                    state.observer = "native"
                    return
                except OSError as exc:
                    if exc.errno not in (errno.ENOSPC, errno.EMFILE):
                        raise
                    state.reason = f"inotify limit reached ({exc.strerror}); polling every {poll_seconds:g} s"
                    eventlog.emit("observer_fallback", root=state.path, observer="polling",
                                  reason=f"{exc.strerror}: {inotify_limit_hint()}")
            poller = PollingObserver(timeout=poll_seconds)
            poller.daemon = True
            watch = poller.schedule(handler, state.path, recursive=True)
            poller.start()
            self._watches[state.path] = (poller, watch)
            state.observer = "polling"

    def unwatch(self, root: str) -> None:
        with self._lock:
            held = self._watches.pop(root, None)
        if held is None:
            return
        observer, watch = held
        try:
            if observer is self._native:
                observer.unschedule(watch)
            else:
                observer.stop()
        except (KeyError, OSError):
            pass     # the watch of a vanished root may be gone already

    def watched(self) -> list[str]:
        with self._lock:
            return list(self._watches)

    def stop(self) -> None:
        with self._lock:
            held = list(self._watches.values())
            self._watches.clear()
            native, self._native = self._native, None
        for observer, _watch in held:
            if observer is not native:
                observer.stop()
        if native is not None:
            native.stop()
