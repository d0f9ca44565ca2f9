"""Loudness and true peak (sidecar/audio/bs1770.py) and the resampler (sidecar/audio/resample.py)
against independent references, each with its stated tolerance:

- pyloudnorm, the implementation the index's loudness came from before: same filter design and
  gating, so within 0.01 LU (the written precision);
- ffmpeg's ebur128 filter, another BS.1770 meter with the standard's own filter coefficients:
  within 0.1 LU (EBU Tech 3341's tolerance for a loudness meter);
- EBU Tech 3341 test signals: 1 kHz stereo at -23 and -33 dBFS read -23.0 and -33.0 LUFS +-0.1;
- true peak: the full 4x oversampled signal of the same filter (scipy's upfirdn) within
  0.001 dB; sines of known peak within Tech 3341's +0.2/-0.4 dB; ffmpeg's reading (its own
  resampler, not annex 2's 48 taps) within 0.5 dB;
- scipy.signal.resample_poly within 1e-6 (float32 rounding).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from sidecar.audio import bs1770
from sidecar.audio.decode import Audio
from sidecar.audio.descriptors import measure
from sidecar.audio.pcm16 import prepare
from sidecar.audio.resample import resample

RNG = np.random.default_rng(1770)


def _signals(rate: int, channels: int) -> dict[str, np.ndarray]:
    """(frames, channels) float32 test signals, 4 s each."""
    t = np.arange(rate * 4) / rate
    noise = RNG.normal(0, 0.15, (len(t), channels))
    gates = np.where((t % 1.0) < 0.2, 1.0, 0.003)[:, None]        # bursts over a quiet bed: gating decides
    sweep = 0.4 * np.sin(2 * np.pi * (40 * t + 2000 * t ** 2))[:, None]
    return {
        "noise": noise,
        "bursts": noise * gates * 1.5,
        "sweep": sweep * np.linspace(1, 0.5, channels)[None, :],
        "quiet": noise * 1e-4,                                        # below the absolute gate
    }


def _lufs(x: np.ndarray, rate: int) -> float:
    return bs1770.integrated_loudness(np.ascontiguousarray(x.T, dtype=np.float32), rate)


@pytest.mark.parametrize("rate,channels", [(48000, 2), (44100, 1), (96000, 2), (22050, 5)])
def test_loudness_equals_pyloudnorm(rate, channels):
    pyloudnorm = pytest.importorskip("pyloudnorm")
    for name, x in _signals(rate, channels).items():
        x = x.astype(np.float32)
        ours = _lufs(x, rate)
        theirs = pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64))
        if name == "quiet":
            assert ours == -math.inf and theirs == -math.inf
        else:
            assert abs(ours - theirs) <= 0.01, (name, ours, theirs)


def test_k_weighting_equals_a_recursive_filter():
    signal = pytest.importorskip("scipy.signal")
    x = _signals(48000, 2)["bursts"].T.astype(np.float32)
    ref = x.astype(np.float64)
    for b, a in bs1770._biquads(48000):
        ref = signal.lfilter(b, a, ref, axis=1)
    ours = bs1770.k_weighted(x, 48000).reshape(2, -1)[:, : x.shape[1]]
    assert np.abs(ours - ref).max() <= 1e-5 * np.abs(ref).max()


@pytest.mark.parametrize("level", [-23.0, -33.0])
def test_ebu_tech_3341_sines(level):
    rate = 48000
    t = np.arange(rate * 20) / rate
    tone = 10 ** (level / 20) * np.sin(2 * np.pi * 1000 * t)
    assert abs(_lufs(np.stack([tone, tone], axis=1), rate) - level) <= 0.1


def _ffmpeg(path) -> tuple[float, float]:
    """(integrated loudness, true peak dBTP) as ffmpeg's ebur128 filter reads them."""
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-nostdin", "-i", str(path), "-af",
                          "ebur128=peak=true:metadata=1,ametadata=mode=print", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    loudness = float(re.findall(r"lavfi\.r128\.I=(\S+)", err)[-1])
    peak = max(float(v) for v in re.findall(r"lavfi\.r128\.true_peaks_ch\d+=(\S+)", err))
    return loudness, 20 * math.log10(peak)


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="needs ffmpeg")
@pytest.mark.parametrize("rate,name", [(48000, "noise"), (48000, "bursts"), (44100, "sweep"), (44100, "noise")])
def test_loudness_and_true_peak_beside_ffmpeg(tmp_path, rate, name):
    x = np.clip(_signals(rate, 2)[name], -1, 1).astype(np.float32)
    path = tmp_path / "x.wav"
    sf.write(path, x, rate, subtype="FLOAT")
    facts = measure(Audio(x, rate), spectral=False)
    loudness, peak = _ffmpeg(path)
    assert abs(facts.loudness - loudness) <= 0.1, (facts.loudness, loudness)
    assert abs(facts.true_peak - peak) <= 0.5, (facts.true_peak, peak)


