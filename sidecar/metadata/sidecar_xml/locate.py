"""Finding the sound a sidecar describes: beside it, under a mirror, or moved elsewhere (by fingerprint).

A sound that has a sidecar of its own is never taken as the moved sound of another
sidecar (a copy of the same audio is another sound); of the sounds left, only a
single one is a match: several are ambiguous, and nothing is guessed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sidecar.errors import ConfigError

from ._document import Identity
from ._files import SUFFIX, Mirror, is_shortened, sidecar_name, sidecar_path

Fingerprint = Callable[[str], str]


def audio_beside(sidecar_file: str | os.PathLike[str], mirror: Mirror | None = None) -> Path:
    """Where the sound of a sidecar should be: `door.wav.xml` -> `door.wav` (mapped back from a mirror)."""
    sidecar = Path(os.path.abspath(sidecar_file))
    name = sidecar.name[: -len(SUFFIX)] if sidecar.name.lower().endswith(SUFFIX) else sidecar.name
    if is_shortened(sidecar.name):
        name = _named_sound(sidecar) or name
    if mirror is not None:
        root, mirror_root = (Path(os.path.abspath(p)) for p in mirror)
        try:
            return (root / sidecar.parent.relative_to(mirror_root)) / name
        except ValueError:
            pass  # not under the mirror: the sound is beside it
    return sidecar.with_name(name)


def _named_sound(sidecar: Path) -> str | None:
    """The sound name a shortened sidecar's document holds (its own name cannot say it whole)."""
    from ._files import read
    try:
        _record, identity, _human = read(sidecar)
    except Exception:  # an unreadable document is reported by whoever reads it next
        return None
    name = identity.name
    return name if name and sidecar_name(name) == sidecar.name else None


def own_sidecars(audio: str | os.PathLike[str], mirrors: Iterable[Mirror | None] = ()) -> list[Path]:
    """The sidecars that exist for audio: beside it, and under each mirror that serves its root."""
    found: list[Path] = []
    for mirror in [None, *mirrors]:
        try:
            place = sidecar_path(audio, mirror)
        except ConfigError:
            continue  # audio is not under this mirror's root
        if place not in found and os.path.lexists(place):
            found.append(place)
    return found


@dataclass
class MovedSound:
    """Where an orphaned sidecar's sound went: path when exactly one sound can be it."""

    path: str | None
    candidates: list[str] = field(default_factory=list)     # its audio, no sidecar of their own
    with_sidecar: list[str] = field(default_factory=list)   # its audio, but a sidecar of their own

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


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
                if found.skip_reason or found.error:
                    continue
                try:
                    size = os.stat(found.path).st_size
                except OSError:
                    continue
                files.append((os.path.abspath(found.path), os.path.basename(found.path), size))
            self._files = files
        return self._files

    def find_all(self, identity: Identity, hints: Iterable[str] = (),
                 exclude: Callable[[str], bool] | None = None) -> list[str]:
        """Every sound under the roots (and among hints) whose fingerprint is identity.fingerprint.

        A path for which exclude(path) is true is passed over before it is fingerprinted.
        """
        if not identity.fingerprint:
            return []
        paths = [os.path.abspath(h) for h in hints if h and os.path.isfile(h)]
        paths += [p for p, _, _ in self._library()]
        matches: list[str] = []
        for path in dict.fromkeys(paths):
            if exclude is not None and exclude(path):
                continue
            if self.fingerprint_of(path) == identity.fingerprint:
                matches.append(path)
        return matches

    def moved_sound(self, identity: Identity, *, known: Iterable[str] = (),
                    has_sidecar: Callable[[str], bool], search: bool = True) -> MovedSound:
        """The sound an orphaned sidecar describes, among known paths (the index) and the roots.

        Known paths (the index's rows with identity.fingerprint) are checked by fingerprint;
        with search, the roots are walked too. Sounds with a sidecar of their own are left out
        before any hashing (and listed, when known); one sound left is the match, several are
        ambiguous.
        """
        if not identity.fingerprint:
            return MovedSound(None)
        known = list(dict.fromkeys(os.path.abspath(p) for p in known if os.path.isfile(p)))
        with_sidecar = [p for p in known if has_sidecar(p)]        # as the index says: not hashed
        candidates = [p for p in known if p not in with_sidecar
                      and self.fingerprint_of(p) == identity.fingerprint]
        if search:
            for path in self.find_all(identity, hints=[identity.path],
                                      exclude=lambda p: p in known or has_sidecar(p)):
                candidates.append(path)
        candidates = sorted(dict.fromkeys(candidates))
        return MovedSound(candidates[0] if len(candidates) == 1 else None, candidates, sorted(with_sidecar))

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
