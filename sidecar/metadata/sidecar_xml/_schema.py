"""The published schemas and validation against them."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from lxml import etree

from sidecar.errors import ContainerError
from sidecar.metadata.safe_xml import XMLDocumentError

#: The repository's schemas/ folder, which the project publishes.
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"

SIDECAR_NS = "urn:sfx-sidecar:sidecar:1"
SIDECAR_SCHEMA = "sidecar-1.0.xsd"
FORMAT_VERSION = "1.0"


#: libxml2 schema objects are not safe to build or use from several threads at once
#: (scan workers write sidecars concurrently): one lock guards both.
_SCHEMA_LOCK = threading.Lock()


class SidecarDocumentError(XMLDocumentError):
    """A sidecar document that is not one the project can read (wrong root, version or structure)."""


@lru_cache(maxsize=None)
def load_schema(name: str) -> etree.XMLSchema:
    """The compiled schema `name` from SCHEMA_DIR (local files only; imports resolve beside it)."""
    path = SCHEMA_DIR / name
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.XMLSchema(etree.parse(str(path), parser))
    except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise ContainerError(f"schema {path} cannot be loaded: {exc}") from exc


def check_schema(root: etree._Element, schema_name: str, what: str,
                 error: type[XMLDocumentError] = SidecarDocumentError) -> None:
    """Raise `error` naming `what` and the first violation when root does not match the schema."""
    with _SCHEMA_LOCK:
        schema = load_schema(schema_name)
        if schema.validate(root):
            return
        first = schema.error_log[0] if len(schema.error_log) else None
    if first is None:
        raise error(what, f"does not match schema {schema_name}")
    message = first.message
    for ns in (SIDECAR_NS, "urn:sfx-sidecar:collection:1"):
        message = message.replace("{%s}" % ns, "")
    raise error(what, f"does not match schema {schema_name} (line {first.line}: {message})")
