"""Audio fingerprints: a file whose audio did not change is never classified again.

For PCM containers the fingerprint hashes the payload bytes, so rewriting tags
never changes it; for compressed formats it hashes the decoded samples.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from sidecar.audio.decode import Audio, decode
from sidecar.errors import AudioError, ContainerError
from sidecar.library.formats import PCM_FORMATS

_BLOCK = 1 << 20


def pcm_span(path: str) -> tuple[int, int]:
    """Offset and length of the PCM payload of a WAV, RF64/BW64 or AIFF file."""
    from sidecar.metadata import riff
    from sidecar.metadata.riff import aiff

    with open(path, "rb") as f:
        magic = f.read(4)
    try:
        return aiff.audio_span(path) if magic == b"FORM" else riff.audio_span(path)
    except ContainerError as exc:
        raise AudioError(str(exc)) from exc


def hash_span(path: str, start: int, length: int) -> str:
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            block = f.read(min(_BLOCK, left))
            if not block:
                raise AudioError("audio ends before its declared size")
            h.update(block)
            left -= len(block)
    return "pcm:" + h.hexdigest()


def samples_fingerprint(audio: Audio) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(struct.pack("<II", audio.samplerate, audio.channels))
    h.update(np.ascontiguousarray(audio.samples, dtype="<f4").tobytes())
    return "dec:" + h.hexdigest()


def audio_fingerprint(path: str, fmt: str | None = None, audio: Audio | None = None) -> str:
    """blake2b of the audio payload (PCM) or of the decoded samples (compressed)."""
    if fmt is None:
        from sidecar.library.formats import recognise

        found = recognise(path)
        fmt = found.format if found else ""
    if fmt in PCM_FORMATS:
        return hash_span(path, *pcm_span(path))
    return samples_fingerprint(audio if audio is not None else decode(path, fmt))


def audio_span(path: str, fmt: str) -> tuple[int, int]:
    """Where a file's audio bytes lie, so the journal keeps everything else for undo.

    (0, 0) means "no span that survives tagging": the journal then keeps the
    whole original (Ogg pages are renumbered when their comment grows).
    """
    if fmt in PCM_FORMATS:
        return pcm_span(path)
    size = _size(path)
    with open(path, "rb") as f:
        head = f.read(10)
        if fmt == "mp3":
            start = 0
            if head[:3] == b"ID3" and len(head) == 10:
                start = 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
                if head[5] & 0x10:
                    start += 10      # footer
            end = size
            if size >= 128:
                f.seek(size - 128)
                if f.read(3) == b"TAG":
                    end = size - 128
            return start, max(0, end - start)
        if fmt == "flac":
            pos = 4
            f.seek(0)
            if head[:3] == b"ID3":
                pos += 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
            while True:
                f.seek(pos)
                block = f.read(4)
                if len(block) < 4:
                    return 0, 0
                length = int.from_bytes(block[1:4], "big")
                pos += 4 + length
                if block[0] & 0x80:
                    return pos, size - pos
        if fmt == "m4a":
            pos = 0
            while pos + 8 <= size:
                f.seek(pos)
                hdr = f.read(16)
                length = int.from_bytes(hdr[:4], "big")
                kind = hdr[4:8]
                header = 8
                if length == 1:
                    length = int.from_bytes(hdr[8:16], "big")
                    header = 16
                elif length == 0:
                    length = size - pos
                if length < header:
                    return 0, 0
                if kind == b"mdat":
                    return pos + header, length - header
                pos += length
    return 0, 0


def file_audio_span(path: str) -> tuple[int, int]:
    """audio_span for a file whose format is sniffed here (the journal stores this function's name)."""
    from sidecar.library.formats import recognise

    found = recognise(path)
    return audio_span(path, found.format if found else "")


def _size(path: str) -> int:
    import os
    return os.stat(path).st_size
