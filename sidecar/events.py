"""Named events with typed payloads: how the daemon's status and the OSC bridge hear of work.

No stage reaches into another; a stage or the runner sends an event and whoever
listens (a progress display, the daemon, a test) is called in the sender's thread.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Literal, TypedDict

log = logging.getLogger(__name__)

EventName = Literal["file_written", "file_failed", "indexed", "scan_finished"]


class FileWritten(TypedDict):
    path: str
    containers: list[str]


class FileFailed(TypedDict):
    path: str
    stage: str
    reason: str


class Indexed(TypedDict):
    path: str
    outcome: str       # classified | reindexed


class ScanFinished(TypedDict):
    summary: dict


_listeners: dict[str, list[Callable[..., None]]] = defaultdict(list)
_lock = threading.Lock()


def listen(name: EventName, listener: Callable[..., None]) -> Callable[[], None]:
    """Call listener(**payload) on every `name` event; returns a function that stops it."""
    with _lock:
        _listeners[name].append(listener)

    def stop() -> None:
        with _lock:
            if listener in _listeners[name]:
                _listeners[name].remove(listener)
    return stop


def send(name: EventName, **payload) -> None:
    with _lock:
        listeners = list(_listeners[name])
    for listener in listeners:
        try:
            listener(**payload)
        except Exception:   # a listener's fault must never fail the file being processed
            log.exception("listener of %s failed", name)
