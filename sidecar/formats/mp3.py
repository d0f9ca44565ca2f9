"""MP3: an ID3v2 tag in front of the frames (mutagen), an ID3v1 tag perhaps behind them."""

from __future__ import annotations

import os

from mutagen.mp3 import MP3 as MutagenMp3

from sidecar.metadata import tags

from .base import TaggedFormat, id3_size


class Mp3(TaggedFormat):
    name = "mp3"
    suffixes = (".mp3",)
    opener = MutagenMp3
    family = tags.ID3_TAGS

    def detect(self, head: bytes) -> bool:
        # an ID3v2 tag in front of FLAC happens: the registry asks FLAC first
        return head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0)

    def audio_span(self, path: str) -> tuple[int, int]:
        size = os.stat(path).st_size
        with open(path, "rb") as f:
            head = f.read(10)
            start = id3_size(head)
            if start and head[5] & 0x10:
                start += 10      # footer
            end = size
            if size >= 128:
                f.seek(size - 128)
                if f.read(3) == b"TAG":
                    end = size - 128
        return start, max(0, end - start)


MP3 = Mp3()
