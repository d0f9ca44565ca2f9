"""UCS file names: ``CatID[-UserCategory]_FXName_CreatorID_SourceID[_UserData].ext``.

The UCS convention separates fields with "_"; the first field is a CatID, to which
a user or vendor category may be joined with "-" (``DOORWood-Kitchen``). Everything
after the fourth separator is UserData. A name whose first field is not a known
CatID only looks like UCS and is not one.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class UcsName:
    CatID: str
    FXName: str
    CreatorID: str
    SourceID: str
    UserData: str = ""
    UserCategory: str = ""   # the part after "-" in the CatID field


def _canonical(catid: str, known: Container[str] | Mapping[str, object]) -> str | None:
    if catid in known:
        return catid
    if isinstance(known, Mapping):   # editors do not always keep the CatID's capitals
        folded = {k.lower(): k for k in known}
        return folded.get(catid.lower())
    return None


def parse_ucs_filename(filename: str, known: Container[str] | Mapping[str, object]) -> UcsName | None:
    """The UCS fields of a file name, or None when the name is not UCS (shape or CatID)."""
    name = PurePath(str(filename).replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    parts = stem.split("_")
    if len(parts) < 4:
        return None
    cat_field, fx, creator, source = (p.strip() for p in parts[:4])
    if not (cat_field and fx and creator and source):
        return None
    catid, _, user_category = cat_field.partition("-")
    if not catid or (cat_field.endswith("-") and not user_category):
        return None
    canonical = _canonical(catid, known)
    if canonical is None:
        return None
    return UcsName(CatID=canonical, FXName=fx, CreatorID=creator, SourceID=source,
                   UserData="_".join(parts[4:]), UserCategory=user_category)
