"""The one hardened XML parser of the project.

Every XML document the project reads from a library (sidecars, iXML chunks,
anything a person or a vendor wrote) comes through `parse_xml_bytes`. It
expands no entities, loads no DTD, touches no network or file, refuses any
DOCTYPE, and checks a size limit before the parser sees a byte, so a hostile
document costs one clear error and never a hang or a leak.
"""

from __future__ import annotations

import os
from pathlib import Path

from lxml import etree

from sidecar.errors import ContainerError

__all__ = ["XMLDocumentError", "parse_xml_bytes", "read_limited", "safe_parser"]

# A DOCTYPE is the door to entity bombs and external entities; no document the
# project reads needs one. Checked on the raw bytes (UTF-8, UTF-16) and again
# on the parsed tree, for encodings the byte scan cannot see.
_DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be"))


class XMLDocumentError(ContainerError):
    """An XML document that is too large, hostile or malformed; str() names it and says why."""

    def __init__(self, what: str, reason: str):
        super().__init__(what, reason)
        self.what = str(what)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.what}: {self.reason}"


class _RefuseResolver(etree.Resolver):
    """Refuses every external resource, whatever the parser options say."""

    def resolve(self, system_url, public_id, context):
        raise etree.XMLSyntaxError(f"external resource refused: {system_url}", None, 0, 0)


def safe_parser() -> etree.XMLParser:
    """A fresh parser with every dangerous feature off (parsers are not thread-safe; never share one)."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        collect_ids=False,
    )
    parser.resolvers.add(_RefuseResolver())
    return parser


def parse_xml_bytes(data: bytes, *, max_bytes: int, what: str) -> etree._Element:
    """Parse one document and return its root element, or raise XMLDocumentError naming `what`."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("parse_xml_bytes takes bytes, so that the document's own encoding is honoured")
    data = bytes(data)
    if len(data) > max_bytes:
        raise XMLDocumentError(what, f"document is {len(data)} bytes, more than the limit of {max_bytes}")
    if not data.strip():
        raise XMLDocumentError(what, "document is empty")
    if any(marker in data for marker in _DOCTYPE_MARKERS):
        raise XMLDocumentError(what, "document has a DOCTYPE declaration (DTDs and entities are refused)")
    parser = safe_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise XMLDocumentError(what, f"not well-formed XML ({_syntax_reason(exc)})") from exc
    except (ValueError, etree.LxmlError) as exc:
        raise XMLDocumentError(what, f"not readable as XML ({exc})") from exc
    if root is None:
        raise XMLDocumentError(what, "document has no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XMLDocumentError(what, "document has a DOCTYPE declaration (DTDs and entities are refused)")
    for node in root.iter(etree.Entity):
        raise XMLDocumentError(what, f"document uses an entity reference ({node.text}), which is refused")
    return root


def read_limited(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """Read a whole file, refusing one larger than max_bytes before reading it."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise XMLDocumentError(str(path), f"file is {size} bytes, more than the limit of {max_bytes}")
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise XMLDocumentError(str(path), f"cannot be read ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:  # the file grew while being read
        raise XMLDocumentError(str(path), f"file is more than the limit of {max_bytes} bytes")
    return data


def _syntax_reason(exc: etree.XMLSyntaxError) -> str:
    msg = (exc.msg or str(exc)).strip()
    # lxml repeats the position at the end of its message; say it once.
    cut = msg.rfind(", line ")
    if cut > 0:
        msg = msg[:cut]
    line, column = exc.position if exc.position else (exc.lineno, 0)
    return f"line {line}, column {column}: {msg}" if line else msg
