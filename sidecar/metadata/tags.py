"""Embedded tags through mutagen: ID3v2.4 (MP3, WAV, AIFF), Vorbis comments (FLAC, Ogg,
Opus) and MP4 atoms (M4A). One table per tag family maps the canonical fields; each format
(sidecar/formats) names its family and the mutagen class that opens it.

Every canonical field is stored under its own name (TXXX, a Vorbis field, an
MP4 freeform atom) so a round trip is exact; the common fields are mirrored
into the standard frames players and library managers show.
"""

from __future__ import annotations

import io
import json

from collections.abc import Callable
from dataclasses import dataclass, field

import mutagen
from mutagen.id3 import COMM, ID3, TXXX, Frames
from mutagen.mp4 import MP4FreeForm

from sidecar.errors import ContainerError
from sidecar.metadata.genre import GENRE_SLOTS, genre_owner
from sidecar.metadata.merge import OWN_ALL, Ownership
from sidecar.metadata.record import (
    DESCRIPTIVE_FIELDS, Provenance, Record, join_keywords, split_keywords,
)

PROVENANCE_KEY = "SFX_SIDECAR"

#: standard frames shown by players and library managers (canonical -> frame)
ID3_STANDARD = {"TrackTitle": "TIT2", "Designer": "TPE1", "Library": "TALB",
                "Manufacturer": "TPUB", "Category": "TCON", "FXName": "TIT3"}
VORBIS_STANDARD = {"TrackTitle": "TITLE", "Designer": "ARTIST", "Library": "ALBUM",
                   "Manufacturer": "ORGANIZATION", "Category": "GENRE", "Description": "DESCRIPTION"}
MP4_STANDARD = {"TrackTitle": "\xa9nam", "Designer": "\xa9ART", "Library": "\xa9alb",
                "Category": "\xa9gen", "Description": "desc", "Notes": "\xa9cmt"}
MP4_FREEFORM = "----:com.sfxsidecar:"

class TagError(ContainerError):
    """Embedded tags that cannot be read or written."""


def _value(record: Record, name: str) -> str:
    value = getattr(record, name)
    return join_keywords(value) if isinstance(value, list) else (value or "")


def _set(record: Record, name: str, text: str) -> None:
    if not text:
        return
    if name == "Keywords":
        record.Keywords = split_keywords(text)
    else:
        setattr(record, name, text)


def _provenance_json(record: Record) -> str:
    from dataclasses import asdict
    return json.dumps(asdict(record.provenance), ensure_ascii=False, separators=(",", ":"))


# -- ID3 -----------------------------------------------------------------------
def _id3_text(tags: ID3, key: str) -> str:
    return "; ".join(str(t) for frame in tags.getall(key) for t in getattr(frame, "text", []) if str(t).strip())


def _put(owner: Ownership, name: str, held: str, text: str, replace_with) -> None:
    """Write one tag: a held value stays unless owner allows; keywords are merged, not replaced."""
    if name == "Keywords":
        text = join_keywords(owner.keywords(held, split_keywords(text)))
    elif held and not owner.may_replace(name, held):
        return
    if text != held:
        replace_with(text)


def id3_from_record(record: Record, tags: ID3 | None = None, owner: Ownership = OWN_ALL,
                    genre: bool = True) -> ID3:
    """The record in ID3v2.4 frames, added to existing tags; a frame another tool or a person
    filled stays unless owner allows (see merge.Ownership). genre: TCON may get the Category."""
    tags = tags if tags is not None else ID3()

    def replacer(key: str, make):
        def put(text: str) -> None:
            tags.delall(key)
            if text:
                tags.add(make(text))
        return put

    for name in DESCRIPTIVE_FIELDS:
        text = _value(record, name)
        _put(owner, name, _id3_text(tags, f"TXXX:{name}"), text,
             replacer(f"TXXX:{name}", lambda t, n=name: TXXX(encoding=3, desc=n, text=[t])))
        frame = ID3_STANDARD.get(name)
        if frame and (genre or frame not in GENRE_SLOTS):
            _put(genre_owner(owner) if frame in GENRE_SLOTS else owner, name, _id3_text(tags, frame), text,
                 replacer(frame, lambda t, f=frame: Frames[f](encoding=3, text=[t])))
    _put(owner, "Description", _id3_text(tags, "COMM::eng"), record.Description,
         replacer("COMM::eng", lambda t: COMM(encoding=3, lang="eng", desc="", text=[t])))
    tags.delall(f"TXXX:{PROVENANCE_KEY}")
    if not record.provenance.is_empty():
        tags.add(TXXX(encoding=3, desc=PROVENANCE_KEY, text=[_provenance_json(record)]))
    return tags


