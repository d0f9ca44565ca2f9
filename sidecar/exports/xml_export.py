"""XML export: one document for a whole collection, valid against schemas/collection-1.0.xsd.

Each sound is one SFXSidecar element exactly as in its sidecar document, so a
script that reads sidecars reads collections too. Elements are streamed, so a
large collection never sits in memory as one tree.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any, BinaryIO

from lxml import etree

import sidecar
from sidecar.metadata.safe_xml import XMLDocumentError, parse_xml_bytes
from sidecar.metadata.sidecar_xml import Identity, SIDECAR_SCHEMA, build_element, check_schema

COLLECTION_NS = "urn:sfx-sidecar:collection:1"
COLLECTION_SCHEMA = "collection-1.0.xsd"
COLLECTION_VERSION = "1.0"
#: A collection of a million sounds runs to a few GiB; validation of a whole file is for tests and checks.
MAX_COLLECTION_BYTES = 1 << 30


class CollectionError(XMLDocumentError):
    """A collection document that does not match its schema."""


def _element(item: Any) -> etree._Element:
    identity = Identity(name=os.path.basename(item.path), size=item.size,
                        fingerprint=item.fingerprint, path=item.path)
    elem = build_element(item.record, identity, human=item.human_fields)
    check_schema(elem, SIDECAR_SCHEMA, item.path)
    return elem


def write_collection(items: Sequence[Any], out: BinaryIO, *, query: str | None = None) -> int:
    """Write one collection document (UTF-8) for items to a binary stream; return the count."""
    attrs = {"version": COLLECTION_VERSION, "count": str(len(items)),
             "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "generator": f"SFX Sidecar {sidecar.__version__}"}
    if query:
        attrs["query"] = query
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        with xf.element(f"{{{COLLECTION_NS}}}SFXCollection", attrs, nsmap={None: COLLECTION_NS}):
            xf.write("\n")
            for item in items:
                elem = _element(item)
                etree.indent(elem, space="  ", level=1)
                xf.write("  ", elem, "\n")
    out.write(b"\n")
    return len(items)


def validate_collection(data: bytes, *, what: str = "collection document") -> None:
    """Raise CollectionError (or XMLDocumentError) saying why, unless data is a valid collection."""
    root = parse_xml_bytes(data, max_bytes=MAX_COLLECTION_BYTES, what=what)
    if etree.QName(root).text != f"{{{COLLECTION_NS}}}SFXCollection":
        raise CollectionError(what, f"root element is <{etree.QName(root).localname}>, not <SFXCollection>")
    check_schema(root, COLLECTION_SCHEMA, what, error=CollectionError)
