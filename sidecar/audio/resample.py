"""Rational resampling in numpy: scipy.signal.resample_poly's output (its default Kaiser-windowed
filter, zero padding) without importing scipy.signal, which costs a scan a second.

Polyphase as matrix products: `up` consecutive outputs use the same taps as the `up` before them,
shifted by `down` inputs, so a row of inputs times one fixed matrix gives a block of outputs.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

#: outputs a row of the product (a multiple of `up`), and rows a product: small enough that
#: BLAS keeps it in the calling thread and in cache
_MIN_OUTPUTS = 32
_ROWS = 128


def kaiser_lowpass(taps: int, cutoff: float, beta: float) -> np.ndarray:
    """scipy.signal.firwin(taps, cutoff, window=("kaiser", beta)): a windowed sinc with unit gain at
    DC, cutoff relative to Nyquist."""
    m = np.arange(taps) - 0.5 * (taps - 1)
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(taps, beta)
    return h / h.sum()


@lru_cache(maxsize=16)
def _plan(up: int, down: int) -> tuple[list[tuple[int, np.ndarray]], int, int, int]:
    """([(first input of the group, relative to the row's first, matrix) per group of outputs],
    first input of a row relative to its block, inputs a row advances, outputs a row)."""
    half = 10 * max(up, down)
    # as resample_poly designs it: cutoff 1/max(up, down) of Nyquist, Kaiser beta 5, in the
    # samples' precision, times up
    h = kaiser_lowpass(2 * half + 1, 1.0 / max(up, down), 5.0).astype(np.float32) * np.float32(up)
    pre = down - half % down                     # resample_poly's pre-pad puts outputs on centre
    offset = (half + pre) // down * down - pre   # output m reads h[m * down + offset - i * up] for input i
    per_row = up * math.ceil(_MIN_OUTPUTS / up)
    advance = per_row * down // up
    # a row's outputs in groups of _MIN_OUTPUTS, each reading only its own inputs: with a large
    # up (44.1 kHz to 16 kHz: 160 outputs a row) one matrix for the whole row is mostly zeros
    groups = []
    for g0 in range(0, per_row, _MIN_OUTPUTS):
        g1 = min(per_row, g0 + _MIN_OUTPUTS)
        lo = -((len(h) - 1 - offset - g0 * down) // up)       # ceil((g0*down + offset - len(h) + 1) / up)
        hi = ((g1 - 1) * down + offset) // up
        matrix = np.zeros((hi - lo + 1, g1 - g0), dtype=np.float32)
        for o in range(g0, g1):
            for r in range(lo, hi + 1):
                k = o * down + offset - r * up
                if 0 <= k < len(h):
                    matrix[r - lo, o - g0] = h[k]
        groups.append((lo, matrix))
    first = groups[0][0]
    return [(lo - first, m) for lo, m in groups], first, advance, per_row


def resample(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """1-D float32 samples resampled by up/down, as scipy.signal.resample_poly(x, up, down) gives them
    (float32 rounding apart)."""
    g = math.gcd(up, down)
    up, down = up // g, down // g
    x = np.asarray(x, dtype=np.float32)
    if up == down == 1:
        return x.copy()
    n_out = -(-len(x) * up // down)
    groups, first, advance, per_row = _plan(up, down)
    rows = -(-n_out // per_row)
    reach = max(start + m.shape[0] for start, m in groups)
    padded = np.zeros((rows - 1) * advance + reach, dtype=np.float32)
    stop = min(len(x), len(padded) + first)
    padded[-first: -first + stop] = x[:stop]
    out = np.empty((rows, per_row), dtype=np.float32)
    col = 0
    for start, matrix in groups:
        span, width = matrix.shape
        windows = np.lib.stride_tricks.as_strided(padded[start:], shape=(rows, span),
                                                  strides=(advance * 4, 4), writeable=False)
        for a in range(0, rows, _ROWS):
            out[a:a + _ROWS, col:col + width] = np.ascontiguousarray(windows[a:a + _ROWS]) @ matrix
        col += width
    return out.reshape(-1)[:n_out]
