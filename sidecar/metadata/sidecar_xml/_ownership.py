"""Who owns a field: the machine marks what it wrote with a digest of the value.

A field is machine-made only while it carries source="machine" and a digest
equal to the digest of its current value. A person who edits, clears or marks
a field source="human" owns it from then on; a value with no mark at all is a
person's (or a vendor's) too, and a classifier never overwrites it.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any

MACHINE = "machine"
HUMAN = "human"


def digest(value: Any) -> str:
    """A short digest of a field value, blind to Unicode normalisation and line-ending changes.

    Editors re-save text in NFC and with their own line endings; neither is an edit.
    """
    if isinstance(value, list):
        canonical: Any = [_normalise(v) for v in value]
    else:
        canonical = _normalise(value)
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value


def is_machine(source: str | None, mark: str | None, value: Any) -> bool:
    return source == MACHINE and mark is not None and mark == digest(value)


def is_human(source: str | None, mark: str | None, value: Any) -> bool:
    if source == HUMAN:
        return True
    if source == MACHINE:
        return not is_machine(source, mark, value)  # edited or cleared after the machine wrote it
    return bool(value)
