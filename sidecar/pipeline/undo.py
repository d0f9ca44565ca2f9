"""Give a sound back as it was before the service first wrote it, with its sidecars: what
`sidecar undo` and the web page's undo share."""

from __future__ import annotations

import os

from sidecar.metadata.journal import Journal, UndoResult


def is_sidecar(path: str) -> bool:
    from sidecar.metadata.sidecar_xml import is_sidecar_name
    return is_sidecar_name(os.path.basename(path))


def sidecars_of(audio: str, cfg) -> list[str]:
    """Where the sidecar of audio may be: beside it, and under its configured mirror."""
    from sidecar.errors import ConfigError
    from sidecar.metadata.sidecar_xml import sidecar_path
    places = [str(sidecar_path(audio))]
    mirror = cfg.mirror_for(audio)
    if mirror is not None:
        try:
            places.append(str(sidecar_path(audio, mirror)))
        except ConfigError:
            pass
    return list(dict.fromkeys(places))


def audio_of(sidecar: str, cfg) -> str:
    """The sound a sidecar describes (mapped back from a configured mirror)."""
    from sidecar.metadata.sidecar_xml.locate import audio_beside
    real = os.path.abspath(sidecar)
    for root, mirror in cfg.mirrors.items():
        mirror = os.path.abspath(os.path.expanduser(mirror))
        if real.startswith(mirror.rstrip(os.sep) + os.sep):
            return str(audio_beside(real, (os.path.abspath(os.path.expanduser(root)), mirror)))
    return str(audio_beside(real))


def undo_sound(journal: Journal, path: str, cfg) -> tuple[str, list[UndoResult]]:
    """Undo one FILE: the sound and its sidecar (beside it or in the mirror); a sidecar alone too."""
    if is_sidecar(path):
        return audio_of(path, cfg), [journal.undo(path)]
    results = [journal.undo(path)] if journal.has(path) else []
    results += [journal.undo(doc) for doc in sidecars_of(path, cfg) if journal.has(doc)]
    return path, results or [journal.undo(path)]


def given_back(journal: Journal, groups: dict[str, list[UndoResult]]) -> list[str]:
    """Sounds now as they were: something of them undone, and the sound itself no longer journaled.

    A sound whose own undo failed is still journaled; a sound only its sidecar was undone
    for (and that SFX Sidecar wrote into) keeps its index row.
    """
    return [audio for audio, results in groups.items()
            if any(r.ok for r in results) and not journal.has(audio)]
