"""What full-text search matches of a file: six text columns, the same for every backend.

Both backends index these strings, so a query finds the same files in SQLite and
in PostgreSQL. Chinese, Japanese and Korean text is split into characters here,
as the query parser splits it (see query.cjk_split).
"""

from __future__ import annotations

import os
import re

from sidecar.index.query import cjk_split
from sidecar.metadata.record import Record

#: in the order of the full-text index's columns
TEXT_COLUMNS = ("t_description", "t_keywords", "t_labels", "t_category", "t_name", "t_path")

# "DOORWood" -> "DOOR Wood", "carDoor" -> "car Door": UCS names and camelCase become words
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def name_words(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    words = re.sub(r"[_\-.]+", " ", stem)
    split = _CAMEL.sub(" ", words)
    return words if split == words else f"{words} {split}"


def path_words(path: str) -> str:
    parent = os.path.dirname(path)
    return re.sub(r"[/\\_\-.]+", " ", parent).strip()


def text_columns(path: str, rec: Record) -> dict[str, str]:
    """The full-text columns of a file: what search matches, CJK split into characters."""
    text = {
        "t_description": " ".join(x for x in (rec.Description, rec.FXName, rec.TrackTitle,
                                               rec.Notes, rec.UserComments) if x),
        "t_keywords": " ; ".join(rec.Keywords),
        "t_labels": " ; ".join(l.label for l in rec.provenance.labels),
        "t_category": " ".join(x for x in (rec.CatID, rec.Category, rec.SubCategory) if x),
        "t_name": name_words(path),
        "t_path": path_words(path),
    }
    return {k: cjk_split(v) for k, v in text.items()}
