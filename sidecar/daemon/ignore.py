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


class IgnoreRules:
    def __init__(self, extra: list[str] | None = None):
        self.patterns = PARTIAL_OR_SYSTEM + tuple(extra or ())
        # one compiled expression: the catch-up asks this of every file in the library
        self._match = re.compile("|".join(fnmatch.translate(p) for p in self.patterns)).match

    def name_ignored(self, name: str) -> bool:
        """By the name alone: not audio, hidden, partial or system, or the service's own."""
        dot = name.rfind(".")
        if dot < 0 or name[dot:].lower() not in AUDIO_EXTENSIONS:
            return True     # sidecar documents (door.wav.xml) end in .xml
        return name.startswith(".") or self._match(name) is not None

    def ignored(self, path: str, root: str = "") -> bool:
        """name_ignored, or inside a hidden folder below the root (never above it)."""
        if self.name_ignored(os.path.basename(path)):
            return True
        rel = os.path.relpath(os.path.dirname(path), root) if root else os.path.dirname(path)
        return any(p.startswith(".") and p not in (".", "..") for p in rel.split(os.sep))
