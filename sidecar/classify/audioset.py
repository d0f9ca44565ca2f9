"""The embedded AudioSet engine, the default: YAMNet on ONNX Runtime, on the CPU, offline.

How labels are pooled over time:

- a patch is 0.96 s, one every 0.48 s, so every moment is heard by two patches;
- a window (the MAX client's 10 s windows, at most 30 per file, evenly spread
  over long files so hours of ambience are heard in bounded time) scores each
  label by the mean of its two best patches: a door slam lasting a fraction of
  a second fills the two patches that overlap it and keeps nearly its full
  score, while a one-patch flicker is halved;
- the file scores each label by its best window (as for MAX), so one door in
  20 s of room tone is still a door;
- Silence alone is pooled by its mean over every patch: a file is silent when
  it is silent throughout, not because a phrase ends in a pause.

Quiet passages are raised (never lowered) before listening: the network was
trained on normalised web audio, and a library's -45 dBFS room tone or soft
piano would otherwise sit on its log floor and be heard as silence. Digital
silence is never raised.

The descriptor engine adds what it measures well (loudness, true peak, and the
quality flags clipping, DC offset and dual mono, kept apart from the labels); it
never names the sound.
"""

from __future__ import annotations

import numpy as np

from sidecar import __version__
from sidecar.audio.decode import Audio
from sidecar.audio.descriptors import measure
from sidecar.audio.logmel import RATE, patches
from sidecar.audio.pcm16 import prepare
from sidecar.classify.audioset_version import GENERATION
from sidecar.classify.base import WINDOW_SECONDS, Classification, window_starts
from sidecar.classify.descriptors import quality_labels, technical_of
from sidecar.classify.yamnet_model import YamnetModel
from sidecar.metadata.record import Label, Window
from sidecar.vocabulary import tables

NAME = "embedded"
#: labels below this are not kept (the vocabulary writes only those above its own threshold)
KEEP_PROBABILITY = 0.05
WINDOW_LABELS = 5
FILE_LABELS = 10
SILENCE_MID = "/m/028v0c"
#: quiet windows are raised to this peak, by at most MAX_GAIN_DB
TARGET_PEAK_DBFS = -12.0
MAX_GAIN_DB = 40.0
DIGITAL_SILENCE_DBFS = -90.0


def _names() -> dict[str, str]:
    """MAX's display name of each MID, so both engines speak one label space."""
    return {e.mid: e.label for e in tables.label_entries()}


class AudiosetEngine:
    """classify(audio) -> Classification; one model shared by every worker thread."""

    name = NAME

    def __init__(self, model_path: str | None = None, *, max_windows: int = 30, numerics: str | None = None):
        self.model = YamnetModel(model_path, numerics=numerics)
        self.model_name = f"{self.model.name}/{GENERATION}"
        self.max_windows = max_windows
        known = _names()
        self._labels = [known.get(mid, name) for mid, name in zip(self.model.classes.mids, self.model.classes.names)]
        mids = self.model.classes.mids
        self._silence = mids.index(SILENCE_MID) if SILENCE_MID in mids else None

    def describe_model(self) -> dict:
        return {"engine": NAME, "model": self.model_name, "source": str(self.model.source),
                "classes": len(self._labels), "numerics": self.model.numerics}

    def window_scores(self, mono16k: np.ndarray, start: float) -> np.ndarray:
        """[521] scores of one 10 s window: each label's mean over its two best patches
        (Silence: its mean over all)."""
        return self._pool(self._patch_scores(mono16k, start))

    def _pool(self, per_patch: np.ndarray) -> np.ndarray:
        pooled = _best_two_mean(per_patch)
        if self._silence is not None:
            pooled[self._silence] = per_patch[:, self._silence].mean()
        return pooled

    def _patch_scores(self, mono16k: np.ndarray, start: float) -> np.ndarray:
        a = int(round(start * RATE))
        x = _raised(mono16k[a:a + int(WINDOW_SECONDS * RATE)])
        return self.model.scores(patches(x))

    def top_labels(self, mono16k: np.ndarray, count: int) -> list[Label]:
        """The best labels of one clip whatever their probability (what MAX answers)."""
        return self._top(self.window_scores(mono16k, 0.0), count, floor=0.0)

    def classify(self, audio: Audio) -> Classification:
        facts = measure(audio, spectral=False)
        technical = technical_of(facts)
        flags = quality_labels(facts)
        if facts.sample_peak < DIGITAL_SILENCE_DBFS:
            silence = [Label("Silence", 0.99, SILENCE_MID, NAME)]
            return Classification(NAME, self.model_name, __version__, silence, [], technical, flags)
        mono = prepare(audio, rate=RATE, mono=True).samples[:, 0]
        duration = len(mono) / RATE
        windows: list[Window] = []
        best = np.zeros(len(self._labels), dtype=np.float32)
        silence, heard = 0.0, 0
        for start in window_starts(duration, self.max_windows):
            per_patch = self._patch_scores(mono, start)
            scores = self._pool(per_patch)
            best = np.maximum(best, scores)
            silence += float(per_patch[:, self._silence].sum()) if self._silence is not None else 0.0
            heard += len(per_patch)
            seconds = min(WINDOW_SECONDS, duration - start)
            windows.append(Window(start, round(seconds, 3), self._top(scores, WINDOW_LABELS)))
        if self._silence is not None:
            best[self._silence] = silence / max(heard, 1)
        return Classification(NAME, self.model_name, __version__, self._top(best, FILE_LABELS),
                              windows if len(windows) > 1 else [], technical, flags)

    def _top(self, scores: np.ndarray, count: int, floor: float = KEEP_PROBABILITY) -> list[Label]:
        order = np.argsort(-scores, kind="stable")[:count]
        return [Label(self._labels[i], round(float(scores[i]), 4), self.model.classes.mids[i], NAME)
                for i in order if scores[i] >= floor]


def _best_two_mean(per_patch: np.ndarray) -> np.ndarray:
    if len(per_patch) == 1:
        return per_patch[0].copy()
    return np.partition(per_patch, len(per_patch) - 2, axis=0)[-2:].mean(axis=0)


def _raised(x: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 0.0:
        return x
    peak_db = 20.0 * np.log10(peak)
    if peak_db < DIGITAL_SILENCE_DBFS or peak_db >= TARGET_PEAK_DBFS:
        return x
    gain_db = min(TARGET_PEAK_DBFS - peak_db, MAX_GAIN_DB)
    return (x * (10.0 ** (gain_db / 20.0))).astype(np.float32)
