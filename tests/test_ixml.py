"""iXML: the record's fields in Soundminer USER and ASWG, every foreign element kept."""

from __future__ import annotations

import pytest
from lxml import etree

from sidecar.metadata import riff
from sidecar.metadata.record import Record
from sidecar.metadata.riff.bext import Bext
from sidecar.metadata.riff.errors import IXMLError
from sidecar.metadata.riff.ixml import IXML, merge, to_record
from test_riff_build import RECORDER_IXML, chunk, put, recorder_wav, sample_record, simple_wav


def _root(doc: IXML) -> etree._Element:
    return etree.fromstring(doc.to_bytes())


def test_new_document_has_a_bare_root_and_declaration():
    data = merge(None, sample_record()).to_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<BWFXML>')
    assert data.rstrip().endswith(b"</BWFXML>")


def test_user_fields_upper_case_and_categoryfull():
    user = _root(merge(None, sample_record())).find("USER")
    assert [el.tag for el in user] == ["DESCRIPTION", "KEYWORDS", "CATEGORY", "SUBCATEGORY", "CATID", "FXNAME",
                                       "LIBRARY", "DESIGNER", "NOTES", "MICROPHONE", "LOCATION", "URL",
                                       "CATEGORYFULL", "EMBEDDER"]
    assert user.findtext("CATEGORYFULL") == "DOORS-WOOD"
    assert user.findtext("EMBEDDER") == "SFX Sidecar"


def test_aswg_block_follows_its_naming_and_ucs_string_rule():
    aswg = _root(merge(None, sample_record(FXName="Door_Slam - Heavy", Loudness=-18.25))).find("ASWG")
    assert aswg.findtext("catId") == "DOORWood" and aswg.findtext("subCategory") == "WOOD"
    assert aswg.findtext("fxName") == "Door Slam Heavy"      # "_" and "-" are not allowed there
    assert aswg.findtext("creatorId") is None and aswg.findtext("loudness") == "-18.25"


def test_recorder_elements_are_all_kept():
    doc = merge(IXML.read(RECORDER_IXML), sample_record(), Bext(description="x", originator="Sound Devices"))
    root = _root(doc)
    old = etree.fromstring(RECORDER_IXML)
    for name in ("IXML_VERSION", "PROJECT", "SCENE", "TAKE", "TAPE", "NOTE"):
        assert root.findtext(name) == old.findtext(name)
    for name in ("SPEED", "TRACK_LIST", "STEINBERG"):
        assert etree.tostring(root.find(name)) == etree.tostring(old.find(name))
    assert root.find("USER").text == "Microphones=MKH416\nOperator=R. Mix\n"
    assert root.find("USER").findtext("CATID") == "DOORWood"
    bext = root.find("BEXT")
    assert bext.findtext("BWF_RESERVED") == "keep me"
    assert bext.findtext("BWF_DESCRIPTION") == "x" and bext.findtext("BWF_ORIGINATOR") == "Sound Devices"


def test_user_fields_read_in_any_case_and_updated_where_they_are():
    old = IXML.read(b"<BWFXML><USER><CatID>AMBForst</CatID><Keywords>birds;wind</Keywords></USER></BWFXML>")
    assert to_record(old).CatID == "AMBForst" and to_record(old).Keywords == ["birds", "wind"]
    new = _root(merge(old, Record(CatID="DOORWood")))
    assert new.find("USER").findtext("CatID") == "DOORWood"
    assert new.find("USER").find("CATID") is None


def test_empty_record_fields_leave_existing_elements():
    old = IXML.read(b"<BWFXML><USER><NOTES>hand written</NOTES></USER></BWFXML>")
    assert _root(merge(old, Record(CatID="X"))).find("USER").findtext("NOTES") == "hand written"


def test_record_round_trip_with_provenance():
    rec = sample_record(Loudness=-20.0)
    back = to_record(merge(None, rec))
    for name in ("Description", "Keywords", "Category", "SubCategory", "CatID", "FXName", "Library",
                 "Designer", "Notes", "Microphone", "Location", "URL"):
        assert getattr(back, name) == getattr(rec, name), name
    assert back.provenance == rec.provenance


def test_aswg_fills_what_user_lacks():
    doc = IXML.read(b"<BWFXML><ASWG><catId>WATRFlow</catId><fxName>Creek</fxName></ASWG></BWFXML>")
    rec = to_record(doc)
    assert (rec.CatID, rec.FXName) == ("WATRFlow", "Creek")


def test_entities_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    evil = (f'<?xml version="1.0"?><!DOCTYPE BWFXML [<!ENTITY x SYSTEM "file://{secret}">]>'
            f"<BWFXML><USER><NOTES>&x;</NOTES></USER></BWFXML>").encode()
    doc = IXML.read(evil)
    assert "TOP SECRET" not in to_record(doc).Notes
    assert b"TOP SECRET" not in merge(doc, sample_record()).to_bytes()


def test_trailing_nuls_and_bom_are_accepted():
    doc = IXML.read(b"\xef\xbb\xbf<BWFXML><PROJECT>P</PROJECT></BWFXML>\0\0\0")
    assert doc.fields()["PROJECT"] == "P"


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"), (b"\0\0\0\0", "empty"), (b"not xml at all", "not well-formed"),
    (b"<BWFXML><USER></BWFXML>", "not well-formed"), (b"<OTHER/>", "not <BWFXML>"),
])
def test_bad_documents_are_refused_with_a_reason(data, reason):
    with pytest.raises(IXMLError, match=reason):
        IXML.read(data)


def test_written_file_root_is_bare_even_when_the_old_root_had_attributes(tmp_path):
    blob = simple_wav(extra=[chunk(b"iXML", b'<BWFXML version="1"><PROJECT>P</PROJECT></BWFXML>')])
    path = put(tmp_path, blob)
    riff.write(path, sample_record())
    out = path.read_bytes()
    assert b"<BWFXML><IXML_VERSION>3.01</IXML_VERSION><PROJECT>P</PROJECT>" in out
    assert b'version="1"' not in out


def test_show_lists_ixml_leaves(tmp_path):
    path = put(tmp_path, recorder_wav())
    riff.write(path, sample_record())
    fields = riff.read_chunks(path)["iXML"]
    assert fields["PROJECT"] == "FOREST DAWN"
    assert fields["TRACK_LIST/TRACK/NAME"] == "BOOM" and fields["TRACK_LIST/TRACK/NAME[2]"] == "LAV"
    assert fields["USER/CATID"] == "DOORWood"
