"""The `iXML` chunk: a BWFXML document with Soundminer USER fields, ASWG and a BEXT mirror.

Writing starts from the document already in the file, so every element another tool
wrote (PROJECT, SCENE, TAKE, TRACK_LIST, SPEED, vendor blocks, USER text) survives.
The root is written as exactly `<BWFXML>` because REAPER looks for that literal.
Parsing never expands entities, loads DTDs or touches the network.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from lxml import etree

from ..record import Provenance, Record, join_keywords, split_keywords
from .bext import Bext, fit_utf8
from .errors import IXMLError

IXML_LIMIT = 16 << 20
IXML_VERSION = "3.01"
EMBEDDER = "SFX Sidecar"
PROVENANCE_BLOCK = "SFX_SIDECAR"

#: canonical field -> Soundminer USER element (written upper case, read in any case)
USER_FIELDS: dict[str, str] = {
    "Description": "DESCRIPTION", "Keywords": "KEYWORDS", "Category": "CATEGORY",
    "SubCategory": "SUBCATEGORY", "CatID": "CATID", "FXName": "FXNAME",
    "TrackTitle": "TRACKTITLE", "Library": "LIBRARY", "Manufacturer": "MANUFACTURER",
    "Designer": "DESIGNER", "ShortID": "SHORTID", "Notes": "NOTES",
    "UserComments": "USERCOMMENTS", "Microphone": "MICROPHONE",
    "MicPerspective": "MICPERSPECTIVE", "RecMedium": "RECMEDIUM", "Location": "LOCATION",
    "URL": "URL",
}
#: canonical field -> ASWG element (ASWG-G006 v1.1 names)
ASWG_FIELDS: dict[str, str] = {
    "Category": "category", "SubCategory": "subCategory", "CatID": "catId",
    "FXName": "fxName", "Library": "library", "ShortID": "creatorId",
    "Designer": "originator", "Notes": "notes", "Microphone": "micType",
    "Location": "recordingLoc",
}
#: ASWG fields whose type forbids "_" and "-" (they make up the UCS file name)
_UCS_STRING = {"category", "subCategory", "catId", "fxName", "creatorId"}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_blank_text=False)


@dataclass(frozen=True)
class IXML:
    """An iXML document kept as its serialized bytes (frozen, so a value, not a tree)."""

    xml: bytes

    @classmethod
    def read(cls, data: bytes) -> "IXML":
        if len(data) > IXML_LIMIT:
            raise IXMLError(f"iXML chunk is {len(data)} bytes, more than the {IXML_LIMIT >> 20} MiB limit")
        text = data.rstrip(b"\0 \t\r\n")
        if not text.strip(b"\0 \t\r\n\xef\xbb\xbf"):
            raise IXMLError("iXML chunk is empty")
        try:
            root = etree.fromstring(text, _parser())
        except etree.XMLSyntaxError as exc:
            raise IXMLError(f"iXML is not well-formed XML: {exc}") from exc
        if not isinstance(root.tag, str) or root.tag.upper() != "BWFXML":
            raise IXMLError(f"iXML root is <{root.tag}>, not <BWFXML>")
        return cls(text)

    def root(self) -> etree._Element:
        return etree.fromstring(self.xml, _parser())

    def to_bytes(self) -> bytes:
        return self.xml

    def fields(self) -> dict[str, str]:
        """Leaf elements as "PATH/TO/LEAF": text, for `sidecar show`."""
        out: dict[str, str] = {}
        root = self.root()
        for el in root.iter():
            if not isinstance(el.tag, str) or len(el):
                continue
            parts = [a.tag for a in reversed(list(el.iterancestors())) if a is not root] + [el.tag]
            key = "/".join(str(p) for p in parts)
            n, unique = 2, key
            while unique in out:
                unique, n = f"{key}[{n}]", n + 1
            out[unique] = (el.text or "").strip()
        return out


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    for el in parent:
        if isinstance(el.tag, str) and el.tag.upper() == name.upper():
            return el
    return None


def _ensure(parent: etree._Element, name: str) -> etree._Element:
    el = _child(parent, name)
    return el if el is not None else etree.SubElement(parent, name)


def _has_text(parent: etree._Element, name: str) -> bool:
    el = _child(parent, name)
    return el is not None and bool((el.text or "").strip())


def _set(parent: etree._Element, name: str, value: str) -> None:
    _ensure(parent, name).text = value


def _aswg_text(name: str, value: str) -> str:
    if name in _UCS_STRING:
        value = " ".join(value.replace("_", " ").replace("-", " ").split())
    return value


def _bext_mirror(bext: Bext) -> dict[str, str]:
    def loud(v: float | None) -> str:
        return "" if v is None else f"{v:.2f}"
    return {
        "BWF_DESCRIPTION": fit_utf8(bext.description, 256).decode("utf-8"), "BWF_ORIGINATOR": bext.originator,
        "BWF_ORIGINATOR_REFERENCE": bext.originator_reference,
        "BWF_ORIGINATION_DATE": bext.origination_date,
        "BWF_ORIGINATION_TIME": bext.origination_time,
        "BWF_TIME_REFERENCE_LOW": str(bext.time_reference & 0xFFFFFFFF),
        "BWF_TIME_REFERENCE_HIGH": str(bext.time_reference >> 32),
        "BWF_VERSION": str(bext.version),
        "BWF_UMID": bext.umid.hex().upper() if any(bext.umid) else "",
        "BWF_CODING_HISTORY": bext.coding_history,
        "BWF_LOUDNESS_VALUE": loud(bext.loudness_value),
        "BWF_LOUDNESS_RANGE": loud(bext.loudness_range),
        "BWF_MAX_TRUE_PEAK_LEVEL": loud(bext.max_true_peak_level),
        "BWF_MAX_MOMENTARY_LOUDNESS": loud(bext.max_momentary_loudness),
        "BWF_MAX_SHORT_TERM_LOUDNESS": loud(bext.max_short_term_loudness),
    }


def merge(old: IXML | None, record: Record, bext: Bext | None = None,
          keep: frozenset[str] = frozenset()) -> IXML:
    """The document to write: the old one with the record's fields set (empty ones left alone).

    keep: fields a person wrote; an element that already holds a value for one stays as it is.
    """
    root = old.root() if old is not None else etree.Element("BWFXML")
    root.tag = "BWFXML"
    for attr in list(root.attrib):
        del root.attrib[attr]
    if _child(root, "IXML_VERSION") is None:
        root.insert(0, etree.Element("IXML_VERSION"))
        root[0].text = IXML_VERSION
    user = _ensure(root, "USER")
    values = {name: getattr(record, name) for name in USER_FIELDS}
    values["Keywords"] = join_keywords(record.Keywords)
    for name, tag in USER_FIELDS.items():
        if values[name] and not (name in keep and _has_text(user, tag)):
            _set(user, tag, values[name])
    if record.Category and record.SubCategory:
        _set(user, "CATEGORYFULL", f"{record.Category}-{record.SubCategory}")
    if any(values.values()):
        _set(user, "EMBEDDER", EMBEDDER)
    old_aswg = _child(root, "ASWG")
    aswg_values = {tag: _aswg_text(tag, getattr(record, name))
                   for name, tag in ASWG_FIELDS.items() if getattr(record, name)
                   and not (name in keep and old_aswg is not None and _has_text(old_aswg, tag))}
    if record.Loudness is not None:
        aswg_values["loudness"] = f"{record.Loudness:.2f}"
    if aswg_values:
        aswg = _ensure(root, "ASWG")
        for tag, value in aswg_values.items():
            _set(aswg, tag, value)
    if bext is not None:
        mirror = _ensure(root, "BEXT")
        for tag, value in _bext_mirror(bext).items():
            if value or _child(mirror, tag) is not None:
                _set(mirror, tag, value)
    if not record.provenance.is_empty():
        block = _ensure(root, PROVENANCE_BLOCK)
        prov = record.provenance
        for tag, value in (("ENGINE", prov.engine), ("MODEL", prov.model),
                           ("VERSION", prov.version), ("TIME", prov.time),
                           ("MACHINE_FIELDS", ", ".join(prov.machine_fields))):
            _set(block, tag, value)
        _set(block, "PROVENANCE_JSON", json.dumps(asdict(prov), separators=(",", ":")))
    body = etree.tostring(root, encoding="UTF-8")
    return IXML(b'<?xml version="1.0" encoding="UTF-8"?>\n' + body)


def to_record(doc: IXML) -> Record:
    """The canonical fields an iXML document carries: USER first, ASWG where USER is silent."""
    root = doc.root()
    rec = Record()
    user = _child(root, "USER")
    if user is not None:
        for name, tag in USER_FIELDS.items():
            el = _child(user, tag)
            if el is not None and (el.text or "").strip():
                text = el.text.strip()
                setattr(rec, name, split_keywords(text) if name == "Keywords" else text)
    aswg = _child(root, "ASWG")
    if aswg is not None:
        for name, tag in ASWG_FIELDS.items():
            el = _child(aswg, tag)
            if rec.is_empty(name) and el is not None and (el.text or "").strip():
                setattr(rec, name, el.text.strip())
        el = _child(aswg, "loudness")
        if el is not None and el.text:
            try:
                rec.Loudness = float(el.text)
            except ValueError:
                pass     # a foreign tool's odd value is not ours to judge
    block = _child(root, PROVENANCE_BLOCK)
    if block is not None:
        el = _child(block, "PROVENANCE_JSON")
        try:
            rec.provenance = Provenance.from_dict(json.loads(el.text or "{}")) if el is not None else Provenance()
        except (ValueError, TypeError, KeyError) as exc:
            raise IXMLError(f"iXML {PROVENANCE_BLOCK}/PROVENANCE_JSON is not valid: {exc}") from exc
    return rec
