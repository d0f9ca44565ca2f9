"""The descriptor engine: labels from honest acoustic descriptors, no model at all.

It says what it can measure and nothing else: silence, loudness, clipping,
DC offset, dual mono, tonal or noisy (and sine, white or pink noise when the
spectrum says so), impulsive or sustained, and a brightness band. Labels that
exist in AudioSet carry their AudioSet identifier, the rest an /x/sidecar/ id.

It names no sound source, so it is a classifier only on request
(`--classifier descriptors`) or when the AudioSet model cannot be loaded (the
scan's summary says so). Every engine uses its measures for the technical
fields and the quality flags (clipping, DC offset, dual mono). The flags are
measurements, not things heard: they go to the classification's `quality`,
never among its labels, whichever engine listened.
"""

from __future__ import annotations

import math

from sidecar import __version__
from sidecar.audio.decode import Audio
from sidecar.audio.descriptors import Descriptors, measure
from sidecar.classify.base import WINDOW_SECONDS, Classification, aggregate, window_starts
from sidecar.metadata.record import QUALITY_FLAGS, Label, Window, split_quality

NAME = "descriptors"
MODEL = "sidecar-descriptors"

AUDIOSET = {
    "Silence": "/m/028v0c", "Sine wave": "/m/01v_m0", "White noise": "/m/0chx_",
    "Pink noise": "/m/0cj0r", "Hum": "/m/07rcgpl", "Noise": "/m/096m7z",
}


def _id(label: str) -> str:
    return AUDIOSET.get(label) or "/x/sidecar/" + label.lower().replace(" ", "-")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def labels_for(d: Descriptors, *, whole_file: bool = True) -> list[Label]:
    """Descriptor values turned into labels with probabilities, best first."""
    out: dict[str, float] = {}
    if d.silent:
        out["Silence"] = 0.99
        return _labels(out)
    if whole_file:
        if d.clipped_fraction > 0:
            out["Clipping"] = min(0.99, 0.5 + 50 * d.clipped_fraction)
        if d.dc_offset > 0.01:
            out["DC offset"] = min(0.99, 0.5 + 10 * d.dc_offset)
        if d.dual_mono:
            out["Dual mono"] = 0.99
        if d.loudness is not None:
            if d.loudness > -14:
                out["Loud"] = _sigmoid((d.loudness + 14) / 3)
            elif d.loudness < -40:
                out["Quiet"] = _sigmoid((-40 - d.loudness) / 5)
    # tonal versus noisy
    if d.tonal_peak_share > 0.8 and d.flatness < 0.05:
        out["Sine wave"] = min(0.99, d.tonal_peak_share)
        out["Tonal"] = 0.95
        if 45 <= d.peak_hz <= 65 or 95 <= d.peak_hz <= 125:
            out["Hum"] = 0.7
    elif d.flatness < 0.1:
        out["Tonal"] = _sigmoid((0.1 - d.flatness) * 60)
    elif d.flatness > 0.25:
        out["Noisy"] = _sigmoid((d.flatness - 0.25) * 20)
        if d.flatness > 0.5 and d.active_fraction > 0.8:
            if abs(d.spectral_slope) < 1.5:
                out["White noise"] = _sigmoid((1.5 - abs(d.spectral_slope)) * 2 + 1)
            elif abs(d.spectral_slope + 3.0) < 1.5:
                out["Pink noise"] = _sigmoid((1.5 - abs(d.spectral_slope + 3.0)) * 2 + 1)
            out["Noise"] = 0.6
    # envelope
    if d.active_fraction < 0.35 and d.crest_db > 10:
        out["Impulsive"] = _sigmoid((0.35 - d.active_fraction) * 12 + (d.crest_db - 10) / 6)
    elif d.active_fraction > 0.6:
        out["Sustained"] = _sigmoid((d.active_fraction - 0.6) * 12)
    # brightness band
    if d.centroid_hz > 3000:
        out["Bright"] = _sigmoid((d.centroid_hz - 3000) / 1500)
    elif d.centroid_hz < 500:
        out["Dark"] = _sigmoid((500 - d.centroid_hz) / 150)
    return _labels(out)


def _labels(scores: dict[str, float]) -> list[Label]:
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Label(name, round(float(p), 4), _id(name), NAME) for name, p in ranked]


class DescriptorEngine:
    """Needs nothing but the decoded audio."""

    name = NAME
    model_name = MODEL

    def classify(self, audio: Audio) -> Classification:
        whole = measure(audio)
        windows = []
        if audio.duration > WINDOW_SECONDS:
            for start in window_starts(audio.duration):
                part = audio.slice(start, WINDOW_SECONDS)
                if part.frames:
                    d = measure(part, loudness=False)
                    windows.append(Window(start, part.duration, labels_for(d, whole_file=False)))
        file_labels, quality = split_quality(labels_for(whole))
        if windows:
            merged = {l.label: l for l in aggregate(windows, top=50)}
            for l in file_labels:       # whole-file measures (loudness, clipping) keep their value
                merged[l.label] = l
            file_labels = sorted(merged.values(), key=lambda l: (-l.probability, l.label))
        return Classification(NAME, MODEL, __version__, file_labels, windows, technical_of(whole), quality)


def quality_labels(d: Descriptors) -> list[Label]:
    """Clipping, DC offset and dual mono, each with its strength, for a classification's `quality`."""
    return [Label(l.label, l.probability, l.mid, NAME) for l in labels_for(d) if l.label in QUALITY_FLAGS]


def technical_of(d: Descriptors) -> dict[str, float]:
    out = {} if d.silent else {"TruePeak": d.true_peak}
    if d.loudness is not None:
        out["Loudness"] = d.loudness
    return out


def technical_facts(audio: Audio) -> tuple[dict[str, float], list[Label]]:
    """Integrated loudness and true peak, and the quality flags, for records classified by an
    engine that measured neither (MAX)."""
    facts = measure(audio, spectral=False)
    return technical_of(facts), quality_labels(facts)
