"""The sidecar XML document: the canonical record beside each sound, valid against schemas/sidecar-1.0.xsd.

`render` builds a document, `write` puts it beside the sound (or under a
mirror root) atomically while keeping every field a person edited, `read`
returns the record, the sound's identity and the names of human-made fields,
and `validate` checks any bytes against the published schema.
"""

from __future__ import annotations

from ._document import Identity, build_element, format_double, parse_element
from ._files import (
    MAX_SIDECAR_BYTES, atomic_write, human_fields_reason, is_shortened, is_sidecar_name, keep_human_edits, read, read_bytes,
    render, sidecar_name, sidecar_path, validate, write,
)
from ._schema import (
    FORMAT_VERSION, SCHEMA_DIR, SIDECAR_NS, SIDECAR_SCHEMA, SidecarDocumentError, check_schema,
    load_schema,
)

__all__ = [
    "FORMAT_VERSION", "Identity", "MAX_SIDECAR_BYTES", "SCHEMA_DIR", "SIDECAR_NS", "SIDECAR_SCHEMA",
    "SidecarDocumentError", "atomic_write", "build_element", "check_schema", "format_double", "human_fields_reason", "keep_human_edits",
    "load_schema", "parse_element", "read", "read_bytes", "render", "sidecar_path", "validate", "write",
    "is_shortened", "is_sidecar_name", "sidecar_name",
]
