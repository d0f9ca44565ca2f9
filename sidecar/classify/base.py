"""The classifier interface every engine keeps to, and window aggregation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sidecar.audio.decode import Audio
from sidecar.metadata.record import Label, Provenance, Window

#: MAX listens to 10 s after start_time; the embedded engine uses the same windows.
WINDOW_SECONDS = 10.0


@dataclass
class Classification:
    """What an engine heard in one file: aggregated labels best first, and per window."""

    engine: str
    model: str
    version: str
    labels: list[Label]
    windows: list[Window] = field(default_factory=list)
    #: measured facts for the record's technical fields (Loudness, TruePeak, ...)
    technical: dict[str, float] = field(default_factory=dict)
    #: quality flags measured in the audio (Clipping, DC offset, Dual mono): never among the labels
    quality: list[Label] = field(default_factory=list)


class Engine(Protocol):
    name: str

    def classify(self, audio: Audio) -> Classification: ...


def window_starts(duration: float, max_windows: int = 30) -> list[float]:
    """Start times of the 10 s windows covering a clip; evenly thinned past max_windows."""
    if duration <= WINDOW_SECONDS:
        return [0.0]
    count = int(-(-duration // WINDOW_SECONDS))  # ceil
    starts = [i * WINDOW_SECONDS for i in range(count)]
    if count > max_windows:
        step = (count - 1) / (max_windows - 1)
        starts = [starts[round(i * step)] for i in range(max_windows)]
    return starts


def aggregate(windows: list[Window], top: int = 10) -> list[Label]:
    """One label list for the whole file: a label's score is its highest window probability.

    The maximum, not the mean, because an editor searching "dog" wants the
    ambience in which a dog barks once.
    """
    best: dict[str, Label] = {}
    for window in windows:
        for lab in window.labels:
            held = best.get(lab.label)
            if held is None or lab.probability > held.probability:
                best[lab.label] = Label(lab.label, lab.probability, lab.mid, lab.source)
    ranked = sorted(best.values(), key=lambda l: (-l.probability, l.label))
    return ranked[:top]


#: the model the descriptor engine writes into provenance; it named no sound
DESCRIPTOR_MODEL = "sidecar-descriptors"


def _generation(model: str) -> int:
    """"yamnet-w8a8/2" -> 2; models without a generation count as 0."""
    tail = model.rpartition("/")[2]
    return int(tail) if tail.isdigit() and "/" in model else 0


def heard_by_an_older_engine(provenance: Provenance, engine) -> bool:
    """Whether a file's machine fields should be heard again by this engine: they came from the
    descriptor engine (which names no sound) and this one names sounds, or from an earlier
    generation of the same engine. Another engine of the same rank (MAX after the embedded
    one, or back) is no reason to classify a library again."""
    if not provenance.engine:
        return False
    if provenance.model == DESCRIPTOR_MODEL:
        return engine.name != "descriptors"
    if provenance.engine != engine.name:
        return False
    current = getattr(engine, "model_name", "")     # asked only now: a lazy engine loads to say it
    return (provenance.model.partition("/")[0] == current.partition("/")[0]
            and _generation(provenance.model) < _generation(current))
