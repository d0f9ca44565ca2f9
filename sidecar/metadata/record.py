"""The canonical metadata record: one plain dataclass that flows from probe to index.

Field names follow the Soundminer/UCS convention sound editors know. The record
holds no I/O; each container module maps it onto its own layout.
"""

from __future__ import annotations

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
    labels: list[Label] = field(default_factory=list)   # best first
    windows: list[Window] = field(default_factory=list)
    synonyms_added: list[str] = field(default_factory=list)
    machine_fields: list[str] = field(default_factory=list)  # fields whose value the service wrote
    #: where CatID/Category/SubCategory came from: person | ucs_name | audioset | learned ("" unknown)
    category_source: str = ""
    category_confidence: float | None = None   # the label's or the learned model's probability
    category_model: str = ""                   # the learned model that chose it ("learned-3")
    #: the vocabulary's rules that wrote the words ("sounds-1"); "" before rules were named
    rules: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Provenance":
        d = d or {}
        return cls(
            engine=d.get("engine", ""), model=d.get("model", ""), version=d.get("version", ""),
            time=d.get("time", ""),
            labels=[Label.from_dict(x) for x in d.get("labels", [])],
            windows=[Window.from_dict(x) for x in d.get("windows", [])],
            synonyms_added=list(d.get("synonyms_added", [])),
            machine_fields=list(d.get("machine_fields", [])),
            category_source=d.get("category_source", ""),
            category_confidence=d.get("category_confidence"),
            category_model=d.get("category_model", ""),
            rules=d.get("rules", ""),
        )

    def is_empty(self) -> bool:
        return not (self.engine or self.labels or self.machine_fields)


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
        known = {f.name for f in fields(cls)} - {"provenance"}
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
