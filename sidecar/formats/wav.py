"""WAV/BWF and RF64/BW64: the project's RIFF reader and writer (bext, iXML, INFO and an `id3 ` chunk)."""

from __future__ import annotations

from mutagen.wave import WAVE

from sidecar.audio.decode import Audio, decode
from sidecar.errors import AudioError, ContainerError
from sidecar.metadata import riff, tags
from sidecar.metadata.genre import foreign_genre
from sidecar.metadata.merge import OWN_ALL, Ownership
from sidecar.metadata.record import Record
from sidecar.metadata.riff.damage import riff_damage

from .base import TaggedFormat


class Riff(TaggedFormat):
    """Without chunks (`write_riff = false`) a WAV file gets its ID3 tag through mutagen; RF64 none."""

    pcm = True
    chunk_writer = True

    def decode(self, path: str) -> Audio:
        # libsndfile's RF64 reader loses its way after an odd-sized chunk that the
        # RIFF walker (which already checked the layout) reads fine: ffmpeg does too
        return decode(path, ffmpeg_fallback=True)

    def audio_span(self, path: str) -> tuple[int, int]:
        try:
            return riff.audio_span(path)
        except ContainerError as exc:
            raise AudioError(str(exc)) from exc

    def read_chunk_fields(self, path: str) -> Record:
        return riff.read(path)

    def chunk_readers(self) -> dict:
        return {"riff": riff.read_chunks}

    def damage(self, path: str) -> list[str]:
        return riff_damage(path)

    def read_tags(self, path: str) -> Record:
        return super().read_tags(path) if self.opener is not None else Record()

    def existing_id3(self, path: str):
        return tags.existing_id3(path, self.opener)

    def write(self, path: str, record: Record, *, chunks: bool = True, embedded_tags: bool = True,
              owner: Ownership = OWN_ALL, repair: bool = False, keep_original=None) -> list[str]:
        if not chunks:
            if self.opener is None:
                return []
            return super().write(path, record, chunks=chunks, embedded_tags=embedded_tags, owner=owner)
        existing = self.existing_id3(path) if embedded_tags else None
        held = [str(t) for frame in (existing.getall("TCON") if existing is not None else []) for t in frame.text]
        held.append(_info_genre(path))
        genre = not foreign_genre(held, owner)
        id3 = tags.id3_bytes(record, existing, owner, genre) if embedded_tags else None
        result = riff.write(path, record, id3=id3, owner=owner, repair=repair, genre=genre,
                            keep_original=keep_original)
        return [c.strip() for c in result.chunks if c.strip().lower() != "id3"] + (["tags"] if id3 else [])


class Wav(Riff):
    name = "wav"
    suffixes = (".wav", ".bwf", ".wave")

    opener = WAVE

    def detect(self, head: bytes) -> bool:
        return len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE"


class Rf64(Riff):
    """RF64 and BW64: mutagen does not open them; the RIFF walker reads their `id3 ` chunk."""

    name = "rf64"
    suffixes = (".rf64", ".bw64", ".wav")

    def detect(self, head: bytes) -> bool:
        return len(head) >= 12 and head[:4] in (b"RF64", b"BW64") and head[8:12] == b"WAVE"

    opener = None

    def existing_id3(self, path: str):
        return tags.id3_in_chunk(path, riff.read_chunks(path)["chunks"])


def _info_genre(path: str) -> str:
    from sidecar.metadata.riff.reader import load
    with open(path, "rb") as f:
        info = load(f).info
    return info.as_dict().get("IGNR", "") if info is not None else ""


WAV = Wav()
RF64 = Rf64()
