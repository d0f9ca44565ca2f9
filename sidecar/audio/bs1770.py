"""ITU-R BS.1770-4 integrated loudness and true peak in numpy, on (channels, frames) float32 audio.

Loudness: the K-weighting filter (a high shelf, then a high pass) designed as pyloudnorm designs it
(RBJ biquads: the same figures the index held before), 400 ms blocks every 100 ms, the absolute gate
at -70 LUFS and the relative gate 10 LU below. True peak: the largest magnitude of the signal
oversampled 4x by a 48-tap Kaiser-windowed sinc (12 taps a phase, BS.1770 annex 2).

Both filters run as matrix products on blocks of samples instead of sample by sample: a
recursive filter is a linear system, so a block's output is its zero-state response (a
Toeplitz product) plus the response to the state it starts in, and the states from block to
block follow a short linear recurrence solved by doubling. That keeps scipy.signal and its
second of import out of a scan, and costs less than a scalar loop.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from sidecar.audio.resample import kaiser_lowpass

BLOCK_SECONDS = 0.4
BLOCK_STEP = 0.25                       # 75% overlap
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
#: channel weights, BS.1770 order L R C Ls Rs
WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
#: samples a block of the filter products: 32 keeps each product small and cache-resident
_L = 32
#: rows per matrix product: small enough that BLAS runs it in the calling thread (scan
#: workers are the parallelism), large enough that Python's overhead stays small
_ROWS = 256

TP_FACTOR = 4
TP_TAPS = 48


# --- loudness -----------------------------------------------------------------------------

def _biquads(rate: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """The K-weighting stages as (b, a), a[0] = 1: RBJ high shelf +4 dB at 1500 Hz (Q 1/sqrt 2),
    RBJ high pass at 38 Hz (Q 0.5), as pyloudnorm's 'K-weighting' designs them for any rate."""
    out = []
    for gain, q, fc, kind in ((4.0, 1 / math.sqrt(2), 1500.0, "shelf"), (0.0, 0.5, 38.0, "high_pass")):
        a_ = 10 ** (gain / 40.0)
        w0 = 2.0 * math.pi * fc / rate
        alpha, c, r = math.sin(w0) / (2.0 * q), math.cos(w0), math.sqrt(a_)
        if kind == "shelf":
            b = [a_ * ((a_ + 1) + (a_ - 1) * c + 2 * r * alpha), -2 * a_ * ((a_ - 1) + (a_ + 1) * c),
                 a_ * ((a_ + 1) + (a_ - 1) * c - 2 * r * alpha)]
            a = [(a_ + 1) - (a_ - 1) * c + 2 * r * alpha, 2 * ((a_ - 1) - (a_ + 1) * c),
                 (a_ + 1) - (a_ - 1) * c - 2 * r * alpha]
        else:
            b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
            a = [1 + alpha, -2 * c, 1 - alpha]
        out.append((np.array(b) / a[0], np.array(a) / a[0]))
    return out


def _state_space(stages) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(A, B, C, D) of biquads in cascade, each in transposed direct form II: its states stay
    of the signal's size, so the block products lose nothing to cancellation."""
    k = 2 * len(stages)

    def step(x: float, z: np.ndarray) -> tuple[float, np.ndarray]:
        nz = np.zeros(k)
        for i, (b, a) in enumerate(stages):
            y = b[0] * x + z[2 * i]
            nz[2 * i] = b[1] * x - a[1] * y + z[2 * i + 1]
            nz[2 * i + 1] = b[2] * x - a[2] * y
            x = y
        return x, nz

    d, b_ = step(1.0, np.zeros(k))
    cols = [step(0.0, e) for e in np.eye(k)]
    a_ = np.stack([z for _, z in cols], axis=1)
    c_ = np.array([y for y, _ in cols])
    return a_, b_, c_, d


