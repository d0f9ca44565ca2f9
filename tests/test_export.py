"""Exports: the CSV read back with the csv module cell by cell; the collection XML validated."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from sidecar.exports import COLUMNS, validate_collection, write_collection, write_csv
from sidecar.exports.xml_export import CollectionError
from sidecar.metadata import sidecar_xml as sx
from sidecar.metadata.record import Label, Provenance, Record

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


class Item:
    """An indexed file as the exports see it (the store's IndexedFile has the same attributes)."""

    def __init__(self, path, record, size=100, fingerprint="pcm:ff", human_fields=()):
        self.path, self.record, self.size, self.fingerprint = path, record, size, fingerprint
        self.human_fields = list(human_fields)


def items() -> list[Item]:
    door = Record(
        Description='Door slam, "hard" — café 木 🚪', Keywords=["door", "slam", "ドア"], Category="DOORS",
        SubCategory="WOOD", CatID="DOORWood", FXName="Door slam", Notes="two\nlines",
        Duration=1.5, SampleRate=48000, BitDepth=24, Channels=2, Loudness=-20.25, TruePeak=-1.0,
        provenance=Provenance(engine="max", model="audio_embeddings-tf-imagenet",
                              labels=[Label("Door", 0.91, "/m/02dgv", "max"), Label("Slam", 0.5, "", "max")],
                              quality=[Label("Clipping", 0.99, "/x/sidecar/clipping", "descriptors"),
                                       Label("Dual mono", 0.99, "/x/sidecar/dual-mono", "descriptors")],
                              machine_fields=["Keywords", "Category", "SubCategory", "CatID"]),
    )
    empty = Record()
    return [Item("/lib/doors/door, oak.wav", door, 2048, "pcm:aa", ["Description"]),
            Item("/lib/empty.flac", empty, 7, "dec:bb")]


def expected_rows() -> list[list[str]]:
    first = ["door, oak.wav", "/lib/doors/door, oak.wav", 'Door slam, "hard" — café 木 🚪', "door, slam, ドア",
             "DOORS", "WOOD", "DOORWood", "Door slam", "", "", "", "", "", "two\nlines", "", "", "", "", "", "",
             "1.5", "48000", "24", "2", "-20.25", "-1.0",
             "2048", "pcm:aa", "max", "audio_embeddings-tf-imagenet", "Door (0.91); Slam (0.5)",
             "Clipping; Dual mono", "Description"]
    second = ["empty.flac", "/lib/empty.flac"] + [""] * 24 + ["7", "dec:bb", "", "", "", "", ""]
    return [first, second]


def test_columns_start_with_file_name_and_path():
    assert COLUMNS[:8] == ("Filename", "Pathname", "Description", "Keywords", "Category", "SubCategory",
                           "CatID", "FXName")
    assert len(COLUMNS) == len(expected_rows()[0])


def test_csv_reads_back_cell_by_cell():
    out = io.StringIO(newline="")
    assert write_csv(items(), out) == 2
    text = out.getvalue()
    assert not text.startswith("\ufeff")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 3
    for got, want in zip(rows[1:], expected_rows()):
        for column, g, w in zip(COLUMNS, got, want):
            assert g == w, column


def test_csv_bom_for_excel():
    out = io.StringIO(newline="")
    write_csv(items(), out, bom=True)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().encode("utf-8").decode("utf-8-sig"), newline="")))
    assert rows[0]["Filename"] == "door, oak.wav"


def test_collection_validates_and_reads_back():
    out = io.BytesIO()
    write_collection(items(), out, query="door -metal")
    data = out.getvalue()
    validate_collection(data)
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "collection-1.0.xsd")))
    root = etree.fromstring(data)
    assert schema.validate(root), schema.error_log
    assert root.get("count") == "2" and root.get("query") == "door -metal"
    sidecars = root.findall(f"{{{sx.SIDECAR_NS}}}SFXSidecar")
    record, identity, human = sx.parse_element(sidecars[0], "first")
    assert identity == sx.Identity("door, oak.wav", 2048, "pcm:aa", "/lib/doors/door, oak.wav")
    assert record == items()[0].record
    assert human == {"Description", "FXName", "Notes"}


def test_collection_validation_reasons():
    with pytest.raises(CollectionError, match="root element"):
        validate_collection(sx.render(Record(), sx.Identity("a.wav", 1, "")))
    out = io.BytesIO()
    write_collection(items(), out)
    broken = out.getvalue().replace(b'count="2"', b'count="many"')
    with pytest.raises(CollectionError, match="does not match schema"):
        validate_collection(broken)


# -- the command, over a real index ------------------------------------------------------

@pytest.fixture
def store(tmp_path, monkeypatch):
    store_mod = pytest.importorskip("sidecar.index.store", reason="the index store is not built yet")
    monkeypatch.setenv("SIDECAR_DB", str(tmp_path / "index.db"))
    store = store_mod.open_store()
    from sidecar.index.interfaces import IndexedFile
    for item in items():
        store.files.upsert(IndexedFile(path=item.path, size=item.size, mtime_ns=1, fingerprint=item.fingerprint,
                                           format="wav", record=item.record, human_fields=item.human_fields))
    metal = Record(Description="Metal door slam", Keywords=["door", "metal"],
                   provenance=Provenance(machine_fields=["Keywords"]))
    store.files.upsert(IndexedFile(path="/lib/doors/metal.wav", size=5, mtime_ns=1, fingerprint="pcm:cc",
                                       format="wav", record=metal))
    yield store
    store.close()


def run(args):
    from sidecar.cli.sidecars import export
    return CliRunner().invoke(export, args, catch_exceptions=False)


def test_export_csv_with_query(store, tmp_path):
    target = tmp_path / "out.csv"
    result = run(["--format", "csv", "--query", "door -metal", "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert rows[0] == list(COLUMNS)
    assert [r[1] for r in rows[1:]] == ["/lib/doors/door, oak.wav"]
    assert rows[1] == expected_rows()[0]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_export_xml_to_stdout_all_files(store):
    result = run(["--format", "xml"])
    assert result.exit_code == 0
    data = result.stdout_bytes
    validate_collection(data)
    root = etree.fromstring(data)
    assert root.get("count") == "3"


def test_export_bom_option(store, tmp_path):
    target = tmp_path / "excel.csv"
    assert run(["--bom", "-o", str(target)]).exit_code == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbfFilename,Pathname,")


def test_export_bad_query_is_a_usage_error(store):
    from sidecar.cli.sidecars import export
    result = CliRunner().invoke(export, ["--query", '"unclosed'])
    assert result.exit_code == 2, result.output
