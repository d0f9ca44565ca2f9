"""Finding the sound a sidecar describes: beside it, under a mirror, or moved elsewhere (by fingerprint)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ._document import Identity
from ._files import SUFFIX, Mirror

Fingerprint = Callable[[str], str]


def audio_beside(sidecar_file: str | os.PathLike[str], mirror: Mirror | None = None) -> Path:
    """Where the sound of a sidecar should be: `door.wav.xml` -> `door.wav` (mapped back from a mirror)."""
    sidecar = Path(os.path.abspath(sidecar_file))
    name = sidecar.name[: -len(SUFFIX)] if sidecar.name.lower().endswith(SUFFIX) else sidecar.name
    if mirror is not None:
        root, mirror_root = (Path(os.path.abspath(p)) for p in mirror)
        try:
            return (root / sidecar.parent.relative_to(mirror_root)) / name
        except ValueError:
            pass  # not under the mirror: the sound is beside it
    return sidecar.with_name(name)


class AudioFinder:
    """Finds sounds by fingerprint under library roots, walking once and fingerprinting lazily.

    Candidates go cheapest-first: same name and size, same size, same name, then the rest,
    so a moved file is usually found with one or two fingerprints.
    """

    def __init__(self, roots: Iterable[str | os.PathLike[str]], fingerprint: Fingerprint):
        self.roots = [str(r) for r in roots]
        self.fingerprint = fingerprint
        self._files: list[tuple[str, str, int]] | None = None
        self._prints: dict[str, str | None] = {}

    def fingerprint_of(self, path: str) -> str | None:
        if path not in self._prints:
            try:
                self._prints[path] = self.fingerprint(path)
            except Exception:  # an unreadable candidate is just not the one
                self._prints[path] = None
        return self._prints[path]

    def _library(self) -> list[tuple[str, str, int]]:
        if self._files is None:
            from sidecar.library.walk import walk

            files = []
            for found in walk(self.roots):
                if found.skip_reason:
                    continue
                try:
                    size = os.stat(found.path).st_size
                except OSError:
                    continue
                files.append((os.path.abspath(found.path), os.path.basename(found.path), size))
            self._files = files
        return self._files

    def find(self, identity: Identity, hints: Iterable[str] = ()) -> str | None:
        """The path of an existing sound whose fingerprint is identity.fingerprint, or None."""
        if not identity.fingerprint:
            return None
        for hint in hints:
            if hint and os.path.isfile(hint) and self.fingerprint_of(os.path.abspath(hint)) == identity.fingerprint:
                return os.path.abspath(hint)

        def rank(entry: tuple[str, str, int]) -> int:
            same_name, same_size = entry[1] == identity.name, entry[2] == identity.size
            return {(True, True): 0, (False, True): 1, (True, False): 2}.get((same_name, same_size), 3)

        for path, _, _ in sorted(self._library(), key=rank):
            if self.fingerprint_of(path) == identity.fingerprint:
                return path
        return None
