"""Atomic file replacement and crash recovery for every writer of the project.

Two ways to change a file safely:

- replace: write a temporary file in the same folder (`.sidecar-tmp-<name>-<token>`),
  flush, fsync, rename over the original, fsync the folder. A crash before the rename
  leaves the original and a leftover temporary file, which `cleanup_temp_files` removes.
- patch in place: first save the old bytes of every region about to change, and the
  old length, in a rollback file (`.sidecar-tmp-<name>-<token>.rollback`), fsynced;
  then patch; then delete the rollback file. A crash in between leaves a rollback file
  that `recover` applies, giving the original back.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

TEMP_PREFIX = ".sidecar-tmp-"
ROLLBACK_SUFFIX = ".rollback"
_MAGIC = b"SIDECAR-ROLLBACK1\n"


def fsync_dir(folder: str | Path) -> None:
    """Make a rename or unlink in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass     # some file systems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


#: the longest file name most file systems take (bytes)
NAME_MAX = 255


def fit_name(name: str, room: int) -> str:
    """name cut to at most `room` bytes (as the file system encodes it), never inside a character."""
    raw = os.fsencode(name)
    if len(raw) <= room:
        return name
    cut = raw[:room]
    while cut and (cut[-1] & 0xC0) == 0x80:       # a continuation byte: step back to a start
        cut = cut[:-1]
    if cut and cut[-1] >= 0xC0:                    # a lead byte whose character was cut off
        cut = cut[:-1]
    return os.fsdecode(cut)


def temp_path(path: str | Path, suffix: str = "") -> Path:
    """A fresh name beside path; a long name is cut so the temporary name stays within NAME_MAX."""
    path = Path(path)
    token = f"-{secrets.token_hex(4)}{suffix}"
    room = NAME_MAX - len(TEMP_PREFIX) - len(os.fsencode(token))
    return path.with_name(f"{TEMP_PREFIX}{fit_name(path.name, room)}{token}")


class ChangedMeanwhile(OSError):
    """The file changed between the moment it was read and the rename that would replace it."""


@dataclass(frozen=True)
class Snapshot:
    """A file as it was read: its size, mtime and the sha256 of its bytes (absent: exists=False)."""

    exists: bool
    size: int = 0
    mtime_ns: int = 0
    sha256: str = ""

    @classmethod
    def read(cls, path: str | Path, limit: int) -> tuple["Snapshot", bytes | None]:
        """The snapshot and the bytes of path (None when it does not exist), read once."""
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                if st.st_size > limit:
                    raise OSError(errno.EFBIG, f"file is {st.st_size} bytes, more than the limit of {limit}")
                data = f.read(limit + 1)
        except FileNotFoundError:
            return cls(False), None
        return cls(True, st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest()), data

    def still(self, path: str | Path) -> bool:
        """Does path still hold what was read?"""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return not self.exists
        if not self.exists or (st.st_size, st.st_mtime_ns) != (self.size, self.mtime_ns):
            return False
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(self.size + 1)).hexdigest() == self.sha256


@contextlib.contextmanager
def atomic_replace(path: str | Path, expect: Snapshot | None = None) -> Iterator[BinaryIO]:
    """Yield a temporary file beside `path`; on success it replaces `path` atomically.

    On any exception the temporary file is removed and the original is untouched.
    The caller may verify the temporary file before leaving the block. With expect, the
    rename happens only while path still holds what was read (else ChangedMeanwhile):
    an edit saved since is never replaced.
    """
    path = Path(path)
    tmp = temp_path(path)
    f = open(tmp, "xb")
    try:
        yield f
        f.flush()
        os.fsync(f.fileno())
        f.close()
        with contextlib.suppress(OSError):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        if expect is not None and not expect.still(path):
            raise ChangedMeanwhile(errno.EAGAIN, "changed while it was being rewritten", str(path))
        os.replace(tmp, path)
    except BaseException:
        f.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_atomic(path: str | Path, data: bytes, expect: Snapshot | None = None) -> None:
    with atomic_replace(path, expect) as f:
        f.write(data)


