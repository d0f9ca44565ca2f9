"""Exports of the index for library managers: a CSV table and one XML document per collection.

Both take indexed files (anything with path, size, fingerprint, record and
human_fields, such as sidecar.index.store.IndexedFile) and never touch the store.
"""

from __future__ import annotations

from .csv_export import COLUMNS, row_cells, write_csv
from .xml_export import COLLECTION_NS, COLLECTION_SCHEMA, CollectionError, validate_collection, write_collection

__all__ = ["COLLECTION_NS", "COLLECTION_SCHEMA", "COLUMNS", "CollectionError", "row_cells",
           "validate_collection", "write_collection", "write_csv"]
