"""The container formats SFX Sidecar handles: one module per family, one registry.

A format is held by its stable name (`Format.name`, stored in the index and in the journal);
`get(name)` gives its object, `recognise(path)` the format of a file. To handle a ninth
container, write one module with a Format (base.py) and add its object to FORMATS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sidecar.audio.decode import Audio
from sidecar.errors import AudioError

from .aiff import AIFF
from .base import Format
from .flac import FLAC
from .m4a import M4A
from .mp3 import MP3
from .ogg import OPUS, VORBIS
from .wav import RF64, WAV

#: every format, in the order their first bytes are tried (FLAC before MP3: both may start with ID3)
FORMATS: tuple[Format, ...] = (WAV, RF64, AIFF, FLAC, VORBIS, OPUS, M4A, MP3)
_BY_NAME = {f.name: f for f in FORMATS}
AUDIO_EXTENSIONS = frozenset(s for f in FORMATS for s in f.suffixes)


class NotAudioError(AudioError, ValueError):
    """The file's name promises audio its bytes do not hold (or it cannot be opened at all)."""


@dataclass(frozen=True)
class Recognised:
    format: str             # the format's stable name
    reason: str = ""


def get(name: str) -> Format:
    """The format of a stable name (as the index stores it)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise AudioError(f"no audio format named {name!r}") from None


def sniff(head: bytes) -> Format | None:
    """The format the first bytes announce, or None."""
    return next((f for f in FORMATS if f.detect(head)), None)


def recognise(path: str) -> Recognised | None:
    """Return the format of an audio file; None when the name is not an audio name.

    Raises NotAudioError when the name says audio but the content does not
    (a text file named .wav), so the scan can report it instead of skipping it.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext not in AUDIO_EXTENSIONS:
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise NotAudioError(exc.strerror or str(exc)) from exc
    if not head:
        raise NotAudioError("empty file (0 bytes)")
    found = sniff(head)
    if found is None:
        raise NotAudioError(f"not an audio file: its first bytes match no {ext} format")
    return Recognised(found.name)


def of(path: str, name: str | None = None) -> Format:
    """The format named, else the one the file's bytes announce; AudioError when there is none."""
    if name:
        return get(name)
    found = recognise(path)
    if found is None:
        raise AudioError("not an audio format SFX Sidecar handles")
    return get(found.format)


def decode(path: str, name: str | None = None) -> Audio:
    """The whole file as float samples, decoded the way its format is."""
    return of(path, name).decode(path)


def audio_fingerprint(path: str, name: str | None = None, audio: Audio | None = None) -> str:
    """blake2b of the audio payload (PCM) or of the decoded samples (compressed): a file whose
    audio did not change is never classified again, however its tags change."""
    return of(path, name).fingerprint(path, audio)


def sniffed_audio_span(path: str) -> tuple[int, int]:
    """audio_span of a file whose format its bytes tell (how journal entries of old versions found it)."""
    found = recognise(path)
    return get(found.format).audio_span(path) if found else (0, 0)


def journal_span(journal_name: str):
    """The audio_span function a journal entry names (`NAME/VERSION`), or None."""
    name, _, version = journal_name.partition("/")
    if name == "sniffed" and version == "1":
        return sniffed_audio_span
    if name in _BY_NAME and version.isdigit():
        return _BY_NAME[name].journal_span(int(version))
    return None
