"""The index's files grouped by folder: what the daemon's catch-up compares a listing with.

A listing meets one folder at a time, so its comparison looks names up in that folder's small
table instead of whole paths in one table of every file: at a million files the lookups then
stay in the processor's cache, and no path is built for a file that has not changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

#: folder (ending with its separator) -> file name -> (size, mtime_ns)
Stamps = dict[str, dict[str, tuple[int, int]]]


def by_folder(rows: Iterable[tuple[str, int, int]]) -> Stamps:
    """Group (path, size, mtime_ns) rows by folder; rows in path order group fastest."""
    groups: Stamps = {}
    last, names = None, {}
    alt = os.altsep or os.sep          # '/' and, on Windows, '\\': a key uses '/', a local path either
    for path, size, mtime_ns in rows:
        cut = max(path.rfind(os.sep), path.rfind(alt)) + 1
        folder = path[:cut]
        if folder != last:
            names = groups.get(folder)
            if names is None:
                names = groups[folder] = {}
            last = folder
        names[path[cut:]] = (size, mtime_ns)
    return groups
