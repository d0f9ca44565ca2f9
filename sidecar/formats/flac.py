"""FLAC: Vorbis comments in a metadata block (mutagen); the frames follow the last block."""

from __future__ import annotations

import os

from mutagen.flac import FLAC as MutagenFlac

from sidecar.metadata import tags

from .base import TaggedFormat, id3_size


class Flac(TaggedFormat):
    name = "flac"
    suffixes = (".flac",)
    opener = MutagenFlac
    family = tags.VORBIS_TAGS

    def detect(self, head: bytes) -> bool:
        skip = id3_size(head)          # an ID3v2 tag in front of FLAC happens
        return head[skip:skip + 4] == b"fLaC"

    def audio_span(self, path: str) -> tuple[int, int]:
        size = os.stat(path).st_size
        with open(path, "rb") as f:
            pos = 4 + id3_size(f.read(10))
            while True:
                f.seek(pos)
                block = f.read(4)
                if len(block) < 4:
                    return 0, 0
                pos += 4 + int.from_bytes(block[1:4], "big")
                if block[0] & 0x80:
                    return pos, size - pos


FLAC = Flac()