def id3_bytes(record: Record, existing: ID3 | None = None, owner: Ownership = OWN_ALL,
              genre: bool = True) -> bytes:
    """A complete ID3v2.4 tag, for containers that hold one in a chunk (RIFF `id3 `)."""
    # a tag mutagen read from a WAV or AIFF saves only into such a file: copy its frames
    fresh = ID3()
    for frame in (existing.values() if existing is not None else []):
        fresh.add(frame)
    tags = id3_from_record(record, fresh, owner, genre)
    data = b""
    for pad in (0, 1):
        buf = io.BytesIO()
        tags.save(buf, v2_version=4, padding=lambda info: pad)
        data = buf.getvalue()
        # an even size: libsndfile's RF64 reader skips an odd chunk without its pad byte
        if len(data) % 2 == 0:
            break
    return data


def record_from_id3(tags: ID3) -> Record:
    rec = Record()
    for name in DESCRIPTIVE_FIELDS:
        frames = tags.getall(f"TXXX:{name}")
        if frames:
            _set(rec, name, str(frames[0].text[0]) if frames[0].text else "")
    for name, frame in ID3_STANDARD.items():
        if rec.is_empty(name) and frame not in GENRE_SLOTS and tags.getall(frame):
            _set(rec, name, str(tags.getall(frame)[0].text[0]))
    if rec.is_empty("Description"):
        for comm in tags.getall("COMM"):
            if comm.text and not comm.desc:
                _set(rec, "Description", str(comm.text[0]))
                break
    prov = tags.getall(f"TXXX:{PROVENANCE_KEY}")
    if prov:
        rec.provenance = _parse_provenance(str(prov[0].text[0]))
    return rec


# -- Vorbis comments -------------------------------------------------------------
def _vorbis_key(name: str) -> str:
    return name.upper()


def write_vorbis(tags, record: Record, owner: Ownership = OWN_ALL) -> None:
    for name in DESCRIPTIVE_FIELDS:
        text = _value(record, name)
        for key in {_vorbis_key(name), VORBIS_STANDARD.get(name, _vorbis_key(name))}:
            held = "; ".join(v for v in (tags[key] if key in tags else []) if v.strip())

            def put(value: str, key=key) -> None:
                if key in tags:
                    del tags[key]
                if value:
                    tags[key] = [value]
            _put(genre_owner(owner) if key in GENRE_SLOTS else owner, name, held, text, put)
    if PROVENANCE_KEY in tags:
        del tags[PROVENANCE_KEY]
    if not record.provenance.is_empty():
        tags[PROVENANCE_KEY] = [_provenance_json(record)]


def record_from_vorbis(tags) -> Record:
    rec = Record()
    for name in DESCRIPTIVE_FIELDS:
        for key in (_vorbis_key(name), VORBIS_STANDARD.get(name)):
            if key and key not in GENRE_SLOTS and key in tags and tags[key]:
                _set(rec, name, tags[key][0])
                break
    if PROVENANCE_KEY in tags and tags[PROVENANCE_KEY]:
        rec.provenance = _parse_provenance(tags[PROVENANCE_KEY][0])
    return rec


