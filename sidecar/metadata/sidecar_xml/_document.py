"""The sidecar document's elements: a record and identity to a tree and back.

No file I/O and no parsing of bytes here; `_files` reads and writes, and
`safe_xml` parses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable

from lxml import etree

import sidecar
from sidecar.metadata.record import (
    DESCRIPTIVE_FIELDS, TECHNICAL_FIELDS, Label, Provenance, Record, Window,
)

from . import _ownership as own
from ._schema import FORMAT_VERSION, SIDECAR_NS, SidecarDocumentError

_INT_FIELDS = frozenset({"SampleRate", "BitDepth", "Channels"})
# Characters XML 1.0 cannot carry at all; a tag read from a file may hold them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class Identity:
    """What identifies the sound a sidecar describes, so it can be found after a move."""

    name: str
    size: int
    fingerprint: str
    path: str = ""


def q(local: str) -> str:
    return f"{{{SIDECAR_NS}}}{local}"


def xml_text(value: Any) -> str:
    """Text XML 1.0 can hold: characters it forbids (NUL, most C0 controls, lone surrogates) are dropped."""
    return _NOT_XML.sub("", str(value))


def format_double(value: float) -> str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    return repr(value)  # shortest text that reads back to the same float


def parse_double(text: str | None, what: str, where: str) -> float:
    try:
        return float((text or "").strip())
    except ValueError as exc:
        raise SidecarDocumentError(what, f"{where} is not a number: {text!r}") from exc


def _sub(parent: etree._Element, local: str, text: str | None = None, **attrs: str) -> etree._Element:
    elem = etree.SubElement(parent, q(local), {k: v for k, v in attrs.items() if v is not None})
    if text:
        elem.text = text
    return elem


def clean_record(record: Record) -> Record:
    """A copy of record's descriptive values as the document will hold them."""
    out = Record.from_dict(record.to_dict())
    for name in DESCRIPTIVE_FIELDS:
        value = getattr(out, name)
        setattr(out, name, [xml_text(v) for v in value] if isinstance(value, list) else xml_text(value))
    return out


def build_element(record: Record, identity: Identity, human: Iterable[str] = ()) -> etree._Element:
    """The SFXSidecar element for one sound.

    Fields in record.provenance.machine_fields are marked machine-made with the
    digest of their value, unless listed in `human`, which are marked human.
    """
    record = clean_record(record)
    human = set(human)
    # Keywords the service wrote into are its own (marked with their digest) even when a person
    # has words among them: those words are marked one by one
    machine = [n for n in record.provenance.machine_fields if n not in human or n == "Keywords"]
    theirs = {w.lower() for w in record.provenance.person_keywords}
    root = etree.Element(q("SFXSidecar"), nsmap={None: SIDECAR_NS})
    root.set("version", FORMAT_VERSION)
    root.set("generator", f"SFX Sidecar {sidecar.__version__}")

    file_el = _sub(root, "File")
    _sub(file_el, "Name", xml_text(identity.name))
    _sub(file_el, "Size", str(int(identity.size)))
    _sub(file_el, "Fingerprint", xml_text(identity.fingerprint))
    _sub(file_el, "Path", xml_text(identity.path))

    meta = _sub(root, "Metadata")
    for name in DESCRIPTIVE_FIELDS:
        value = getattr(record, name)
        attrs: dict[str, str] = {}
        if name in machine:
            attrs = {"source": own.MACHINE, "digest": own.digest(value)}
        elif name in human:
            attrs["source"] = own.HUMAN
        if isinstance(value, list):
            elem = _sub(meta, name, **attrs)
            for word in value:
                mark = own.HUMAN if name in machine and word.lower() in theirs else None
                _sub(elem, "Keyword", word, source=mark)
        else:
            _sub(meta, name, value, **attrs)

    tech = _sub(root, "Technical")
    for name in TECHNICAL_FIELDS:
        value = getattr(record, name)
        if value is not None:
            _sub(tech, name, str(int(value)) if name in _INT_FIELDS else format_double(value))

    _build_provenance(_sub(root, "Provenance"), record.provenance)
    return root


def _build_labels(parent: etree._Element, labels: list[Label]) -> None:
    for label in labels:
        _sub(parent, "Label", xml_text(label.label), probability=format_double(label.probability),
             mid=xml_text(label.mid) if label.mid else None, source=xml_text(label.source))


