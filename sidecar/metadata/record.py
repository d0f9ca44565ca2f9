"""The canonical metadata record: one plain dataclass that flows from probe to index.

Field names follow the Soundminer/UCS convention sound editors know. The record
holds no I/O; each container module maps it onto its own layout.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Descriptive fields, in the order library managers show them.
TEXT_FIELDS: tuple[str, ...] = (
    "Description", "Category", "SubCategory", "CatID", "FXName", "TrackTitle",
    "Library", "Manufacturer", "Designer", "ShortID", "Notes", "UserComments",
    "Microphone", "MicPerspective", "RecMedium", "Location", "URL",
)
#: Keywords are a list; containers join them with ", ".
LIST_FIELDS: tuple[str, ...] = ("Keywords",)
#: Facts measured from the audio; never owned by a person.
TECHNICAL_FIELDS: tuple[str, ...] = (
    "Duration", "SampleRate", "BitDepth", "Channels", "Loudness", "TruePeak",
)
DESCRIPTIVE_FIELDS: tuple[str, ...] = TEXT_FIELDS[:1] + LIST_FIELDS + TEXT_FIELDS[1:]

KEYWORD_SEPARATOR = ", "
#: Facts of the recording the descriptors measure (never names of its source): they are kept in
#: provenance.quality, apart from the labels, and become keywords like labels do.
QUALITY_FLAGS: tuple[str, ...] = ("Clipping", "DC offset", "Dual mono")
#: the identifiers of labels SFX Sidecar makes up itself (not AudioSet's)
OWN_ID_PREFIX = "/x/sidecar/"
#: each flag's identifier ("/x/sidecar/dc-offset") -> its name
QUALITY_FLAG_IDS: dict[str, str] = {OWN_ID_PREFIX + name.lower().replace(" ", "-"): name for name in QUALITY_FLAGS}


@dataclass
class Label:
    """One thing a classifier heard, with how sure it was and who said so."""

    label: str
    probability: float
    mid: str = ""           # AudioSet identifier, or the embedded engine's own id
    source: str = "embedded"  # max | embedded | human

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Label":
        return cls(label=d["label"], probability=float(d.get("probability", 0.0)),
                   mid=d.get("mid", ""), source=d.get("source", "embedded"))

    def is_quality_flag(self) -> bool:
        return QUALITY_FLAG_IDS.get(self.mid) == self.label


def split_quality(labels: list[Label]) -> tuple[list[Label], list[Label]]:
    """(what was heard, the quality flags) of a label list: records written before the flags had
    their own field held them among the labels."""
    return ([lb for lb in labels if not lb.is_quality_flag()],
            [lb for lb in labels if lb.is_quality_flag()])


@dataclass
class Window:
    """Labels heard in one stretch of a long file."""

    start: float
    duration: float
    labels: list[Label] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Window":
        return cls(start=float(d["start"]), duration=float(d["duration"]),
                   labels=[Label.from_dict(x) for x in d.get("labels", [])])


@dataclass
class Provenance:
    """What the service added, so a person can always tell it apart and undo it."""

    engine: str = ""
    model: str = ""
    version: str = ""
    time: str = ""                      # ISO 8601, UTC
    labels: list[Label] = field(default_factory=list)   # what the classifier heard, best first
    #: quality flags measured in the audio (Clipping, DC offset, Dual mono), strongest first
    quality: list[Label] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    synonyms_added: list[str] = field(default_factory=list)
    machine_fields: list[str] = field(default_factory=list)  # fields whose value the service wrote
    #: the words of Keywords a person wrote: no scan, policy or engine removes them (the rest of
    #: the list, when Keywords is a machine field, is the service's and is refreshed)
    person_keywords: list[str] = field(default_factory=list)
    #: where CatID/Category/SubCategory came from: person | ucs_name | audioset | learned ("" unknown)
    category_source: str = ""
    category_confidence: float | None = None   # the label's or the learned model's probability
    category_model: str = ""                   # the learned model that chose it ("learned-3")
    #: the vocabulary's rules that wrote the words ("sounds-2"); "" before rules were named
    rules: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Provenance":
        d = d or {}
        return cls(
            engine=d.get("engine", ""), model=d.get("model", ""), version=d.get("version", ""),
            time=d.get("time", ""),
            labels=[Label.from_dict(x) for x in d.get("labels", [])],
            quality=[Label.from_dict(x) for x in d.get("quality", [])],
            windows=[Window.from_dict(x) for x in d.get("windows", [])],
            synonyms_added=list(d.get("synonyms_added", [])),
            machine_fields=list(d.get("machine_fields", [])),
            person_keywords=list(d.get("person_keywords", [])),
            category_source=d.get("category_source", ""),
            category_confidence=d.get("category_confidence"),
            category_model=d.get("category_model", ""),
            rules=d.get("rules", ""),
        ).without_flags_in_labels()      # a record written before flags had their own field

    def is_empty(self) -> bool:
        return not (self.engine or self.labels or self.machine_fields)

    def without_flags_in_labels(self) -> "Provenance":
        """This provenance in the current layout: quality flags an older record kept among the
        labels (of the file or of a window) moved to `quality`."""
        heard, flags = split_quality(self.labels)
        self.labels = heard
        self.quality = merge_quality(self.quality, flags)
        for window in self.windows:
            window.labels = split_quality(window.labels)[0]
        return self


def merge_quality(first: list[Label], second: list[Label]) -> list[Label]:
    """Both lists of flags, each flag once (the first list's value wins), strongest first."""
    seen = {lb.label for lb in first}
    out = list(first) + [lb for lb in second if lb.label not in seen]
    return sorted(out, key=lambda lb: (-lb.probability, lb.label))


@dataclass
class Record:
    """Everything known about one sound, in the canonical field names."""

    Description: str = ""
    Keywords: list[str] = field(default_factory=list)
    Category: str = ""
    SubCategory: str = ""
    CatID: str = ""
    FXName: str = ""
    TrackTitle: str = ""
    Library: str = ""
    Manufacturer: str = ""
    Designer: str = ""
    ShortID: str = ""
    Notes: str = ""
    UserComments: str = ""
    Microphone: str = ""
    MicPerspective: str = ""
    RecMedium: str = ""
    Location: str = ""
    URL: str = ""
    Duration: float | None = None
    SampleRate: int | None = None
    BitDepth: int | None = None
    Channels: int | None = None
    Loudness: float | None = None   # integrated, LUFS (BS.1770)
    TruePeak: float | None = None   # dBTP
    provenance: Provenance = field(default_factory=Provenance)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Record":
        known = _plain_fields(cls)
        rec = cls(**{k: v for k, v in d.items() if k in known})
        rec.Keywords = list(rec.Keywords or [])
        rec.provenance = Provenance.from_dict(d.get("provenance"))
        return rec

    def descriptive(self) -> dict[str, Any]:
        """The fields a person may write, as a dict (empty ones included)."""
        return {name: getattr(self, name) for name in DESCRIPTIVE_FIELDS}

    def is_empty(self, name: str) -> bool:
        value = getattr(self, name)
        return value is None or value == "" or value == []

    def fill_from(self, other: "Record") -> None:
        """Take other's non-empty descriptive fields where self has none (reader layering)."""
        for name in DESCRIPTIVE_FIELDS + TECHNICAL_FIELDS:
            if self.is_empty(name) and not other.is_empty(name):
                value = getattr(other, name)
                setattr(self, name, list(value) if isinstance(value, list) else value)
        if self.provenance.is_empty() and not other.provenance.is_empty():
            self.provenance = other.provenance


@functools.cache
def _plain_fields(cls) -> frozenset[str]:
    """A record class's field names but provenance (dataclasses.fields is slow to ask per row)."""
    return frozenset(f.name for f in fields(cls)) - {"provenance"}


def split_keywords(text: str) -> list[str]:
    """Keywords as containers store them: comma- or semicolon-separated, trimmed, de-duplicated."""
    out: list[str] = []
    seen: set[str] = set()
    for part in text.replace(";", ",").split(","):
        word = part.strip()
        if word and word.lower() not in seen:
            seen.add(word.lower())
            out.append(word)
    return out


def join_keywords(words: list[str]) -> str:
    return KEYWORD_SEPARATOR.join(words)
