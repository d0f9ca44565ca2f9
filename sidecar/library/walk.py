"""Walk library roots: every audio file once, nothing outside a root, skips with reasons."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from sidecar.library.formats import AUDIO_EXTENSIONS
from sidecar.metadata.safe_write import TEMP_PREFIX



@dataclass(frozen=True)
class Found:
    path: str
    skip_reason: str = ""   # empty: a candidate audio file
    error: str = ""         # a file that cannot be taken in, with the reason


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
    """Yield candidate audio files and skipped files; symbolic links leaving a root are not followed."""
    for root in roots:
        if os.path.isfile(root):
            yield _classify_name(root)
            continue
        real_root = os.path.realpath(root)
        if not os.path.isdir(root):
            yield Found(root, "no such file or folder")
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=None):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if name.startswith(TEMP_PREFIX):
                    continue
                if os.path.islink(path):
                    # a link is never written through (a rename would replace it with a copy):
                    # its target inside the library is scanned where it lives
                    target = os.path.realpath(path)
                    if os.path.commonpath([target, real_root]) != real_root:
                        yield Found(printable(path), "symbolic link out of the library root")
                    else:
                        yield Found(printable(path), "symbolic link (its target is scanned where it lives)")
                    continue
                yield _classify_name(path)


def _classify_name(path: str) -> Found:
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1].lower()
    if ext in AUDIO_EXTENSIONS:
        if not _valid_name(path):
            return Found(path, error="file name is not valid UTF-8; rename it so library tools can read it")
        return Found(path)
    if name.lower().endswith(".xml") and os.path.splitext(name[:-4])[1].lower() in AUDIO_EXTENSIONS:
        return Found(path, "sidecar document")
    if name.startswith("."):
        return Found(path, "hidden file")
    return Found(path, f"not an audio format SFX Sidecar handles ({ext or 'no extension'})")
