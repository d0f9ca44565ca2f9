"""CSV export: one row per file, file name and path first, Soundminer/UCS column names.

Quoting is csv.QUOTE_MINIMAL with CRLF line ends (RFC 4180), which Excel,
LibreOffice, Numbers, Soundminer and Python's csv module all read; a cell with
a comma, quote or line break is quoted. The text is UTF-8; the byte-order
mark that Excel needs to recognise UTF-8 is the caller's choice (`bom`).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from typing import Any, TextIO

from sidecar.metadata.record import DESCRIPTIVE_FIELDS, TECHNICAL_FIELDS, join_keywords
from sidecar.metadata.sidecar_xml import format_double

#: Filename and Pathname (the full path) first, then the record, then identity and provenance.
COLUMNS: tuple[str, ...] = (
    ("Filename", "Pathname") + DESCRIPTIVE_FIELDS + TECHNICAL_FIELDS
    + ("FileSize", "Fingerprint", "Engine", "Model", "Labels", "QualityFlags", "HumanFields")
)
_INT_FIELDS = frozenset({"SampleRate", "BitDepth", "Channels"})


def _number(name: str, value: Any) -> str:
    if value is None:
        return ""
    return str(int(value)) if name in _INT_FIELDS else format_double(value)


def row_cells(item: Any) -> list[str]:
    """The cells of one file's row, in COLUMNS order (all text; unknown numbers are empty)."""
    rec = item.record
    cells = [os.path.basename(item.path), item.path]
    for name in DESCRIPTIVE_FIELDS:
        value = getattr(rec, name)
        cells.append(join_keywords(value) if isinstance(value, list) else value)
    cells += [_number(name, getattr(rec, name)) for name in TECHNICAL_FIELDS]
    labels = "; ".join(f"{label.label} ({format_double(round(label.probability, 4))})"
                       for label in rec.provenance.labels)
    flags = "; ".join(flag.label for flag in rec.provenance.quality)
    cells += [str(item.size), item.fingerprint, rec.provenance.engine, rec.provenance.model, labels, flags,
              ", ".join(item.human_fields)]
    return cells


def write_csv(items: Iterable[Any], out: TextIO, *, bom: bool = False) -> int:
    """Write the header and one row per item to a text stream opened with newline=''; return the row count."""
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for item in items:
        writer.writerow(row_cells(item))
        count += 1
    return count
