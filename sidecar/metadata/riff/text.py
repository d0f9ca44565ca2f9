"""Text the chunks can hold: no control characters, no lone surrogates.

XML 1.0 forbids them in iXML, and a control byte in bext makes the chunk invalid,
so they are dropped from every value before it is written.
"""

from __future__ import annotations

import copy
import re

from ..record import TEXT_FIELDS, Record

_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    return _UNWRITABLE.sub("", text)


def cleaned(record: Record) -> Record:
    """A copy of the record with every text field writable."""
    rec = copy.deepcopy(record)
    for name in TEXT_FIELDS:
        setattr(rec, name, clean(getattr(rec, name) or ""))
    rec.Keywords = [w for w in (clean(k).strip() for k in rec.Keywords) if w]
    return rec
