"""A waveform and a spectrogram of each file, drawn once and kept beside the index.

Pictures are named by the audio fingerprint, so a file's metadata edits (which change its bytes,
not its audio) keep them, and a moved file finds its own. PNG is written here with zlib: the
pictures are a few kilobytes of flat colours, no imaging library is needed for that.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 320, 48
KINDS = ("wave", "spectrum")
_FINGERPRINT = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
#: the spectrogram's colours, quiet to loud (dark blue, violet, orange, pale yellow)
_STOPS = np.array([[12, 14, 40], [84, 30, 120], [200, 70, 60], [250, 170, 40], [255, 250, 200]], float)


def picture(store, row, kind: str) -> bytes:
    """The PNG of one file (drawn and kept the first time); ValueError for an unknown kind."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    place = _place(store, row.fingerprint, kind)
    if place is not None and place.exists():
        return place.read_bytes()
    from sidecar.formats import decode
    audio = decode(row.path, row.format or None)
    mono = audio.mono()
    image = waveform(mono) if kind == "wave" else spectrogram(mono)
    data = png(image)
    if place is not None:
        _keep(place, data)
    return data


def _place(store, fingerprint: str, kind: str) -> Path | None:
    prefix = store.cache_prefix()
    if prefix is None or not fingerprint or not _FINGERPRINT.match(fingerprint):
        return None
    safe = fingerprint.replace(":", "_")
    return Path(f"{prefix}.pictures") / safe[:2] / f"{safe}.{kind}.png"


def _keep(place: Path, data: bytes) -> None:
    """Written whole or not at all (another request may draw the same picture meanwhile)."""
    try:
        place.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=place.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, place)
    except OSError:
        pass            # a read-only place: drawn again next time


def waveform(x: np.ndarray, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Peak envelope, one column a slice of the file: an RGB image."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = (24, 26, 34)
    if x.size == 0:
        return image
    edges = np.linspace(0, x.size, width + 1).astype(int)
    mid = (height - 1) / 2
    for col in range(width):
        part = x[edges[col]:max(edges[col + 1], edges[col] + 1)]
        lo, hi = float(np.min(part)), float(np.max(part))
        top = int(round(mid - np.clip(hi, -1, 1) * mid))
        bottom = int(round(mid - np.clip(lo, -1, 1) * mid))
        image[min(top, bottom):max(top, bottom) + 1, col] = (110, 190, 255)
    image[int(mid), :] = np.maximum(image[int(mid), :], (60, 70, 90))
    return image


def spectrogram(x: np.ndarray, width: int = WIDTH, height: int = HEIGHT, n_fft: int = 1024) -> np.ndarray:
    """Magnitude in dB over time (columns) and log frequency (rows, low at the bottom)."""
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    starts = np.linspace(0, x.size - n_fft, width).astype(int)
    frames = np.stack([x[s:s + n_fft] for s in starts]) * np.hanning(n_fft)
    mag = np.abs(np.fft.rfft(frames, axis=1))
    bins = np.unique(np.geomspace(2, n_fft // 2, height + 1).astype(int))
    rows = np.stack([mag[:, a:max(b, a + 1)].max(axis=1) for a, b in zip(bins[:-1], bins[1:])], axis=1)
    db = 20 * np.log10(rows + 1e-9)
    top = db.max()
    level = np.clip((db - (top - 80)) / 80, 0, 1).T[::-1]        # rows: high frequencies first
    if level.shape[0] != height:
        level = level[np.linspace(0, level.shape[0] - 1, height).astype(int)]
    pos = level * (len(_STOPS) - 1)
    i = np.minimum(pos.astype(int), len(_STOPS) - 2)
    frac = (pos - i)[..., None]
    return (_STOPS[i] * (1 - frac) + _STOPS[i + 1] * frac).astype(np.uint8)


def png(image: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of an (height, width, 3) array."""
    height, width, _ = image.shape
    raw = b"".join(b"\x00" + image[r].tobytes() for r in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
