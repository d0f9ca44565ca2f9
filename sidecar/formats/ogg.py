"""Ogg Vorbis and Opus: Vorbis comments (mutagen). No audio span survives tagging (pages are
renumbered when the comment grows), so the journal keeps the whole original."""

from __future__ import annotations

from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from sidecar.metadata import tags

from .base import TaggedFormat


class Vorbis(TaggedFormat):
    name = "ogg"
    suffixes = (".ogg", ".oga")
    opener = OggVorbis
    family = tags.VORBIS_TAGS

    def detect(self, head: bytes) -> bool:
        return head[:4] == b"OggS" and b"\x01vorbis" in head[:128] and b"OpusHead" not in head[:128]


class Opus(TaggedFormat):
    name = "opus"
    suffixes = (".opus", ".ogg")
    opener = OggOpus
    family = tags.VORBIS_TAGS

    def detect(self, head: bytes) -> bool:
        return head[:4] == b"OggS" and b"OpusHead" in head[:128]


VORBIS = Vorbis()
OPUS = Opus()
