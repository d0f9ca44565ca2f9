"""Decode any supported file to float samples.

libsndfile (through soundfile) reads WAV, RF64, AIFF, FLAC, Ogg Vorbis/Opus
and MP3; ffmpeg reads the rest (M4A/AAC).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from sidecar.errors import AudioError

_SUBTYPE_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32,
                 "FLOAT": 32, "DOUBLE": 64}


@dataclass
class Audio:
    """Decoded audio: samples shaped (frames, channels), float32 in [-1, 1]."""

    samples: np.ndarray
    samplerate: int
    bit_depth: int | None = None   # of the source encoding; None for lossy formats
    subtype: str = ""

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.frames / self.samplerate if self.samplerate else 0.0

    def slice(self, start: float, seconds: float) -> "Audio":
        a = int(round(start * self.samplerate))
        b = a + int(round(seconds * self.samplerate))
        return Audio(self.samples[a:b], self.samplerate, self.bit_depth, self.subtype)

    def mono(self) -> np.ndarray:
        return mono_mix(self.samples)


def mono_mix(samples: np.ndarray) -> np.ndarray:
    """The mean of (frames, channels) samples' channels, float32 (one channel: that channel).
    Channel by channel: a mean along the short axis is several times slower, and gives the same sums."""
    if samples.shape[1] == 1:
        return samples[:, 0]
    acc = samples[:, 0].astype(np.float32, copy=True)
    for ch in range(1, samples.shape[1]):
        acc += samples[:, ch]
    acc /= samples.shape[1]
    return acc


def decode(path: str, *, ffmpeg: bool = False, ffmpeg_fallback: bool = False) -> Audio:
    """Read the whole file; raise AudioError with a reason a person understands.

    ffmpeg: decode with ffmpeg rather than libsndfile (the format says: sidecar/formats).
    ffmpeg_fallback: when libsndfile fails, ffmpeg tries too.
    """
    if ffmpeg:
        return _decode_ffmpeg(path)
    try:
        return _decode_sndfile(path)
    except AudioError:
        if ffmpeg_fallback and shutil.which("ffmpeg"):
            audio = _decode_ffmpeg(path)
            audio.subtype = "PCM"
            return audio
        raise


def _decode_sndfile(path: str) -> Audio:
    try:
        with sf.SoundFile(path) as f:
            data = f.read(dtype="float32", always_2d=True)
            if f.frames and len(data) < f.frames * 0.5:
                raise AudioError(f"audio truncated: {len(data)} of {f.frames} frames readable")
            return Audio(data, f.samplerate, _SUBTYPE_BITS.get(f.subtype), f.subtype)
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioError(f"cannot decode audio ({_short(exc)})") from exc


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    # libsndfile repeats the path; the caller already names the file.
    return text.split(": ", 1)[-1] if text.startswith("Error opening") else text


def _decode_ffmpeg(path: str) -> Audio:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise AudioError("decoding this format needs ffmpeg, which is not installed (make install)")
    probe = _ffprobe_stream(path)
    channels, rate = probe
    proc = subprocess.run(
        [ffmpeg, "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0",
         "-f", "f32le", "-acodec", "pcm_f32le", "-"],
        capture_output=True, timeout=600,
    )
    if proc.returncode != 0:
        raise AudioError(f"cannot decode audio: {proc.stderr.decode(errors='replace').strip()[:200]}")
    data = np.frombuffer(proc.stdout, dtype="<f4")
    if channels <= 0 or data.size % channels:
        raise AudioError("decoder returned a partial frame")
    return Audio(data.reshape(-1, channels).copy(), rate, None, "AAC")


def _ffprobe_stream(path: str) -> tuple[int, int]:
    ffprobe = shutil.which("ffprobe")
    if not ffprobe:
        raise AudioError("decoding this format needs ffprobe (ffmpeg), which is not installed")
    proc = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=channels,sample_rate", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    try:
        # named fields: csv output would depend on ffprobe's own field order
        stream = json.loads(proc.stdout)["streams"][0]
        return int(stream["channels"]), int(stream["sample_rate"])
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise AudioError("no audio stream found") from exc
