"""Sidecar files on disk: where they live, atomic writes that keep a person's edits, safe reads."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

from lxml import etree

from sidecar.errors import ConfigError, ContainerError
from sidecar.metadata.record import Record
from sidecar.metadata.safe_write import NAME_MAX, ChangedMeanwhile, Snapshot, fit_name, write_atomic
from sidecar.metadata.safe_xml import XMLDocumentError, parse_xml_bytes, read_limited

from ._document import Identity, build_element, parse_element, q
from ._schema import SIDECAR_NS, SIDECAR_SCHEMA, SidecarDocumentError, check_schema

#: Per-window labels of a three-hour file take well under 1 MiB; anything near this is not ours.
MAX_SIDECAR_BYTES = 16 * 1024 * 1024
SUFFIX = ".xml"
SHORT_MARK = "~"        # before the digest in the sidecar name of an over-long sound name
SHORT_DIGEST = 12

Mirror = tuple[str | os.PathLike[str], str | os.PathLike[str]]


def sidecar_name(audio_name: str) -> str:
    """`door.wav` -> `door.wav.xml`; a name too long for that (past NAME_MAX bytes) is cut and
    given a digest of the whole name, `<start of the name>~<digest>.xml`, the same every time."""
    name = audio_name + SUFFIX
    if len(os.fsencode(name)) <= NAME_MAX:
        return name
    digest = hashlib.sha256(os.fsencode(audio_name)).hexdigest()[:SHORT_DIGEST]
    tail = f"{SHORT_MARK}{digest}{SUFFIX}"
    return fit_name(audio_name, NAME_MAX - len(tail)) + tail


def is_shortened(sidecar_file_name: str) -> bool:
    """A sidecar name made by sidecar_name for an over-long sound name."""
    stem = sidecar_file_name[: -len(SUFFIX)]
    mark = stem.rfind(SHORT_MARK)
    return (sidecar_file_name.endswith(SUFFIX) and mark >= 0 and len(stem) - mark - 1 == SHORT_DIGEST
            and all(c in "0123456789abcdef" for c in stem[mark + 1:])
            and len(os.fsencode(sidecar_file_name)) >= NAME_MAX - 3)


def is_sidecar_name(name: str) -> bool:
    """`door.wav.xml`, or the shortened sidecar name of an over-long sound name."""
    from sidecar.formats import AUDIO_EXTENSIONS
    return name.lower().endswith(SUFFIX) and (
        os.path.splitext(name[: -len(SUFFIX)])[1].lower() in AUDIO_EXTENSIONS or is_shortened(name))


def sidecar_path(audio_path: str | os.PathLike[str], mirror: Mirror | None = None) -> Path:
    """`door.wav` -> `door.wav.xml` beside it, or at the same relative path under the mirror root."""
    audio = Path(os.path.abspath(audio_path))
    if mirror is None:
        return audio.with_name(sidecar_name(audio.name))
    root, mirror_root = (Path(os.path.abspath(p)) for p in mirror)
    try:
        relative = audio.relative_to(root)
    except ValueError as exc:
        raise ConfigError(f"{audio}: not under the library root {root} that the mirror {mirror_root} serves") from exc
    return (mirror_root / relative).with_name(sidecar_name(audio.name))


def render(record: Record, identity: Identity, *, human: Iterable[str] = ()) -> bytes:
    """The UTF-8 sidecar document for one sound; it always validates against the published schema."""
    root = build_element(record, identity, human)
    etree.indent(root, space="  ")
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", xml_declaration=False) + b"\n"
    check_schema(root, SIDECAR_SCHEMA, identity.path or identity.name)
    return data


def _check_root(root: etree._Element, what: str) -> None:
    tag = etree.QName(root)
    if tag.localname != "SFXSidecar":
        raise SidecarDocumentError(what, f"root element is <{tag.localname}>, not <SFXSidecar>: not a sidecar document")
    if tag.namespace != SIDECAR_NS:
        raise SidecarDocumentError(what, f"<SFXSidecar> is in namespace {tag.namespace or '(none)'!s}, "
                                         f"expected {SIDECAR_NS}")
    version = root.get("version", "")
    if version.split(".")[0] != "1":
        raise SidecarDocumentError(what, f"sidecar version {version or '(missing)'} is not supported "
                                         "(this program reads 1.x)")


def _load(data: bytes, what: str) -> etree._Element:
    root = parse_xml_bytes(data, max_bytes=MAX_SIDECAR_BYTES, what=what)
    _check_root(root, what)
    check_schema(root, SIDECAR_SCHEMA, what)
    return root


def validate(doc_bytes: bytes, *, what: str = "sidecar document") -> None:
    """Raise a ContainerError subclass saying why, unless doc_bytes is a valid sidecar document."""
    _load(doc_bytes, what)


def read_bytes(data: bytes, what: str) -> tuple[Record, Identity, set[str]]:
    return parse_element(_load(data, what), what)


def read(sidecar_file: str | os.PathLike[str]) -> tuple[Record, Identity, set[str]]:
    """The record, identity and human-made field names of one sidecar file."""
    what = str(sidecar_file)
    return read_bytes(read_limited(sidecar_file, MAX_SIDECAR_BYTES), what)


def keep_human_edits(record: Record, existing: Record, human: set[str]) -> Record:
    """A copy of record where every human-made field takes the person's value and loses its machine mark."""
    merged = Record.from_dict(record.to_dict())
    for name in human:
        value = getattr(existing, name)
        setattr(merged, name, list(value) if isinstance(value, list) else value)
    merged.provenance.machine_fields = [n for n in merged.provenance.machine_fields if n not in human]
    return merged


