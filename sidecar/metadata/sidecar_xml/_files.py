"""Sidecar files on disk: where they live, atomic writes that keep a person's edits, safe reads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from lxml import etree

from sidecar.errors import ConfigError, ContainerError
from sidecar.metadata.record import Record
from sidecar.metadata.safe_write import write_atomic
from sidecar.metadata.safe_xml import XMLDocumentError, parse_xml_bytes, read_limited

from ._document import Identity, build_element, parse_element, q
from ._schema import SIDECAR_NS, SIDECAR_SCHEMA, SidecarDocumentError, check_schema

#: Per-window labels of a three-hour file take well under 1 MiB; anything near this is not ours.
MAX_SIDECAR_BYTES = 16 * 1024 * 1024
SUFFIX = ".xml"

Mirror = tuple[str | os.PathLike[str], str | os.PathLike[str]]


def sidecar_path(audio_path: str | os.PathLike[str], mirror: Mirror | None = None) -> Path:
    """`door.wav` -> `door.wav.xml` beside it, or at the same relative path under the mirror root."""
    audio = Path(os.path.abspath(audio_path))
    if mirror is None:
        return audio.with_name(audio.name + SUFFIX)
    root, mirror_root = (Path(os.path.abspath(p)) for p in mirror)
    try:
        relative = audio.relative_to(root)
    except ValueError as exc:
        raise ConfigError(f"{audio}: not under the library root {root} that the mirror {mirror_root} serves") from exc
    return (mirror_root / relative).with_name(audio.name + SUFFIX)


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


def write(audio_path: str | os.PathLike[str], record: Record, identity: Identity, *,
          mirror: Mirror | None = None, human: Iterable[str] = ()) -> Path:
    """Write the sidecar of audio_path atomically and return its path.

    A field a person edited in the existing sidecar keeps the person's value.
    An existing sidecar that cannot be read is left untouched and its error
    raised: it may hold edits that only a person can repair.
    """
    target = sidecar_path(audio_path, mirror)
    human_set = set(human)
    if os.path.lexists(target):
        existing, _, existing_human = read(target)
        record = keep_human_edits(record, existing, existing_human - human_set)
        human_set |= existing_human
    data = render(record, identity, human=human_set)
    atomic_write(target, data)
    return target


def atomic_write(target: Path, data: bytes) -> None:
    """The project's atomic replace (temporary file beside it, fsync, rename), as a ContainerError."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
    except OSError as exc:
        raise ContainerError(f"{target}: cannot write sidecar ({exc.strerror or exc})") from exc


__all__ = [
    "MAX_SIDECAR_BYTES", "Identity", "SidecarDocumentError", "XMLDocumentError", "atomic_write",
    "keep_human_edits", "q", "read", "read_bytes", "render", "sidecar_path", "validate", "write",
]
