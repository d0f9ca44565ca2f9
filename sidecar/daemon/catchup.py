"""Catch up with a root: what changed while nobody watched, at the speed of listing it.

One scandir pass (each entry's stat comes with the listing on most systems),
compared with the index's (size, mtime): a file whose pair matches is
unchanged and costs nothing more. The rest, and the indexed files that are
gone, become jobs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from sidecar.daemon.ignore import IgnoreRules
from sidecar.metadata.safe_write import TEMP_PREFIX

log = logging.getLogger(__name__)


@dataclass
class CatchUp:
    root: str
    listed: int = 0
    changed: dict[str, tuple[int, int]] = field(default_factory=dict)   # path -> (size, mtime_ns)
    gone: list[str] = field(default_factory=list)
    temp_folders: set[str] = field(default_factory=set)   # folders holding leftover writes
    unreadable: list[tuple[str, str]] = field(default_factory=list)    # (folder or file, reason)


def listing(root: str, rules: IgnoreRules, result: CatchUp) -> Iterator[tuple[str, int, int]]:
    """(path, size, mtime_ns) of every audio file under root; links and hidden folders skipped."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError as exc:
            result.unreadable.append((folder, exc.strerror or str(exc)))
            continue
        with entries:
            for entry in entries:
                name = entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not name.startswith("."):
                            stack.append(entry.path)
                        continue
                    if name.startswith(TEMP_PREFIX):
                        result.temp_folders.add(folder)
                        continue
                    if rules.name_ignored(name) or not entry.is_file(follow_symlinks=False):
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError as exc:
                    result.unreadable.append((entry.path, exc.strerror or str(exc)))
                    continue
                yield entry.path, st.st_size, st.st_mtime_ns


def catch_up(root: str, known: dict[str, tuple], indexed_under_root: list[str],
             rules: IgnoreRules) -> CatchUp:
    """Compare the root with the index. known: path -> (size, mtime_ns, ...) of indexed files."""
    result = CatchUp(root)
    seen = set()
    for path, size, mtime_ns in listing(root, rules, result):
        result.listed += 1
        seen.add(path)
        ident = known.get(path)
        if ident is None or ident[0] != size or ident[1] != mtime_ns:
            result.changed[path] = (size, mtime_ns)
    result.gone = [p for p in indexed_under_root if p not in seen and not os.path.lexists(p)]
    return result