@dataclass(frozen=True)
class Region:
    offset: int
    old: bytes


class Rollback:
    """Old bytes of the regions an in-place patch will change, kept durably beside the file."""

    def __init__(self, path: str | Path, regions: list[Region], old_length: int):
        self.path = Path(path)
        self.regions = regions
        self.old_length = old_length
        self.file = temp_path(self.path, ROLLBACK_SUFFIX)

    def save(self) -> None:
        head = json.dumps({"target": self.path.name, "length": self.old_length,
                           "regions": [[r.offset, len(r.old)] for r in self.regions]}).encode()
        with open(self.file, "xb") as f:
            f.write(_MAGIC + struct.pack("<I", len(head)) + head)
            for r in self.regions:
                f.write(r.old)
            f.flush()
            os.fsync(f.fileno())
        fsync_dir(self.path.parent)

    def discard(self) -> None:
        # no folder fsync: a rollback file that outlives a power cut only brings the original back
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.file)

    def apply(self) -> None:
        restore(self.path, self.regions, self.old_length)
        self.discard()


def restore(path: Path, regions: list[Region], old_length: int) -> None:
    with open(path, "r+b") as f:
        for r in regions:
            f.seek(r.offset)
            f.write(r.old)
        f.truncate(old_length)
        f.flush()
        os.fsync(f.fileno())


def _load_rollback(file: Path) -> tuple[Path, list[Region], int]:
    data = file.read_bytes()
    if not data.startswith(_MAGIC):
        raise ValueError("not a rollback file")
    pos = len(_MAGIC)
    (n,) = struct.unpack_from("<I", data, pos)
    head = json.loads(data[pos + 4:pos + 4 + n])
    pos += 4 + n
    regions = []
    for offset, length in head["regions"]:
        if pos + length > len(data):
            raise ValueError("rollback file is incomplete")
        regions.append(Region(offset, data[pos:pos + length]))
        pos += length
    target = file.parent / head["target"]
    if target.parent != file.parent or os.sep in head["target"]:
        raise ValueError("rollback target outside its folder")
    return target, regions, int(head["length"])


def _temp_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        root = root.parent
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith(TEMP_PREFIX):
                yield Path(folder) / name


@dataclass(frozen=True)
class RecoveryAction:
    path: str
    action: str     # rolled-back | removed | failed
    reason: str = ""

    @property
    def what(self) -> str:
        """One line for a person: the action and, when there is one, its reason."""
        return f"{self.action} ({self.reason})" if self.reason else self.action


def recover(root: str | Path) -> list[RecoveryAction]:
    """Roll back every in-place patch a crash interrupted under `root`.

    A rollback file whose own write was cut short means the patch never started,
    so it is simply removed.
    """
    actions = []
    for file in _temp_files(Path(root)):
        if not file.name.endswith(ROLLBACK_SUFFIX):
            continue
        try:
            target, regions, length = _load_rollback(file)
        except (ValueError, KeyError, struct.error, OSError) as exc:
            os.unlink(file)
            actions.append(RecoveryAction(str(file), "removed", f"incomplete rollback: {exc}"))
            continue
        try:
            restore(target, regions, length)
        except OSError as exc:
            actions.append(RecoveryAction(str(target), "failed", str(exc)))
            continue
        os.unlink(file)
        fsync_dir(file.parent)
        actions.append(RecoveryAction(str(target), "rolled-back"))
    return actions


def cleanup_temp_files(root: str | Path, older_than: float = 0.0) -> list[RecoveryAction]:
    """Apply pending rollbacks, then delete leftover temporary files under `root`.

    older_than (seconds) spares the temporary file of a write another process
    (the daemon) has under way right now.
    """
    import time

    actions = recover(root)
    now = time.time()
    for file in _temp_files(Path(root)):
        if file.name.endswith(ROLLBACK_SUFFIX):
            continue     # a rollback that could not be applied stays for a person to see
        with contextlib.suppress(FileNotFoundError):
            if older_than and now - file.stat().st_mtime < older_than:
                continue
            os.unlink(file)
            actions.append(RecoveryAction(str(file), "removed"))
    return actions
