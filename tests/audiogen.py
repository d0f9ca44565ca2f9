"""Test audio, generated: every supported format, short, with known content."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import soundfile as sf

RATE = 48000

#: format name -> (extension, soundfile format, subtype)
FORMATS = {
    "wav16": (".wav", "WAV", "PCM_16"),
    "wav24_96k": (".wav", "WAV", "PCM_24"),
    "wav32f": (".wav", "WAV", "FLOAT"),
    "wav_multichannel": (".wav", "WAVEX", "PCM_24"),
    "rf64": (".wav", "RF64", "PCM_24"),
    "aiff": (".aiff", "AIFF", "PCM_16"),
    "flac": (".flac", "FLAC", "PCM_24"),
    "mp3": (".mp3", "MP3", "MPEG_LAYER_III"),
    "ogg": (".ogg", "OGG", "VORBIS"),
    "opus": (".opus", "OGG", "OPUS"),
    "m4a": (".m4a", None, None),
}


def tone(freq: float = 440.0, seconds: float = 1.0, rate: int = RATE, channels: int = 1,
         level: float = 0.4) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    x = (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def noise(seconds: float = 1.0, rate: int = RATE, level: float = 0.2, seed: int = 0, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (level * rng.standard_normal((int(rate * seconds), channels))).clip(-1, 1).astype(np.float32)
    return x if channels > 1 else x[:, 0]


def clicks(seconds: float = 1.0, rate: int = RATE) -> np.ndarray:
    x = np.zeros(int(rate * seconds), dtype=np.float32)
    rng = np.random.default_rng(3)
    for start in range(int(0.05 * rate), len(x) - 1000, int(0.5 * rate)):
        x[start:start + 400] = rng.standard_normal(400) * np.exp(-np.arange(400) / 60) * 0.8
    return x


def write(path: str, kind: str, data: np.ndarray | None = None, rate: int | None = None) -> str:
    """Write `data` (default: a 1 s tone) as format `kind`; returns the path."""
    ext, fmt, subtype = FORMATS[kind]
    if not path.endswith(ext):
        path += ext
    if rate is None:
        rate = 96000 if kind == "wav24_96k" else RATE
    if data is None:
        data = tone(rate=rate, channels=6 if kind == "wav_multichannel" else 2 if kind in ("wav24_96k", "rf64") else 1)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if kind == "m4a":
        tmp = path + ".src.wav"
        sf.write(tmp, data, rate, subtype="PCM_16")
        subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-y", "-i", tmp, "-c:a", "aac", "-b:a", "96k", path],
                       check=True)
        os.unlink(tmp)
        return path
    if kind == "opus" and rate != 48000:
        raise ValueError("Opus is written at 48 kHz")
    sf.write(path, data, rate, format=fmt, subtype=subtype)
    return path


def data_chunk(path: str) -> bytes:
    """The bytes of a WAV/RF64 `data` chunk or an AIFF `SSND` payload, read independently."""
    from sidecar.formats import sniffed_audio_span
    start, length = sniffed_audio_span(path)
    with open(path, "rb") as f:
        f.seek(start)
        return f.read(length)


def decoded(path: str) -> np.ndarray:
    """Samples as an independent decoder (ffmpeg) hears them."""
    out = subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-i", path, "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<f4")
