"""M4A (MP4 audio, AAC or ALAC): MP4 atoms (mutagen); decoded by ffmpeg."""

from __future__ import annotations

import os

from mutagen.mp4 import MP4

from sidecar.audio.decode import Audio, decode
from sidecar.metadata import tags

from .base import TaggedFormat


class M4a(TaggedFormat):
    name = "m4a"
    suffixes = (".m4a", ".mp4", ".aac", ".m4b")
    opener = MP4
    family = tags.MP4_TAGS

    def detect(self, head: bytes) -> bool:
        return len(head) >= 8 and head[4:8] == b"ftyp"

    def decode(self, path: str) -> Audio:
        return decode(path, ffmpeg=True)

    def audio_span(self, path: str) -> tuple[int, int]:
        """The payload of the `mdat` atom."""
        size = os.stat(path).st_size
        pos = 0
        with open(path, "rb") as f:
            while pos + 8 <= size:
                f.seek(pos)
                hdr = f.read(16)
                length = int.from_bytes(hdr[:4], "big")
                kind = hdr[4:8]
                header = 8
                if length == 1:
                    length = int.from_bytes(hdr[8:16], "big")
                    header = 16
                elif length == 0:
                    length = size - pos
                if length < header:
                    return 0, 0
                if kind == b"mdat":
                    return pos + header, length - header
                pos += length
        return 0, 0


M4A = M4a()
