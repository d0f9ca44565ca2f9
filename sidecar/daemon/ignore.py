"""Which paths the daemon never takes: partial downloads, system files, its own files.

Only audio files are work; a sidecar document is the service's own output and a
`.sidecar-tmp-` file is one of its writes under way.
"""

from __future__ import annotations

import fnmatch
import os
import re

from sidecar.formats import AUDIO_EXTENSIONS
from sidecar.metadata.safe_write import TEMP_PREFIX

#: names of files still arriving or belonging to the system, never audio to classify
PARTIAL_OR_SYSTEM = ("*.part", "*.tmp", "*.crdownload", "*.download", "*.partial", "._*",
                     ".DS_Store", "Thumbs.db", "desktop.ini", "~$*", TEMP_PREFIX + "*")


WILD = "*?["


def _wild(text: str) -> bool:
    return any(c in text for c in WILD)


def _can_match_audio(pattern: str) -> bool:
    """Can the pattern match a name name_ignored would otherwise keep (an audio file's, not
    hidden)? A hidden name is ignored anyway; a name without wildcards is itself a file name; a
    "*<text>" pattern needs <text> to end like an audio extension, or to be the end of one."""
    if pattern.startswith("."):
        return False
    if not _wild(pattern):
        dot = pattern.rfind(".")
        return dot >= 0 and pattern[dot:].lower() in AUDIO_EXTENSIONS
    if pattern.startswith("*") and not _wild(pattern[1:]):
        tail = pattern[1:].lower()
        return any(tail.endswith(ext) or ext.endswith(tail) for ext in AUDIO_EXTENSIONS)
    return True


class IgnoreRules:
    def __init__(self, extra: list[str] | None = None):
        self.patterns = PARTIAL_OR_SYSTEM + tuple(extra or ())
        # The catch-up asks name_ignored of every file in the library, so each pattern is kept
        # only where it can decide something (see _can_match_audio) and tested the cheapest way:
        # "*<text>" as a suffix; the others as one expression, asked only of names starting
        # with one of their first characters (when each has a literal one, as the defaults do).
        useful = [p for p in self.patterns if _can_match_audio(p)]
        plain = [p for p in useful if p.startswith("*") and not _wild(p[1:])]
        rest = [p for p in useful if p not in plain]
        self._suffixes = tuple(p[1:] for p in plain)
        self._match = re.compile("|".join(fnmatch.translate(p) for p in rest)).match if rest else None
        firsts = {p[0] for p in rest}
        self._firsts = None if firsts & set(WILD) else tuple(firsts)
        self._audio: dict[str, bool] = {}     # extension as written -> audio or not

    def name_ignored(self, name: str) -> bool:
        """By the name alone: not audio, hidden, partial or system, or the service's own."""
        dot = name.rfind(".")
        if dot < 0:
            return True
        ext = name[dot:]
        audio = self._audio.get(ext)
        if audio is None:
            audio = ext.lower() in AUDIO_EXTENSIONS
            if len(self._audio) < 256:          # a library holds few spellings of its extensions
                self._audio[ext] = audio
        if not audio or name[0] == ".":
            return True     # sidecar documents (door.wav.xml) end in .xml; hidden files
        if self._suffixes and name.endswith(self._suffixes):
            return True
        if self._match is None or (self._firsts is not None and not name.startswith(self._firsts)):
            return False
        return self._match(name) is not None

    def ignored(self, path: str, root: str = "") -> bool:
        """name_ignored, or inside a hidden folder below the root (never above it)."""
        if self.name_ignored(os.path.basename(path)):
            return True
        rel = os.path.relpath(os.path.dirname(path), root) if root else os.path.dirname(path)
        return any(p.startswith(".") and p not in (".", "..") for p in rel.split(os.sep))
