"""Catch up with a root: what changed while nobody watched, at the speed of listing it.

One pass over the tree, compared with the index's (size, mtime): a file whose
pair matches is unchanged and costs nothing more. The rest, and the indexed
files that are gone, become jobs.

Where GNU find is installed (Linux), it lists the tree in a process of its
own, started before the index's identities are read, so that listing and
reading go on side by side on two cores; its output is read in the
background, a block at a time, and parsed here. Elsewhere (macOS, Windows) the
listing is a scandir pass in this process. Both give the same entries: every
regular file not inside a hidden folder, with the folders holding the
service's leftover writes and those that could not be read.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
import threading
from collections import deque
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


class Listing:
    """The files under root as (path, size, mtime_ns), listed from the moment this is made: by GNU
    find in its own process where there is one (see the module's notes), else by scandir when
    iterated. Iterate once; what could not be read and the leftover writes go into result."""

    #: bytes read from find at a time (each block parsed and let go: a million files print ~80 MB)
    BLOCK = 1 << 20

    def __init__(self, root: str, rules: IgnoreRules, result: CatchUp, *, use_find: bool | None = None):
        self.root, self.rules, self.result = root, rules, result
        find = gnu_find() if use_find is None else (gnu_find() if use_find else None)
        self._proc = None
        if find is not None and os.path.isdir(root):
            self._start(find)

    def _start(self, find: str) -> None:
        top = self.root.rstrip("/") or "/"
        # the root followed if it is a link (a mount stand-in), no link below it; hidden folders
        # below the root pruned; every other non-folder printed, NUL-ended:
        # its type, size, mtime (seconds.nanoseconds) and path
        cmd = [find, "-H", top, "-mindepth", "1", "(", "-type", "d", "-name", ".*", "-prune", ")",
               "-o", "(", "!", "-type", "d", "-printf", "%y %s %T@ %p\\0", ")"]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      env={**os.environ, "LC_ALL": "C"})
        self._blocks: deque[bytes] = deque()
        self._more = threading.Condition()
        self._ended = False
        self._errors = b""
        threading.Thread(target=self._drain_errors, daemon=True, name="find-errors").start()
        threading.Thread(target=self._read, daemon=True, name="find-output").start()

    def _read(self) -> None:
        try:
            while block := self._proc.stdout.read(self.BLOCK):
                with self._more:
                    self._blocks.append(block)
                    self._more.notify()
        finally:
            with self._more:
                self._ended = True
                self._more.notify()

    def _drain_errors(self) -> None:
        self._errors = self._proc.stderr.read()

    def __iter__(self) -> Iterator[tuple[str, int, int]]:
        if self._proc is None:
            yield from listing(self.root, self.rules, self.result)
            return
        yield from self._parsed()

    def _blocks_in_turn(self) -> Iterator[bytes]:
        while True:
            with self._more:
                while not self._blocks and not self._ended:
                    self._more.wait()
                if not self._blocks:
                    return
                block = self._blocks.popleft()
            yield block

    def _parsed(self) -> Iterator[tuple[str, int, int]]:
        result, rules = self.result, self.rules
        rest = b""
        try:
            for block in self._blocks_in_turn():
                records = (rest + block).split(b"\0")
                rest = records.pop()
                for record in records:
                    kind, size, mtime, raw = record.split(b" ", 3)
                    path = os.fsdecode(raw)
                    cut = path.rfind("/")
                    name = path[cut + 1:]
                    if name.startswith(TEMP_PREFIX):
                        result.temp_folders.add(path[:cut])
                        continue
                    if kind != b"f" or rules.name_ignored(name):
                        continue
                    yield path, int(size), _mtime_ns(mtime, path)
        finally:
            self._proc.stdout.close()
            self._proc.wait()
        self._proc.stderr.close()
        for line in self._errors.decode("utf-8", "replace").splitlines():
            said = _FIND_ERROR.match(line)
            result.unreadable.append((said.group(1), said.group(2)) if said else (self.root, line))


#: "find: '/lib/locked': Permission denied" (LC_ALL=C): the place and the reason
_FIND_ERROR = re.compile(r"^find: '(.+)': (.+)$")


def _mtime_ns(stamp: bytes, path: str) -> int:
    """find's %T@ ("1796458462.0978227480") as whole nanoseconds, exactly as stat gives them."""
    seconds, _, fraction = stamp.partition(b".")
    if seconds.startswith(b"-"):
        return os.lstat(path).st_mtime_ns      # before 1970: the digits do not split cleanly
    return int(seconds) * 1_000_000_000 + int(fraction[:9].ljust(9, b"0"))


@functools.cache
def gnu_find() -> str | None:
    """The path of GNU find, or None (BSD find, as on macOS, has no -printf)."""
    find = shutil.which("find")
    if find is None or os.name != "posix":
        return None
    try:
        said = subprocess.run([find, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return find if "GNU findutils" in said else None


def catch_up(root: str, known: dict[str, tuple], indexed_under_root: list[str],
             rules: IgnoreRules, listed: Listing | None = None) -> CatchUp:
    """Compare the root with the index. known: path -> (size, mtime_ns, ...) of indexed files;
    listed: the root's Listing, started before known was read (default: one started now)."""
    result = listed.result if listed is not None else CatchUp(root)
    entries = listed if listed is not None else Listing(root, rules, result)
    seen = set()
    for path, size, mtime_ns in entries:
        result.listed += 1
        seen.add(path)
        ident = known.get(path)
        if ident is None or ident[0] != size or ident[1] != mtime_ns:
            result.changed[path] = (size, mtime_ns)
    result.gone = [p for p in indexed_under_root if p not in seen and not os.path.lexists(p)]
    return result
