"""Honest acoustic descriptors measured from decoded audio.

Loudness follows ITU-R BS.1770 and true peak is the peak of a 4x oversampled
signal (BS.1770 annex 2), both in numpy (sidecar/audio/bs1770.py). The rest are classic signal measures:
spectral flatness for tonal versus noisy, the spectral slope for white versus
pink noise, the RMS envelope for impulsive versus sustained, the spectral
centroid for brightness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sidecar.audio import bs1770
from sidecar.audio.decode import Audio

SILENCE_DBFS = -60.0
CLIP_LEVEL = 0.999
_EPS = 1e-12


def db(x: float) -> float:
    return 20.0 * math.log10(max(float(x), _EPS))


@dataclass
class Descriptors:
    loudness: float | None      # LUFS, None when the clip is silent
    sample_peak: float          # dBFS
    true_peak: float            # dBTP
    rms: float                  # dBFS
    silent: bool
    clipped_fraction: float     # share of samples in runs of 3+ at full scale
    dc_offset: float            # largest per-channel mean, linear
    dual_mono: bool
    flatness: float             # 0 tonal .. 1 white noise
    tonal_peak_share: float     # energy share of the strongest spectral peak
    peak_hz: float
    spectral_slope: float       # dB per octave of the power spectrum
    centroid_hz: float
    active_fraction: float      # share of 10 ms frames within 20 dB of the loudest
    crest_db: float             # peak over RMS


def measure(audio: Audio, *, loudness: bool = True, spectral: bool = True) -> Descriptors:
    """Every descriptor of a clip; loudness=False skips the whole-file measures (loudness, true peak),
    spectral=False the spectrum and envelope (an engine that names sounds needs neither)."""
    x = audio.samples.astype(np.float32, copy=False)
    rate = audio.samplerate
    # channel by channel, each contiguous: every measure below reduces along time, which is
    # several times slower along the long axis of (frames, channels)
    chans = np.ascontiguousarray(x.T)
    peak = max(float(chans.max()), -float(chans.min())) if x.size else 0.0
    rms = math.sqrt(float(np.einsum("ij,ij->", chans, chans, dtype=np.float64)) / x.size) if x.size else 0.0
    silent = db(peak) < SILENCE_DBFS
    mono = audio.mono() if spectral and not silent else None
    spec = _spectrum(mono, rate) if mono is not None else None
    flat, share, peak_hz, slope, centroid = spec if spec else (0.0, 0.0, 0.0, 0.0, 0.0)
    active = _active_fraction(mono, rate) if mono is not None else 0.0
    return Descriptors(
        loudness=_loudness(chans, rate) if loudness and not silent else None,
        sample_peak=db(peak),
        true_peak=_true_peak(chans, rate, peak) if loudness and not silent else db(peak),
        rms=db(rms),
        silent=silent,
        clipped_fraction=_clipped_fraction(chans) if peak >= CLIP_LEVEL else 0.0,
        dc_offset=float(np.max(np.abs(chans.mean(axis=1)))) if x.size else 0.0,
        dual_mono=audio.channels == 2 and x.size > 0 and not silent
        and bool(np.max(np.abs(chans[0] - chans[1])) < 1e-6),
        flatness=flat, tonal_peak_share=share, peak_hz=peak_hz, spectral_slope=slope,
        centroid_hz=centroid, active_fraction=active,
        crest_db=db(peak) - db(rms) if rms > 0 else 0.0,
    )


def _loudness(chans: np.ndarray, rate: int) -> float | None:
    """Integrated loudness, LUFS, of (channels, frames) samples."""
    if len(chans) == 6:
        # 5.1 in WAV order (L R C LFE Ls Rs): BS.1770 leaves the LFE out
        chans = chans[[0, 1, 2, 4, 5]]
    elif len(chans) > 5:
        return None     # BS.1770 defines no weights past 5.1 here; better none than a wrong figure
    # BS.1770 needs one 400 ms block; a shorter clip is measured padded with silence.
    need = int(0.4 * rate) + 1
    if chans.shape[1] < need:
        chans = np.pad(chans, ((0, 0), (0, need - chans.shape[1])))
    value = bs1770.integrated_loudness(chans, rate)
    return None if not math.isfinite(value) else round(float(value), 2)


def _true_peak(chans: np.ndarray, rate: int, sample_peak: float) -> float:
    """dBTP of (channels, frames) samples whose sample peak (linear) is known."""
    if rate >= 96000:
        return round(db(sample_peak), 2)    # at 96 kHz and above the sample peak is already close
    return round(db(bs1770.true_peak(chans, sample_peak)), 2)


def _clipped_fraction(chans: np.ndarray) -> float:
    """Of (channels, frames) samples."""
    if not chans.size:
        return 0.0
    full = np.abs(chans) >= CLIP_LEVEL
    if not full.any():
        return 0.0
    # a run of three samples at full scale is clipping, one is a legitimate peak
    runs = full[:, 2:] & full[:, 1:-1] & full[:, :-2]
    return float(runs.sum()) / chans.size


def _spectrum(mono: np.ndarray, rate: int):
    n = 4096 if rate > 24000 else 2048
    if len(mono) < n:
        mono = np.pad(mono, (0, n - len(mono)))
    hop = n
    # at most ~200 frames spread over the clip keep long files cheap
    count = 1 + (len(mono) - n) // hop
    step = max(1, count // 200)
    idx = np.arange(0, count, step) * hop
    frames = np.stack([mono[i:i + n] for i in idx]) * np.hanning(n)
    power = np.square(np.abs(np.fft.rfft(frames, axis=1))).astype(np.float64)
    energy = power.sum(axis=1)
    loud = power[energy > energy.max() * 1e-4]
    if not len(loud):
        return None
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    # 50 Hz .. 12 kHz: lossy codecs cut the top octave, which would read as "tonal"
    band = (freqs >= 50) & (freqs <= min(12000, rate / 2 * 0.9))
    p = loud[:, band] + _EPS
    f = freqs[band]
    # flatness of the spectrum with its overall tilt removed, so pink or brown
    # noise counts as noise just as white noise does
    logf = np.log2(f)
    logp = np.log(p)
    tilt = np.polyfit(logf, logp.mean(axis=0), 1)
    flat_p = np.exp(logp - np.polyval(tilt, logf))
    flatness = float(np.mean(np.exp(np.mean(np.log(flat_p), axis=1)) / np.mean(flat_p, axis=1)))
    mean_p = p.mean(axis=0)
    k = int(np.argmax(mean_p))
    share = float(mean_p[max(0, k - 3): k + 4].sum() / mean_p.sum())
    centroid = float((f * mean_p).sum() / mean_p.sum())
    # slope: least squares of dB power against octaves, over 100 Hz .. 10 kHz
    sel = (f >= 100) & (f <= min(10000, rate / 2 * 0.9))
    slope = 0.0
    if sel.sum() > 8:
        slope = float(np.polyfit(np.log2(f[sel]), 10 * np.log10(mean_p[sel]), 1)[0])
    return flatness, share, float(f[k]), slope, centroid


def _active_fraction(mono: np.ndarray, rate: int) -> float:
    hop = max(1, rate // 100)  # 10 ms
    count = len(mono) // hop
    if count < 2:
        return 1.0
    frames = mono[: count * hop].reshape(count, hop)
    level = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1)) + _EPS
    top = level.max()
    return float(np.mean(level >= top * 0.1))