@lru_cache(maxsize=8)
def _k_blocks(rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per block of _L samples: T (zero-state outputs from inputs), G (end state from inputs),
    O (outputs from the starting state), Phi (end state from the starting state)."""
    a, b, c, d = _state_space(_biquads(rate))
    powers = [np.eye(len(a))]
    for _ in range(_L):
        powers.append(a @ powers[-1])
    h = np.array([d] + [c @ powers[i] @ b for i in range(_L - 1)])
    t = np.zeros((_L, _L))
    for i in range(_L):
        t[i:, i] = h[: _L - i]
    g = np.stack([powers[_L - 1 - j] @ b for j in range(_L)], axis=1)      # (K, L)
    o = np.stack([c @ powers[i] for i in range(_L)])                      # (L, K)
    # the products take rows of samples: y_rows = x_rows @ T.T, end states = x_rows @ G.T
    return (np.ascontiguousarray(t.T, dtype=np.float32), np.ascontiguousarray(g.T, dtype=np.float32),
            np.ascontiguousarray(o.T, dtype=np.float32), powers[_L])


def k_weighted(x: np.ndarray, rate: int) -> np.ndarray:
    """(channels, frames) -> the K-weighted signal as (channels, blocks, _L) float32, the last
    block running past the end (the filter's ring after the clip: not the clip's)."""
    tt, gt, ot, phi = _k_blocks(int(rate))
    channels, n = x.shape
    m = -(-n // _L)
    rows = np.zeros((channels * m, _L), dtype=np.float32)
    rows.reshape(channels, m * _L)[:, :n] = x
    y = np.empty_like(rows)
    ends = np.empty((len(rows), gt.shape[1]), dtype=np.float64)
    for a in range(0, len(rows), _ROWS):
        np.matmul(rows[a:a + _ROWS], tt, out=y[a:a + _ROWS])
        ends[a:a + _ROWS] = rows[a:a + _ROWS] @ gt
    # the state at the end of block i: ends[i] + (state at its start) @ Phi.T, each channel
    # apart; the prefix doubling adds the earlier blocks' ends, carried through Phi powers
    ends = ends.reshape(channels, m, -1)
    carry, span = phi.T.copy(), 1
    while span < m:
        ends[:, span:] += ends[:, :-span] @ carry
        carry, span = carry @ carry, span * 2
    starts = np.zeros_like(ends)
    starts[:, 1:] = ends[:, :-1]
    starts = starts.reshape(channels * m, -1).astype(np.float32)
    for a in range(0, len(rows), _ROWS):
        y[a:a + _ROWS] += starts[a:a + _ROWS] @ ot
    return y.reshape(channels, m, _L)


def _energy_before(y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """(channels, len(at)): the sum of squares of each channel's samples before each index."""
    block = np.einsum("cml,cml->cm", y, y)           # 32 squares a block: float32 holds them
    whole = np.zeros((y.shape[0], y.shape[1] + 1))
    np.cumsum(block, axis=1, dtype=np.float64, out=whole[:, 1:])
    q, r = np.divmod(at, _L)
    part = np.cumsum(np.square(y[:, np.minimum(q, y.shape[1] - 1)], dtype=np.float64), axis=2)
    part = np.concatenate([np.zeros(part.shape[:2] + (1,)), part], axis=2)
    return whole[:, q] + np.take_along_axis(part, r[None, :, None], axis=2)[:, :, 0]


def integrated_loudness(x: np.ndarray, rate: int) -> float:
    """LUFS of (channels, frames) audio, at most 5 channels in BS.1770 order; -inf when every
    block is gated out. At least one 400 ms block long (the caller pads)."""
    channels, n = x.shape
    weights = np.array(WEIGHTS[:channels])
    # the blocks exactly as pyloudnorm (and BS.1770 eq. 3) place them
    count = int(np.round((n / rate - BLOCK_SECONDS) / (BLOCK_SECONDS * BLOCK_STEP))) + 1
    j = np.arange(count)
    lo = (BLOCK_SECONDS * (j * BLOCK_STEP) * rate).astype(np.int64)
    hi = np.minimum((BLOCK_SECONDS * (j * BLOCK_STEP + 1) * rate).astype(np.int64), n)
    energy = _energy_before(k_weighted(x, rate), np.concatenate([lo, hi]))
    z = (energy[:, count:] - energy[:, :count]) / (BLOCK_SECONDS * rate)
    with np.errstate(divide="ignore"):
        block = -0.691 + 10.0 * np.log10(weights @ z)
        above = block >= ABSOLUTE_GATE
        if not above.any():
            return -math.inf
        relative = -0.691 + 10.0 * np.log10(weights @ z[:, above].mean(axis=1)) + RELATIVE_GATE
        kept = (block > relative) & (block > ABSOLUTE_GATE)
        if not kept.any():
            return -math.inf
        return float(-0.691 + 10.0 * np.log10(weights @ z[:, kept].mean(axis=1)))


# --- true peak ----------------------------------------------------------------------------

#: 4x interpolation: phase p of output n is sum_j h[p + 4j] x[n - j]; as a (12, 4) matrix whose
#: row i multiplies x[n - 11 + i], 12 consecutive samples give 4 outputs
_TP_FILTER = kaiser_lowpass(TP_TAPS, 1.0 / TP_FACTOR, 7.0) * TP_FACTOR
_TP_MATRIX = _TP_FILTER.reshape(-1, TP_FACTOR)[::-1]
#: a phase's output is at most this many times the largest of its 12 inputs
_TP_GAIN = float(np.abs(_TP_MATRIX).sum(axis=0).max())
#: inputs a row of the product: 16 samples and the 11 before give 64 outputs (one matrix
#: product on rows that overlap by 11 copies 1.7x the signal, where one row of 12 per output
#: copies it 12x)
_TP_STEP = 16


def _tp_rows_matrix() -> np.ndarray:
    taps = _TP_MATRIX.shape[0]
    out = np.zeros((_TP_STEP + taps - 1, TP_FACTOR * _TP_STEP), dtype=np.float32)
    for o in range(_TP_STEP):
        out[o:o + taps, TP_FACTOR * o:TP_FACTOR * (o + 1)] = _TP_MATRIX
    return out


_TP_ROWS_MATRIX = _tp_rows_matrix()


def true_peak(x: np.ndarray, sample_peak: float | None = None) -> float:
    """The largest magnitude, linear, of (channels, frames) float32 audio oversampled 4x (never
    below the sample peak, measured here unless the caller has it). The outputs kept are those
    centred within the clip, as the full 4x signal cropped of the filter's delay."""
    taps = _TP_MATRIX.shape[0]
    lead = taps // 2 - 1        # output row r is centred between samples r and r + 1 (its 4 phases)
    chunk = _ROWS * _TP_STEP
    n = x.shape[1]
    steps = -(-n // chunk)
    if sample_peak is None:
        sample_peak = max(float(x.max()), -float(x.min())) if x.size else 0.0
    best = sample_peak
    for ch in x:
        padded = np.zeros((steps + 1) * chunk, dtype=np.float32)
        padded[lead: lead + n] = ch
        rows = np.lib.stride_tricks.as_strided(padded, shape=(steps * _ROWS, _TP_STEP + taps - 1),
                                               strides=(_TP_STEP * 4, 4), writeable=False)
        # a chunk whose every input is below best / gain cannot beat best: skip it (silence, tails)
        mag = np.abs(padded)
        loud = np.maximum(mag[:steps * chunk].reshape(steps, chunk).max(axis=1),
                          mag[chunk:].reshape(steps, chunk)[:, :taps - 1].max(axis=1))
        for i in np.flatnonzero(loud > best / _TP_GAIN):
            out = np.ascontiguousarray(rows[i * _ROWS:(i + 1) * _ROWS]) @ _TP_ROWS_MATRIX
            if i == steps - 1:
                out = out.reshape(-1)[: TP_FACTOR * (n - i * chunk)]   # the last rows run past the clip
            best = max(best, float(out.max()), -float(out.min()))
    return best
