"""A person's edit saved while the service rewrites a sidecar is never lost."""

import pytest

import audiogen
from sidecar.errors import ContainerError
from sidecar.metadata import sidecar_xml
from sidecar.metadata.record import Provenance, Record
from sidecar.metadata.sidecar_xml import _files


def _machine(description: str) -> Record:
    return Record(Description=description, Keywords=["door"], CatID="DOORWood",
                  provenance=Provenance(engine="embedded", machine_fields=["Description", "Keywords", "CatID"]))


@pytest.fixture
def sound(tmp_path):
    path = audiogen.write(str(tmp_path / "door"), "wav16")
    identity = sidecar_xml.Identity(name="door.wav", size=1, fingerprint="f" * 16, path=path)
    sidecar_xml.write(path, _machine("first machine words"), identity)
    return path, identity


def _person_saves_during_render(monkeypatch, doc, times: int):
    """The person's editor saves the file after the service read it and before it renames."""
    real_render, calls = _files.render, []

    def render(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            text = doc.read_bytes().replace(b"first machine words", b"my own words").replace(
                b"my own words", b"my own words" + b"!" * len(calls), 1)
            doc.write_bytes(text)
        return real_render(*args, **kwargs)
    monkeypatch.setattr(_files, "render", render)
    return calls


def test_an_edit_saved_between_the_read_and_the_rename_is_kept(sound, monkeypatch):
    path, identity = sound
    doc = sidecar_xml.sidecar_path(path)
    calls = _person_saves_during_render(monkeypatch, doc, times=1)
    sidecar_xml.write(path, _machine("newer machine words"), identity)
    record, _, human = sidecar_xml.read(doc)
    assert record.Description == "my own words!" and "Description" in human
    assert len(calls) == 2                         # the rewrite started again from the person's version


def test_a_file_that_keeps_changing_is_left_as_the_person_saved_it(sound, monkeypatch):
    path, identity = sound
    doc = sidecar_xml.sidecar_path(path)
    _person_saves_during_render(monkeypatch, doc, times=10)
    with pytest.raises(ContainerError, match="changed while it was being rewritten"):
        sidecar_xml.write(path, _machine("newer machine words"), identity)
    record, _, _ = sidecar_xml.read(doc)
    assert record.Description.startswith("my own words")