# -- MP4 -------------------------------------------------------------------------
def write_mp4(tags, record: Record, owner: Ownership = OWN_ALL) -> None:
    for name in DESCRIPTIVE_FIELDS:
        text = _value(record, name)
        key = MP4_FREEFORM + name
        held = "; ".join(bytes(v).decode("utf-8", "replace") for v in tags.get(key, []))

        def put_freeform(value: str, key=key) -> None:
            if key in tags:
                del tags[key]
            if value:
                tags[key] = [MP4FreeForm(value.encode("utf-8"))]
        _put(owner, name, held, text, put_freeform)
        atom = MP4_STANDARD.get(name)
        if atom:
            def put_atom(value: str, atom=atom) -> None:
                if atom in tags:
                    del tags[atom]
                if value:
                    tags[atom] = [value]
            _put(genre_owner(owner) if atom in GENRE_SLOTS else owner, name,
                 "; ".join(str(v) for v in tags.get(atom, [])), text, put_atom)
    key = MP4_FREEFORM + PROVENANCE_KEY
    if key in tags:
        del tags[key]
    if not record.provenance.is_empty():
        tags[key] = [MP4FreeForm(_provenance_json(record).encode("utf-8"))]


def record_from_mp4(tags) -> Record:
    rec = Record()
    for name in DESCRIPTIVE_FIELDS:
        key = MP4_FREEFORM + name
        if key in tags and tags[key]:
            _set(rec, name, bytes(tags[key][0]).decode("utf-8", "replace"))
        elif MP4_STANDARD.get(name) not in GENRE_SLOTS and MP4_STANDARD.get(name) in tags \
                and tags[MP4_STANDARD[name]]:
            _set(rec, name, str(tags[MP4_STANDARD[name]][0]))
    key = MP4_FREEFORM + PROVENANCE_KEY
    if key in tags and tags[key]:
        rec.provenance = _parse_provenance(bytes(tags[key][0]).decode("utf-8", "replace"))
    return rec


def _parse_provenance(text: str) -> Provenance:
    try:
        return Provenance.from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError):
        return Provenance()


# -- the file-level interface -------------------------------------------------------
@dataclass(frozen=True)
class TagFamily:
    """One way of storing the canonical fields in a file's tags (ID3, Vorbis comments, MP4 atoms)."""

    name: str
    to_record: Callable[[object], Record]
    from_record: Callable[[object, Record, Ownership], object]
    save: dict = field(default_factory=dict)       # mutagen's save() arguments for the family


ID3_TAGS = TagFamily("id3", record_from_id3, lambda tags, record, owner: id3_from_record(record, tags, owner),
                     {"v2_version": 4})
VORBIS_TAGS = TagFamily("vorbis", record_from_vorbis, write_vorbis)
MP4_TAGS = TagFamily("mp4", record_from_mp4, write_mp4)


def _open(path: str, opener):
    try:
        return opener(path)
    except mutagen.MutagenError as exc:
        raise TagError(f"cannot read tags: {exc}") from exc


def read(path: str, opener, family: TagFamily) -> Record:
    """The record carried by the file's embedded tags (empty fields when it has none).
    opener: the mutagen class of the container."""
    f = _open(path, opener)
    return Record() if f.tags is None else family.to_record(f.tags)


def write(path: str, opener, family: TagFamily, record: Record, owner: Ownership = OWN_ALL) -> None:
    """Write the record into the file's tags in place; callers hand in a temporary copy.

    owner: which values already in the tags the service may replace (see merge.Ownership).
    """
    f = _open(path, opener)
    try:
        if f.tags is None:
            f.add_tags()
        family.from_record(f.tags, record, owner)
        f.save(**family.save)
    except mutagen.MutagenError as exc:
        raise TagError(f"cannot write tags: {exc}") from exc


def id3_in_chunk(path: str, chunks: list[tuple[str, int, int]]) -> ID3 | None:
    """The ID3 tag held in an `id3 ` chunk, given the file's (id, offset, size) chunks (RF64:
    mutagen does not open it, the RIFF walker lists them)."""
    for cid, offset, size in chunks:
        if cid.strip().lower() == "id3":
            with open(path, "rb") as f:
                f.seek(offset + 8)
                data = f.read(size)
            try:
                return ID3(io.BytesIO(data))
            except mutagen.MutagenError:
                return None
    return None


def existing_id3(path: str, opener) -> ID3 | None:
    """The ID3 tag a WAV or AIFF file already holds, so ours is added to it rather than replacing it."""
    try:
        return opener(path).tags
    except mutagen.MutagenError:
        return None
