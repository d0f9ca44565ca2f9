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

from ..merge import OWN_ALL, Ownership
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
        "BWF_UMID": bext.umid.hex().upper() if bext.version >= 1 and any(bext.umid) else "",
        "BWF_CODING_HISTORY": bext.coding_history,
        "BWF_LOUDNESS_VALUE": loud(bext.loudness_value),
        "BWF_LOUDNESS_RANGE": loud(bext.loudness_range),
        "BWF_MAX_TRUE_PEAK_LEVEL": loud(bext.max_true_peak_level),
        "BWF_MAX_MOMENTARY_LOUDNESS": loud(bext.max_momentary_loudness),
        "BWF_MAX_SHORT_TERM_LOUDNESS": loud(bext.max_short_term_loudness),
    }


def bext_block(doc: IXML | None) -> dict[str, str] | None:
    """The values of the document's BEXT block (the mirror of the bext chunk), None without one."""
    if doc is None:
        return None
    block = _child(doc.root(), "BEXT")
    if block is None:
        return None
    return {el.tag.upper(): (el.text or "").strip() for el in block if isinstance(el.tag, str)}


def _lines(text: str) -> str:
    """Text as XML keeps it: a parser turns CR/LF into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _text_of(parent: etree._Element | None, name: str) -> str:
    el = _child(parent, name) if parent is not None else None
    return (el.text or "").strip() if el is not None else ""


def merge(old: IXML | None, record: Record, bext: Bext | None = None, owner: Ownership = OWN_ALL,
          old_bext: Bext | None = None) -> IXML:
    """The document to write: the old one, element by element, with empty elements filled.

    Every element another tool wrote (PROJECT, SPEED, TRACK_LIST, vendor blocks, a USER
    value) stays; an element is replaced only where owner allows (empty, or the service's
    own earlier value). The BEXT block follows the bext chunk where it agreed with it
    (old_bext -> bext), and is made whole from the chunk when the document has none.
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
    for name, tag in USER_FIELDS.items():
        held = _text_of(user, tag)
        if name == "Keywords":
            words = owner.keywords(held, record.Keywords)
            if words and join_keywords(words) != held:
                _set(user, tag, join_keywords(words))
        elif values[name] and owner.may_replace(name, held):
            _set(user, tag, values[name])
    if record.Category and record.SubCategory:
        held = _text_of(user, "CATEGORYFULL")
        ours = f"{owner.ours.get('Category', '')}-{owner.ours.get('SubCategory', '')}"
        if owner.may_replace("", held) or owner.wrote(ours, held):
            _set(user, "CATEGORYFULL", f"{record.Category}-{record.SubCategory}")
    if any(values.values()) and _text_of(user, "EMBEDDER") in ("", EMBEDDER):
        _set(user, "EMBEDDER", EMBEDDER)
    old_aswg = _child(root, "ASWG")
    aswg_values = {tag: _aswg_text(tag, getattr(record, name))
                   for name, tag in ASWG_FIELDS.items()
                   if getattr(record, name) and owner.may_replace(name, _text_of(old_aswg, tag))}
    held_loudness = _text_of(old_aswg, "loudness")
    if record.Loudness is not None and (owner.may_replace("", held_loudness)
                                        or owner.wrote(owner.ours.get("Loudness"), held_loudness)):
        aswg_values["loudness"] = f"{record.Loudness:.2f}"
    if aswg_values:
        aswg = _ensure(root, "ASWG")
        for tag, value in aswg_values.items():
            _set(aswg, tag, value)
    if bext is not None:
        _follow_bext(root, bext, old_bext)
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


def _follow_bext(root: etree._Element, bext: Bext, old_bext: Bext | None) -> None:
    """Keep the BEXT block agreeing with the chunk: a new block mirrors it whole; in an old
    one, an element changes only with its chunk field, and only where it mirrored the old
    value or was empty (an element that disagreed was another tool's word, and stays)."""
    new = _bext_mirror(bext)
    mirror = _child(root, "BEXT")
    if mirror is None:
        mirror = etree.SubElement(root, "BEXT")
        for tag, value in new.items():
            if value:
                _set(mirror, tag, value)
        return
    before = _bext_mirror(old_bext) if old_bext is not None else {}
    for tag, value in new.items():
        was = before.get(tag, "")
        if value == was:
            continue
        held = _text_of(mirror, tag)
        if not held or _lines(held) == _lines(was):
            if value or _child(mirror, tag) is not None:
                _set(mirror, tag, value)


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
