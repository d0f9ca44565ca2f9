"""The network's input: 96-band log-mel spectrogram blocks, as aisfx computed them for training.

Mono, 44.1 kHz, peak-normalised; frames of 2048 samples (symmetric Hann, as
Essentia's Windowing) every 1024, centred on the hop with zero padding; the
power spectrum weighted by 96 triangular HTK-mel bands from 0 to 22,050 Hz,
triangles drawn on the mel scale and each normalised to unit sum (Essentia's
MelBands with warping weighting); then log10(10000 * mel + 1) / 9.4578 (the
training set's maximum). Blocks hold 100 frames (about 2.3 s).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sidecar.audio.decode import mono_mix
from sidecar.audio.logmel import hz_to_mel
from sidecar.audio.resample import resample

SAMPLE_RATE = 44100
FRAME = 2048
HOP = 1024
MEL_BANDS = 96
F_MIN, F_MAX = 0.0, 22050.0
BLOCK_FRAMES = 100
SPEC_MAX = 9.457798957824707     # aisfx's "original" normalisation: log-mel values of its training data
BLOCK_SECONDS = BLOCK_FRAMES * HOP / SAMPLE_RATE


def prepare(samples: np.ndarray, samplerate: int) -> np.ndarray:
    """(frames, channels) or (frames,) float samples -> mono, 44.1 kHz, peak at 1 (silence stays 0)."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = mono_mix(x)
    if samplerate != SAMPLE_RATE and x.size:
        # numpy's polyphase, resample_poly's output: scipy.signal would cost a second and 70 MB
        x = resample(x, SAMPLE_RATE, int(samplerate))
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return x / peak if peak > 0 else x


def log_mel(signal: np.ndarray) -> np.ndarray:
    """Prepared mono samples -> (frames, 96) normalised log-mel values, float32."""
    x = np.asarray(signal, dtype=np.float32)
    count = 1 + x.size // HOP
    padded = np.zeros((count - 1) * HOP + FRAME, dtype=np.float32)
    padded[FRAME // 2: FRAME // 2 + x.size] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, FRAME)[::HOP][:count]
    power = np.abs(np.fft.rfft(frames * _window(), axis=1)) ** 2
    mel = power.astype(np.float32) @ _mel_matrix()
    return (np.log10(mel * 10000.0 + 1.0) / SPEC_MAX).astype(np.float32)


def blocks(spec: np.ndarray, max_blocks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive 100-frame blocks (the last one zero-padded if it holds at least half a block,
    or if it is the only one), evenly thinned to max_blocks; returns (blocks, start seconds)."""
    frames = spec.shape[0]
    whole, rest = divmod(frames, BLOCK_FRAMES)
    count = whole + (1 if rest >= BLOCK_FRAMES // 2 or whole == 0 else 0)
    starts = np.arange(count) * BLOCK_FRAMES
    if max_blocks is not None and count > max_blocks:
        starts = starts[np.round(np.linspace(0, count - 1, max_blocks)).astype(int)]
    out = np.zeros((len(starts), BLOCK_FRAMES, spec.shape[1]), dtype=np.float32)
    for i, s in enumerate(starts):
        piece = spec[s: s + BLOCK_FRAMES]
        out[i, : piece.shape[0]] = piece
    return out, starts * HOP / SAMPLE_RATE


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    n = np.arange(FRAME)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME - 1))).astype(np.float32)


@lru_cache(maxsize=1)
def _mel_matrix() -> np.ndarray:
    """(FRAME // 2 + 1, 96): triangles on the mel scale, each summing to one."""
    bins = FRAME // 2 + 1
    bin_mel = hz_to_mel(np.arange(bins) * SAMPLE_RATE / FRAME)
    edges = np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), MEL_BANDS + 2)
    weights = np.zeros((bins, MEL_BANDS))
    for band in range(MEL_BANDS):
        low, centre, high = edges[band: band + 3]
        rising = (bin_mel - low) / (centre - low)
        falling = (high - bin_mel) / (high - centre)
        weights[:, band] = np.clip(np.minimum(rising, falling), 0.0, None)
        total = weights[:, band].sum()
        if total > 0:
            weights[:, band] /= total
        else:
            # a band narrower than one FFT bin: the nearest bin stands for it
            weights[np.argmin(np.abs(bin_mel - centre)), band] = 1.0
    return weights.astype(np.float32)
