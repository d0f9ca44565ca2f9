"""Walk library roots: every audio file once, nothing outside a root, skips with reasons."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from sidecar.formats import AUDIO_EXTENSIONS
from sidecar.metadata.safe_write import TEMP_PREFIX
from sidecar.metadata.sidecar_xml import is_sidecar_name



@dataclass(frozen=True)
class Found:
    path: str
    skip_reason: str = ""   # empty: a candidate audio file
    error: str = ""         # a file that cannot be taken in, with the reason
    named: bool = False     # a skip the user is told about by path (not a mere format mismatch)


def printable(path: str) -> str:
    """A path safe to print and to store as text: undecodable bytes shown as \\xNN."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _valid_name(path: str) -> bool:
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def walk(roots: list[str]) -> Iterator[Found]:
    """Yield candidate audio files and skipped files; symbolic links leaving a root are not followed.

    Only regular files are ever candidates: a FIFO, socket or device named like audio would
    block or misbehave when opened, so it is skipped by its mode and never opened. A folder
    that cannot be listed is reported by name with the reason.
    """
    for root in roots:
        try:
            mode = os.stat(root).st_mode
        except FileNotFoundError:
            yield Found(root, "no such file or folder")
            continue
        except OSError as exc:
            yield Found(root, error=_os_reason(exc))
            continue
        if not stat.S_ISDIR(mode):
            yield _special(root, mode) or _classify_name(root)
            continue
        real_root = os.path.realpath(root)
        unreadable: list[OSError] = []
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable.append):
            yield from _unreadable_folders(unreadable)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if name.startswith(TEMP_PREFIX):
                    continue
                try:
                    st = os.lstat(path)
                except OSError as exc:
                    yield Found(printable(path), error=_os_reason(exc))
                    continue
                if stat.S_ISLNK(st.st_mode):
                    # a link is never written through (a rename would replace it with a copy):
                    # its target inside the library is scanned where it lives
                    target = os.path.realpath(path)
                    if os.path.commonpath([target, real_root]) != real_root:
                        yield Found(printable(path), "symbolic link out of the library root")
                    else:
                        yield Found(printable(path), "symbolic link (its target is scanned where it lives)")
                    continue
                yield _special(path, st.st_mode) or _classify_name(path)
        yield from _unreadable_folders(unreadable)


#: what a non-regular file is, by its mode
_SPECIAL_KINDS = ((stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISSOCK, "socket"),
                  (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"))


def _special(path: str, mode: int) -> Found | None:
    """A file that is not a regular file: skipped by name, never opened."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _SPECIAL_KINDS if test(mode)), "not a regular file")
    return Found(printable(path), f"{kind}, not a regular file: never opened", named=True)


def _unreadable_folders(errors: list[OSError]) -> Iterator[Found]:
    while errors:
        exc = errors.pop(0)
        folder = printable(exc.filename or "")
        yield Found(folder, error=f"folder not readable ({_os_reason(exc)}): nothing in it was scanned")


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _classify_name(path: str) -> Found:
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1].lower()
    if ext in AUDIO_EXTENSIONS:
        if not _valid_name(path):
            return Found(path, error="file name is not valid UTF-8; rename it so library tools can read it")
        return Found(path)
    if is_sidecar_name(name):
        return Found(path, "sidecar document")
    if name.startswith("."):
        return Found(path, "hidden file")
    return Found(path, f"not an audio format SFX Sidecar handles ({ext or 'no extension'})")
