"""A file's own words, as one text for the text model: what a person (or the service) wrote
about it, its file name split into words, and what its UCS category means."""

from __future__ import annotations

import hashlib
import os
import re

from sidecar.metadata.record import Record
from sidecar.vocabulary import tables

#: what file_words() reads; a new value makes every file's words be looked at once more (only
#: those whose text changed are encoded again). 2: quality-flag keywords left out
WORDS_RULES = "2"

# "DOORWood_Creak-01" -> "DOOR Wood Creak 01": UCS names and camelCase become words
_SEPARATORS = re.compile(r"[_\-.+]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_DIGITS_ONLY = re.compile(r"^\d+$")


def name_words(path: str) -> str:
    """The file name without extension as words; bare numbers (take numbers, 001) dropped."""
    stem = os.path.splitext(os.path.basename(path))[0]
    words = _CAMEL.sub(" ", _SEPARATORS.sub(" ", stem)).split()
    return " ".join(w for w in words if not _DIGITS_ONLY.match(w))


def category_words(catid: str, ucs_list=None) -> str:
    """The CatID's Category and SubCategory names, and the official list's explanation and
    synonyms when one was imported (`sidecar ucs import`)."""
    if not catid:
        return ""
    base = catid.partition("-")[0]
    parts = []
    info = tables.catids().get(base)
    if info:
        parts.append(f"{info.Category} {info.SubCategory}".lower())
    if ucs_list:
        parts += [ucs_list.explain(base), ", ".join(ucs_list.synonyms(base))]
    return ". ".join(p for p in parts if p)


def file_words(path: str, rec: Record, ucs_list=None) -> str:
    """Description, Keywords, FXName, the file name's words and the category's meaning; "" when
    the file has none of them (it is then found by what was heard only). The keywords of the
    quality flags measured in it (clipping, dc offset) are left out: they say how it was recorded,
    not what it sounds like ("clipping" would find it for "people clapping")."""
    flags = {flag.label.lower() for flag in (rec.provenance.quality if rec.provenance else [])}
    keywords = [k for k in rec.Keywords if k.lower() not in flags]
    parts = [rec.Description, ", ".join(keywords), rec.FXName]
    name = name_words(path)
    if name and name.lower() not in " ".join(parts).lower():
        parts.append(name)
    parts.append(category_words(rec.CatID, ucs_list))
    seen: list[str] = []
    for part in (" ".join(p.split()) for p in parts):
        if part and part.lower() not in (s.lower() for s in seen):
            seen.append(part)
    return ". ".join(seen)


def digest(text: str) -> str:
    """What the stored vector was made from, so a text that did not change is not encoded again."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
