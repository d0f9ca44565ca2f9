"""The task that carries one file through the stages, and its outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from sidecar.audio.decode import Audio
from sidecar.classify.base import Classification
from sidecar.index.interfaces import IndexedFile
from sidecar.metadata.record import Record


class Outcome(str, Enum):
    CLASSIFIED = "classified"   # heard, described and written
    REINDEXED = "reindexed"     # audio unchanged, metadata changed outside: index refreshed
    UNCHANGED = "unchanged"     # nothing to do
    PLANNED = "planned"         # --dry-run: what would be written
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class Task:
    path: str
    format: str = ""
    size: int = 0
    mtime_ns: int = 0
    indexed: IndexedFile | None = None
    existing: Record = field(default_factory=Record)
    human: set[str] = field(default_factory=set)
    ours: dict = field(default_factory=dict)            # field -> value the service last wrote
    person: list[str] = field(default_factory=list)     # the words of Keywords a person wrote
    audio: Audio | None = None
    fingerprint: str = ""
    classification: Classification | None = None
    record: Record | None = None
    embedding: object | None = None  # a StoredEmbedding for the index, when heard (or carried by a move)
    vector: bytes | None = None      # the file's sounds-like vector, heard now or held by the index
    written: list[str] = field(default_factory=list)    # containers written
    unchanged_audio: bool = False    # known audio: refresh metadata, never classify again
    moved_from: str = ""             # the indexed path this file was found moved from
    notes: list[str] = field(default_factory=list)      # what a person should know (not failures)
    damage: list[str] = field(default_factory=list)     # what is wrong with the file's header
    outcome: Outcome | None = None
    reason: str = ""
    stage: str = ""

    def done(self, outcome: Outcome, reason: str = "") -> "Task":
        self.outcome = outcome
        self.reason = reason
        return self

    @property
    def finished(self) -> bool:
        return self.outcome is not None
