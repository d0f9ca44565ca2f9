"""YAMNet's front end in numpy: 16 kHz mono audio to 0.96 s log-mel patches.

As YAMNet defines it: a 25 ms periodic Hann window every 10 ms, the magnitude
of a 512-point FFT, 64 HTK mel bands from 125 to 7500 Hz, natural log of the
band value plus 0.001, then patches of 96 frames every 48 frames (0.48 s).
The int8 export's input range (its audio_scale and zero point span -6.9 to
5.3) confirms the 0.001 offset: log(0.001) is its floor.
"""

from __future__ import annotations

import numpy as np

RATE = 16000
WINDOW = 400            # 25 ms
HOP = 160               # 10 ms
FFT = 512
BANDS = 64
LOW_HZ, HIGH_HZ = 125.0, 7500.0
LOG_OFFSET = 0.001
PATCH_FRAMES = 96       # 0.96 s
PATCH_HOP_FRAMES = 48   # 0.48 s
PATCH_SECONDS = PATCH_FRAMES * HOP / RATE
PATCH_HOP_SECONDS = PATCH_HOP_FRAMES * HOP / RATE
#: the fewest samples that make one patch
MIN_SAMPLES = (PATCH_FRAMES - 1) * HOP + FFT


def hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_matrix() -> np.ndarray:
    """[257, 64] triangular HTK filters, unnormalised, with edges evenly spaced in mel."""
    bins = np.linspace(0.0, RATE / 2, FFT // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(LOW_HZ), hz_to_mel(HIGH_HZ), BANDS + 2))
    width = np.diff(edges)
    rel = edges[None, :] - bins[:, None]
    down = -rel[:, :-2] / width[:-1]
    up = rel[:, 2:] / width[1:]
    return np.maximum(0.0, np.minimum(down, up)).astype(np.float32)


_MEL = mel_matrix()
# the 400-sample periodic Hann window centred in the 512-sample frame
_WINDOW = np.zeros(FFT, dtype=np.float32)
_WINDOW[(FFT - WINDOW) // 2:(FFT - WINDOW) // 2 + WINDOW] = (
    0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW))


def log_mel(samples: np.ndarray) -> np.ndarray:
    """[frames, 64] log-mel spectrogram of 16 kHz mono float samples."""
    from scipy import fft as sfft   # here, not at the top: a rescan reads the patch shape only
    x = np.asarray(samples, dtype=np.float32)
    if len(x) < FFT:
        x = np.pad(x, (0, FFT - len(x)))
    count = 1 + (len(x) - FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(count, FFT), strides=(x.strides[0] * HOP, x.strides[0]), writeable=False)
    spectrum = np.abs(sfft.rfft(frames * _WINDOW, axis=1))   # float32 in, complex64 out
    return np.log(spectrum @ _MEL + LOG_OFFSET)


def patches(samples: np.ndarray) -> np.ndarray:
    """[n, 96, 64] patches every 0.48 s; a clip shorter than one patch is padded with silence."""
    x = np.asarray(samples, dtype=np.float32)
    if len(x) < MIN_SAMPLES:
        x = np.pad(x, (0, MIN_SAMPLES - len(x)))
    mel = log_mel(x)
    count = 1 + (len(mel) - PATCH_FRAMES) // PATCH_HOP_FRAMES
    starts = np.arange(count) * PATCH_HOP_FRAMES
    return np.stack([mel[s:s + PATCH_FRAMES] for s in starts])
