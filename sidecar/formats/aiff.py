"""AIFF and AIFC: the project's chunk writer (NAME, AUTH, ANNO and an `ID3 ` chunk)."""

from __future__ import annotations

from mutagen.aiff import AIFF as MutagenAiff

from sidecar.errors import AudioError, ContainerError
from sidecar.metadata import tags
from sidecar.metadata.genre import foreign_genre
from sidecar.metadata.merge import OWN_ALL, Ownership
from sidecar.metadata.record import Record
from sidecar.metadata.riff import aiff as chunks_io
from sidecar.metadata.riff.damage import aiff_damage

from .base import TaggedFormat


class Aiff(TaggedFormat):
    """Without chunks (`write_riff = false`) the ID3 tag is written through mutagen."""

    name = "aiff"
    suffixes = (".aif", ".aiff", ".aifc")
    pcm = True
    chunk_writer = True
    opener = MutagenAiff

    def detect(self, head: bytes) -> bool:
        return head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC")

    def audio_span(self, path: str) -> tuple[int, int]:
        try:
            return chunks_io.audio_span(path)
        except ContainerError as exc:
            raise AudioError(str(exc)) from exc

    def read_chunk_fields(self, path: str) -> Record:
        return chunks_io.read(path)

    def chunk_readers(self) -> dict:
        return {"aiff": chunks_io.read}

    def damage(self, path: str) -> list[str]:
        return aiff_damage(path)

    def write(self, path: str, record: Record, *, chunks: bool = True, embedded_tags: bool = True,
              owner: Ownership = OWN_ALL, repair: bool = False, keep_original=None) -> list[str]:
        if not chunks:
            return super().write(path, record, chunks=chunks, embedded_tags=embedded_tags, owner=owner)
        existing = tags.existing_id3(path, self.opener) if embedded_tags else None
        held = [str(t) for frame in (existing.getall("TCON") if existing is not None else []) for t in frame.text]
        genre = not foreign_genre(held, owner)
        id3 = tags.id3_bytes(record, existing, owner, genre) if embedded_tags else None
        result = chunks_io.write(path, record, id3=id3, owner=owner, repair=repair,
                                 keep_original=keep_original)
        return [c.strip() for c in result.chunks if c.strip().lower() != "id3"] + (["tags"] if id3 else [])


AIFF = Aiff()
