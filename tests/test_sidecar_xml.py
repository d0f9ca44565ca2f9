"""The sidecar document: write, validate against the published XSD, read back, and ownership."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from lxml import etree

from sidecar.errors import ConfigError, ContainerError
from sidecar.metadata import sidecar_xml as sx
from sidecar.metadata.record import DESCRIPTIVE_FIELDS, Label, Provenance, Record, Window

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "sidecar-1.0.xsd"


def full_record() -> Record:
    return Record(
        Description="Porte qui claque, café — 木のドア 🚪",
        Keywords=["door", "slam", "porte", "ドア", "🚪", "a, b"],
        Category="DOORS", SubCategory="WOOD", CatID="DOORWood",
        FXName="Screen door slam", TrackTitle="  leading and trailing spaces  ",
        Library="Müller Sounds", Manufacturer="Ñandú Audio", Designer="Zoë 李",
        ShortID="ZL", Notes="line one\nline two\r\nline three\rend", UserComments="tab\there",
        Microphone="", MicPerspective="", RecMedium="", Location="Zürich <city> & \"quotes\"",
        URL="https://example.org/door?a=1&b=2",
        Duration=1.2345678901234567, SampleRate=96000, BitDepth=24, Channels=2,
        Loudness=-23.456, TruePeak=float("-inf"),
        provenance=Provenance(
            engine="max", model="audio_embeddings-tf-imagenet", version="1.2.0",
            time="2024-05-01T12:00:00Z",
            labels=[Label("Door", 0.9123, "/m/02dgv", "max"), Label("Slam", 0.5, "/m/07rjzl8", "max"),
                    Label("Knock", 1e-05, "", "embedded")],
            windows=[Window(0.0, 10.0, [Label("Door", 0.8, "/m/02dgv", "max")]),
                     Window(10.0, 4.5, [])],
            synonyms_added=["porte", "ドア"],
            machine_fields=["Keywords", "Category", "SubCategory", "CatID", "Duration"],
        ),
    )


IDENTITY = sx.Identity(name="door ドア.wav", size=123456, fingerprint="pcm:0123abcd", path="/lib/door ドア.wav")


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))


def assert_same(a: Record, b: Record) -> None:
    for f in fields(Record):
        assert getattr(a, f.name) == getattr(b, f.name), f.name


def test_round_trip_every_field(tmp_path):
    record = full_record()
    data = sx.render(record, IDENTITY)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<SFXSidecar ')
    assert schema().validate(etree.fromstring(data)), schema().error_log
    back, identity, human = sx.read_bytes(data, "door")
    assert_same(record, back)
    assert identity == IDENTITY
    # Values with no machine mark came from a person or a vendor.
    assert human == {"Description", "FXName", "TrackTitle", "Library", "Manufacturer", "Designer",
                     "ShortID", "Notes", "UserComments", "Location", "URL"}


def test_empty_record_round_trips():
    record = Record()
    data = sx.render(record, sx.Identity("x.wav", 0, ""))
    sx.validate(data)
    back, identity, human = sx.read_bytes(data, "x")
    assert_same(record, back)
    assert identity == sx.Identity("x.wav", 0, "", "")
    assert human == set()


def test_written_file_validates_with_lxml(tmp_path):
    audio = tmp_path / "door.wav"
    target = sx.write(audio, full_record(), IDENTITY)
    assert target == tmp_path / "door.wav.xml"
    doc = etree.parse(str(target))
    assert schema().validate(doc), schema().error_log
    back, identity, _ = sx.read(target)
    assert_same(full_record(), back)
    assert [p.name for p in tmp_path.iterdir()] == ["door.wav.xml"]  # no temporary file left


XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",),
                                 blacklist_characters="".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32),
                                                                        0xFFFE, 0xFFFF]))))


@settings(max_examples=150, deadline=None)
@given(description=XML_TEXT, notes=XML_TEXT, keywords=st.lists(XML_TEXT, max_size=5),
       label=XML_TEXT, probability=st.floats(0, 1))
def test_any_xml_text_round_trips(description, notes, keywords, label, probability):
    record = Record(Description=description, Notes=notes, Keywords=keywords,
                    provenance=Provenance(labels=[Label(label, probability)],
                                          machine_fields=["Description", "Keywords"]))
    back, _, human = sx.read_bytes(sx.render(record, IDENTITY), "h")
    assert_same(record, back)
    assert "Description" not in human and "Keywords" not in human


def test_characters_xml_cannot_hold_are_dropped():
    record = Record(Description="bell\x07 ring\x00", provenance=Provenance(machine_fields=["Description"]))
    back, _, human = sx.read_bytes(sx.render(record, IDENTITY), "c")
    assert back.Description == "bell ring"
    assert human == set()  # the digest is of the value as stored


def test_sidecar_path_beside_and_mirror(tmp_path):
    assert sx.sidecar_path(tmp_path / "a" / "door.wav") == tmp_path / "a" / "door.wav.xml"
    mirror = (tmp_path / "lib", tmp_path / "mirror")
    assert sx.sidecar_path(tmp_path / "lib" / "x" / "door.wav", mirror) == tmp_path / "mirror" / "x" / "door.wav.xml"
    with pytest.raises(ConfigError):
        sx.sidecar_path(tmp_path / "elsewhere" / "door.wav", mirror)


def test_write_under_mirror_creates_folders(tmp_path):
    mirror = (tmp_path / "lib", tmp_path / "mirror")
    target = sx.write(tmp_path / "lib" / "deep" / "door.wav", full_record(), IDENTITY, mirror=mirror)
    assert target == tmp_path / "mirror" / "deep" / "door.wav.xml"
    assert sx.read(target)[1] == IDENTITY


# -- ownership ------------------------------------------------------------------

def edit(path: Path, field: str, value: str | None, *, source: str | None = "keep") -> None:
    """Change one field the way a person would in an editor."""
    tree = etree.parse(str(path))
    elem = tree.find(f"{{{sx.SIDECAR_NS}}}Metadata/{{{sx.SIDECAR_NS}}}{field}")
    if value is not None:
        elem.text = value
    if source != "keep":
        if source is None:
            elem.attrib.pop("source", None)
        else:
            elem.set("source", source)
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def machine_record(**values) -> Record:
    names = [n for n in DESCRIPTIVE_FIELDS if n in values]
    return Record(**values, provenance=Provenance(engine="embedded", machine_fields=names))


def test_machine_fields_are_not_human(tmp_path):
    target = sx.write(tmp_path / "a.wav", machine_record(Description="Door", CatID="DOORWood"), IDENTITY)
    record, _, human = sx.read(target)
    assert human == set()
    assert record.provenance.machine_fields == ["Description", "CatID"]


@pytest.mark.parametrize("value, source, is_human", [
    ("Door, heavy oak", "keep", True),      # edited text, machine mark left in place
    ("", "keep", True),                     # a person cleared the machine's value
    ("Door", "human", True),                # same text, claimed by a person
    ("Door", None, True),                   # same text, machine mark removed
    ("Door", "keep", False),                # untouched
    ("Door", "machine", False),
])
def test_edit_makes_a_field_human(tmp_path, value, source, is_human):
    target = sx.write(tmp_path / "a.wav", machine_record(Description="Door"), IDENTITY)
    edit(target, "Description", value, source=source)
    record, _, human = sx.read(target)
    assert record.Description == value
    assert ("Description" in human) is is_human
    assert ("Description" in record.provenance.machine_fields) is not is_human


def test_filling_an_empty_field_is_human(tmp_path):
    target = sx.write(tmp_path / "a.wav", machine_record(Description="Door"), IDENTITY)
    edit(target, "Notes", "recorded at night", source="keep")
    assert sx.read(target)[2] == {"Notes"}


def test_unicode_renormalisation_is_not_an_edit(tmp_path):
    target = sx.write(tmp_path / "a.wav", machine_record(Description="Cafe\u0301"), IDENTITY)
    edit(target, "Description", "Caf\u00e9")
    assert sx.read(target)[2] == set()


def test_human_edit_survives_rescan(tmp_path):
    audio = tmp_path / "door.wav"
    first = machine_record(Description="Door", Keywords=["door"], CatID="DOORWood")
    target = sx.write(audio, first, IDENTITY)
    edit(target, "Description", "Screen door, aluminium, slow close")
    edit(target, "CatID", "")  # the person says: no CatID
    rescan = machine_record(Description="Door slam", Keywords=["door", "slam"], CatID="DOORMetl",
                            Category="DOORS")
    for _ in range(2):  # and again: a cleared field must stay the person's
        sx.write(audio, rescan, IDENTITY)
        record, _, human = sx.read(target)
        assert record.Description == "Screen door, aluminium, slow close"
        assert record.CatID == ""
        assert human == {"Description", "CatID"}
        assert record.Keywords == ["door", "slam"] and record.Category == "DOORS"
        assert record.provenance.machine_fields == ["Keywords", "Category"]


def test_write_keeps_an_unreadable_sidecar_untouched(tmp_path):
    target = tmp_path / "door.wav.xml"
    target.write_bytes(b"<SFXSidecar version='1.0'>half-edited")
    with pytest.raises(ContainerError) as info:
        sx.write(tmp_path / "door.wav", full_record(), IDENTITY)
    assert str(target) in str(info.value)
    assert target.read_bytes() == b"<SFXSidecar version='1.0'>half-edited"
    assert os.listdir(tmp_path) == ["door.wav.xml"]


# -- validation messages ----------------------------------------------------------

def test_validate_reasons():
    good = sx.render(full_record(), IDENTITY)
    sx.validate(good)
    cases = {
        good.replace(b':1" version="1.0"', b':1" version="2.0"', 1): "version 2.0 is not supported",
        good.replace(b'xmlns="urn:sfx-sidecar:sidecar:1"', b"", 1): "namespace",
        good.replace(b"<Size>123456</Size>", b"<Size>big</Size>", 1): "does not match schema",
        good.replace(b"<URL>", b"<Unknown/><URL>", 1): "does not match schema",
        good.replace(b'probability="0.5"', b'probability="7"', 1): "does not match schema",
    }
    for doc, reason in cases.items():
        with pytest.raises(sx.SidecarDocumentError, match=reason):
            sx.validate(doc)