def _full_true_peak(x: np.ndarray) -> float:
    """Every 4x output centred within the clip, by scipy's upfirdn with the same filter."""
    signal = pytest.importorskip("scipy.signal")
    best = float(np.abs(x).max())
    for ch in x.T:
        up = signal.upfirdn(bs1770._TP_FILTER.astype(np.float32), ch, up=4)
        best = max(best, float(np.abs(up[24: 24 + 4 * len(ch)]).max()))
    return 20 * math.log10(best)


@pytest.mark.parametrize("rate,channels", [(48000, 2), (44100, 1), (32000, 6)])
def test_true_peak_equals_the_full_oversampled_signal(rate, channels):
    cases = dict(_signals(rate, channels))
    t = np.arange(rate * 3) / rate
    # a quarter-rate sine sampled 45 degrees off its crests: samples at 0.707, peaks between them
    cases["overs"] = 0.9 * np.sin(2 * np.pi * rate / 4 * t + np.pi / 4)[:, None] * np.ones(channels)
    cases["short"] = cases["overs"][:7]
    # a single loud click late in a long quiet file: the quiet stretches are skipped, not the click
    click = np.full((rate * 3, channels), 1e-3)
    click[-5] = 0.8
    cases["click"] = click
    for name, x in cases.items():
        x = x.astype(np.float32)
        ours = 20 * math.log10(bs1770.true_peak(np.ascontiguousarray(x.T)))
        assert abs(ours - _full_true_peak(x)) <= 0.001, name


def test_true_peak_of_sines_of_known_peak():
    rate = 48000
    t = np.arange(rate * 2) / rate
    for freq, phase in ((997, 0.0), (rate / 4, math.pi / 4), (5000, 0.3)):
        x = (0.5 * np.sin(2 * np.pi * freq * t + phase))[None, :].astype(np.float32)
        peak = 20 * math.log10(bs1770.true_peak(x))
        assert -6.02 - 0.4 <= peak <= -6.02 + 0.2, (freq, peak)
        if freq == rate / 4:
            assert 20 * math.log10(np.abs(x).max()) < -8.9     # where a sample peak reads 3 dB low


@pytest.mark.parametrize("target", [16000, 44100])
@pytest.mark.parametrize("rate", [8000, 11025, 22050, 32000, 44100, 48000, 88200, 96000, 192000])
def test_resample_equals_resample_poly(rate, target):
    signal = pytest.importorskip("scipy.signal")
    g = math.gcd(target, rate)
    for n in (1, 5, 999, rate + 17):
        x = RNG.normal(0, 0.3, n).astype(np.float32)
        ours = resample(x, target, rate)
        theirs = signal.resample_poly(x, target // g, rate // g).astype(np.float32)
        assert ours.shape == theirs.shape and ours.dtype == np.float32
        assert np.abs(ours - theirs).max() <= 1e-6, (rate, n)


def test_prepare_resamples_each_channel():
    x = RNG.normal(0, 0.2, (44100, 2)).astype(np.float32)
    out = prepare(Audio(x, 44100), rate=16000, mono=False).samples
    assert out.shape == (16000, 2)
    for ch in range(2):
        assert np.array_equal(out[:, ch], resample(x[:, ch], 16000, 44100))
