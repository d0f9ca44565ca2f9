"""Catch up with a root: what changed while nobody watched, at the speed of listing it.

One scandir pass (each entry's stat comes with the listing on most systems),
compared with the index's (size, mtime): a file whose pair matches is
unchanged and costs nothing more. The rest, and the indexed files that are
gone, become jobs.

At a million files the work per file is the cost, so the pass does as little as it can:
each folder is listed through its descriptor (the kernel then looks up a bare name, not the
whole path, for every stat), its files are looked up by name in that folder's own table of
the index (index/folders.py), and gone files are looked for only in a folder where fewer
indexed files were found than the index holds.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from sidecar.daemon.ignore import IgnoreRules
from sidecar.index.folders import Stamps
from sidecar.metadata.safe_write import TEMP_PREFIX

log = logging.getLogger(__name__)

#: scandir of an open folder, whose entries stat by name relative to it (POSIX only)
_BY_DESCRIPTOR = os.scandir in os.supports_fd and os.stat in os.supports_dir_fd


@dataclass
class CatchUp:
    root: str
    listed: int = 0
    changed: dict[str, tuple[int, int]] = field(default_factory=dict)   # path -> (size, mtime_ns)
    gone: list[str] = field(default_factory=list)
    temp_folders: set[str] = field(default_factory=set)   # folders holding leftover writes
    unreadable: list[tuple[str, str]] = field(default_factory=list)    # (folder or file, reason)


def _entries(folder: str):
    """scandir of folder, by its descriptor where the system allows; the caller closes it."""
    if not _BY_DESCRIPTOR:
        return os.scandir(folder), None
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        return os.scandir(fd), fd
    except BaseException:
        os.close(fd)
        raise


def catch_up(root: str, known: Stamps, rules: IgnoreRules) -> CatchUp:
    """Compare the root with the index. known: the index's files by folder (under this root or
    any other; see FileStore.stamps_by_folder). Links and hidden folders are skipped."""
    result = CatchUp(root)
    changed, unreadable = result.changed, result.unreadable
    ignored = rules.name_ignored
    listed = 0
    visited: set[str] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries, fd = _entries(folder)
        except OSError as exc:
            unreadable.append((folder, exc.strerror or str(exc)))
            continue
        here = os.path.join(folder, "")
        visited.add(here)
        indexed = known.get(here, {})
        get = indexed.get
        found = 0
        try:
            with entries:
                for entry in entries:
                    name = entry.name
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if name[0] != ".":
                                stack.append(here + name)
                            continue
                        if name.startswith(TEMP_PREFIX):
                            result.temp_folders.add(folder)
                            continue
                        if ignored(name) or not entry.is_file(follow_symlinks=False):
                            continue
                        st = entry.stat(follow_symlinks=False)
                    except OSError as exc:
                        unreadable.append((here + name, exc.strerror or str(exc)))
                        continue
                    listed += 1
                    stamp = get(name)
                    if stamp is None:
                        changed[here + name] = (st.st_size, st.st_mtime_ns)
                        continue
                    found += 1
                    if stamp[0] != st.st_size or stamp[1] != st.st_mtime_ns:
                        changed[here + name] = (st.st_size, st.st_mtime_ns)
        finally:
            if fd is not None:
                os.close(fd)
        if found < len(indexed):      # some indexed file was not listed here: gone, or ignored now
            result.gone += _gone(here, indexed)
    result.listed = listed
    # folders the index knows under the root that the walk never entered (removed, hidden)
    prefix = os.path.join(os.path.abspath(root), "")
    for here, indexed in known.items():
        if here not in visited and here.startswith(prefix):
            result.gone += _gone(here, indexed)
    result.gone.sort()
    return result


def _gone(here: str, indexed: dict) -> list[str]:
    return [here + name for name in indexed if not os.path.lexists(here + name)]