#: how often a sidecar rewrite starts again when a person saves the file while it runs
REWRITE_ATTEMPTS = 3


def write(audio_path: str | os.PathLike[str], record: Record, identity: Identity, *,
          mirror: Mirror | None = None, human: Iterable[str] = ()) -> Path:
    """Write the sidecar of audio_path atomically and return its path.

    A field a person edited in the existing sidecar keeps the person's value.
    An existing sidecar that cannot be read is left untouched and its error
    raised: it may hold edits that only a person can repair. An edit saved
    between the read and the rename is never replaced: the rewrite starts again
    from the person's version, and gives up (keeping it) after a few tries.
    """
    target = sidecar_path(audio_path, mirror)
    for _ in range(REWRITE_ATTEMPTS):
        try:
            before, old = Snapshot.read(target, MAX_SIDECAR_BYTES)
        except OSError as exc:
            raise ContainerError(f"{target}: cannot read sidecar ({exc.strerror or exc})") from exc
        merged, human_set = record, set(human)
        if old is not None:
            existing, _, existing_human = read_bytes(old, str(target))
            merged = keep_human_edits(record, existing, existing_human - human_set)
            human_set |= existing_human
        try:
            atomic_write(target, render(merged, identity, human=human_set), expect=before)
            return target
        except ChangedMeanwhile:
            continue
    raise ContainerError(f"{target}: changed while it was being rewritten, {REWRITE_ATTEMPTS} times; "
                         f"the version on disk is kept")


def atomic_write(target: Path, data: bytes, expect: Snapshot | None = None) -> None:
    """The project's atomic replace (temporary file beside it, fsync, rename), as a ContainerError.

    expect: what the target held when it was read; ChangedMeanwhile when it no longer does.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data, expect)
    except ChangedMeanwhile:
        raise
    except OSError as exc:
        raise ContainerError(f"{target}: cannot write sidecar ({exc.strerror or exc})") from exc


def human_fields_reason(path: str) -> str | None:
    """At undo of a sidecar the service created: words on the fields a person made in it.

    The journal decides by the bytes the service last wrote and adds these words to the
    reason it keeps a changed sidecar. Only for an entry without recorded bytes (a journal
    of an older version) do they decide alone: fields marked human may come from the
    sound's own tags, so they tell less than the bytes.
    """
    _record, _identity, human = read(path)
    if human:
        return f"human-made fields in it: {', '.join(sorted(human))}"
    return None


__all__ = [
    "MAX_SIDECAR_BYTES", "human_fields_reason", "Identity", "SidecarDocumentError", "XMLDocumentError", "atomic_write",
    "is_shortened", "is_sidecar_name", "keep_human_edits", "q", "read", "read_bytes", "render", "sidecar_name", "sidecar_path",
    "validate", "write",
]