def _build_provenance(prov_el: etree._Element, prov: Provenance) -> None:
    for local, value in (("Engine", prov.engine), ("Model", prov.model),
                         ("Version", prov.version), ("Time", prov.time)):
        _sub(prov_el, local, xml_text(value))
    _build_labels(_sub(prov_el, "Labels"), prov.labels)
    if prov.quality:
        _build_labels(_sub(prov_el, "QualityFlags"), prov.quality)
    windows = _sub(prov_el, "Windows")
    for window in prov.windows:
        win_el = _sub(windows, "Window", start=format_double(window.start),
                      duration=format_double(window.duration))
        _build_labels(win_el, window.labels)
    synonyms = _sub(prov_el, "SynonymsAdded")
    for word in prov.synonyms_added:
        _sub(synonyms, "Keyword", xml_text(word))
    fields_el = _sub(prov_el, "MachineFields")
    for name in prov.machine_fields:
        _sub(fields_el, "Field", xml_text(name))
    if prov.category_source:
        confidence = prov.category_confidence
        _sub(prov_el, "CategorySource", prov.category_source,
             confidence=format_double(confidence) if confidence is not None else None,
             model=xml_text(prov.category_model) if prov.category_model else None)
    if prov.rules:
        _sub(prov_el, "Rules", xml_text(prov.rules))


def _text(elem: etree._Element | None) -> str:
    return "" if elem is None or elem.text is None else elem.text


def _texts(elem: etree._Element | None, local: str) -> list[str]:
    return [] if elem is None else [_text(child) for child in elem.findall(q(local))]


def parse_element(root: etree._Element, what: str) -> tuple[Record, Identity, set[str]]:
    """Record, identity and human-made field names from a schema-valid SFXSidecar element."""
    file_el = root.find(q("File"))
    identity = Identity(
        name=_text(file_el.find(q("Name"))),
        size=int(_text(file_el.find(q("Size"))).strip()),
        fingerprint=_text(file_el.find(q("Fingerprint"))),
        path=_text(file_el.find(q("Path"))),
    )
    record = Record()
    human: set[str] = set()
    valid_machine: list[str] = []
    person_words: list[str] = []
    meta = root.find(q("Metadata"))
    for name in DESCRIPTIVE_FIELDS:
        elem = meta.find(q(name))
        value: Any = _texts(elem, "Keyword") if name == "Keywords" else _text(elem)
        setattr(record, name, value)
        if elem is None:
            continue
        source, mark = elem.get("source"), elem.get("digest")
        if own.is_human(source, mark, value):
            human.add(name)
        elif own.is_machine(source, mark, value):
            valid_machine.append(name)
        if name == "Keywords":
            person_words = [_text(k) for k in elem.findall(q("Keyword")) if k.get("source") == own.HUMAN]

    tech = root.find(q("Technical"))
    for name in TECHNICAL_FIELDS:
        elem = tech.find(q(name)) if tech is not None else None
        if elem is not None:
            number = parse_double(elem.text, what, name)
            setattr(record, name, int(number) if name in _INT_FIELDS else number)

    prov_el = root.find(q("Provenance"))
    record.provenance = _parse_provenance(prov_el, what) if prov_el is not None else Provenance()
    listed = record.provenance.machine_fields
    kept = [n for n in listed if n not in DESCRIPTIVE_FIELDS or n in valid_machine]
    record.provenance.machine_fields = list(dict.fromkeys(
        kept + [n for n in valid_machine if n not in listed]))
    # a list a person owns whole, with no word marked (as before words had an owner), is theirs
    # word by word too
    record.provenance.person_keywords = (person_words if person_words or "Keywords" not in human
                                         else list(record.Keywords))
    return record, identity, human


def _parse_labels(parent: etree._Element, what: str) -> list[Label]:
    return [Label(label=_text(el), probability=parse_double(el.get("probability"), what, "Label probability"),
                  mid=el.get("mid", ""), source=el.get("source", "embedded"))
            for el in parent.findall(q("Label"))]


def _parse_provenance(prov_el: etree._Element, what: str) -> Provenance:
    prov = Provenance(
        engine=_text(prov_el.find(q("Engine"))), model=_text(prov_el.find(q("Model"))),
        version=_text(prov_el.find(q("Version"))), time=_text(prov_el.find(q("Time"))),
    )
    labels = prov_el.find(q("Labels"))
    prov.labels = _parse_labels(labels, what) if labels is not None else []
    flags = prov_el.find(q("QualityFlags"))
    prov.quality = _parse_labels(flags, what) if flags is not None else []
    windows = prov_el.find(q("Windows"))
    for win_el in (windows.findall(q("Window")) if windows is not None else []):
        prov.windows.append(Window(start=parse_double(win_el.get("start"), what, "Window start"),
                                   duration=parse_double(win_el.get("duration"), what, "Window duration"),
                                   labels=_parse_labels(win_el, what)))
    prov.synonyms_added = _texts(prov_el.find(q("SynonymsAdded")), "Keyword")
    prov.machine_fields = _texts(prov_el.find(q("MachineFields")), "Field")
    source = prov_el.find(q("CategorySource"))
    if source is not None:
        prov.category_source = _text(source)
        if source.get("confidence") is not None:
            prov.category_confidence = parse_double(source.get("confidence"), what, "CategorySource confidence")
        prov.category_model = source.get("model", "")
    prov.rules = _text(prov_el.find(q("Rules")))
    return prov.without_flags_in_labels()     # a document written before flags had their own element
