"""The example in docs/sidecar.md is a real document: it validates and reads back as the text says."""

from __future__ import annotations

import re
from pathlib import Path

from sidecar.metadata import sidecar_xml as sx

DOC = Path(__file__).resolve().parents[1] / "docs" / "sidecar.md"


def example() -> bytes:
    blocks = re.findall(r"```xml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    return blocks[0].encode("utf-8")


def test_example_validates_and_reads_back():
    data = example()
    sx.validate(data)
    record, identity, human = sx.read_bytes(data, "docs example")
    assert human == {"Description", "Library", "Designer", "ShortID", "Notes", "Microphone",
                     "MicPerspective", "RecMedium", "Location"}
    assert record.provenance.machine_fields == ["Keywords", "Category", "SubCategory", "CatID", "FXName"]
    assert record.CatID == "DOORWood" and identity.size == 1584044
    assert [l.label for l in record.provenance.labels] == ["Door", "Slam", "Wood"]


def test_example_is_what_render_writes():
    record, identity, human = sx.read_bytes(example(), "docs example")
    def same(doc: bytes) -> bytes:  # the generator attribute names the release that wrote it
        return re.sub(rb'generator="[^"]*"', b"", doc)

    assert same(sx.render(record, identity, human={"Description"})) == same(example())
