"""The daemon's log: one event a line, a JSON object with its time, its name and, for a file,
its path, so a person can grep it and a machine can read it."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import TextIO

_lock = threading.Lock()
_stream: TextIO = sys.stderr


def use(stream: TextIO) -> None:
    global _stream
    _stream = stream


def emit(event: str, **fields) -> None:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    line = json.dumps({"time": stamp, "event": event, **fields}, ensure_ascii=False, default=str)
    with _lock:
        try:
            _stream.write(line + "\n")
            _stream.flush()
        except (OSError, ValueError):
            pass    # a closed log must not stop the service
