"""Recognise the audio formats SFX Sidecar handles, by their first bytes and their name."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sidecar.errors import AudioError

#: format name -> file name extensions that announce it
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "wav": (".wav", ".bwf", ".wave"),
    "rf64": (".rf64", ".bw64", ".wav"),
    "aiff": (".aif", ".aiff", ".aifc"),
    "flac": (".flac",),
    "mp3": (".mp3",),
    "ogg": (".ogg", ".oga"),
    "opus": (".opus", ".ogg"),
    "m4a": (".m4a", ".mp4", ".aac", ".m4b"),
}
AUDIO_EXTENSIONS = frozenset(e for exts in EXTENSIONS.values() for e in exts)
#: formats whose audio payload is stored as PCM bytes we can compare directly
PCM_FORMATS = frozenset({"wav", "rf64", "aiff"})


class NotAudioError(AudioError, ValueError):
    """The file's name promises audio its bytes do not hold (or it cannot be opened at all)."""


@dataclass(frozen=True)
class Recognised:
    format: str
    reason: str = ""


def sniff(head: bytes) -> str | None:
    """The format the first bytes announce, or None."""
    if len(head) >= 12 and head[8:12] == b"WAVE":
        if head[:4] == b"RIFF":
            return "wav"
        if head[:4] in (b"RF64", b"BW64"):
            return "rf64"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        if b"OpusHead" in head[:128]:
            return "opus"
        if b"\x01vorbis" in head[:128]:
            return "ogg"
        return None
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3":
        # ID3v2 in front of FLAC happens; the rest is MP3.
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3"
    return None


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
    fmt = sniff(head)
    if fmt == "mp3" and head[:3] == b"ID3":
        fmt = _behind_id3(head) or "mp3"
    if fmt is None:
        raise NotAudioError(f"not an audio file: its first bytes match no {ext} format")
    return Recognised(fmt)


def _behind_id3(head: bytes) -> str | None:
    if len(head) < 10:
        return None
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    rest = head[10 + size: 10 + size + 16]
    return "flac" if rest[:4] == b"fLaC" else None
