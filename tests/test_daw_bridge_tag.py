"""/sfx/info and /sfx/tag over real UDP against `daw-bridge serve`, checked by readers the project did
not write: a person's edit reaches the file, the sidecar (as a person's) and the index, survives a
rescan, and `sidecar undo` gives the file back. Paths outside the library roots are refused."""

import json
import os

import pytest
from lxml import etree
from mutagen.flac import FLAC
from wavinfo import WavInfoReader

import audiogen
from bridge_support import BridgeProcess, Client
from conftest import run_sidecar
from daw_bridge import messages


@pytest.fixture
def library(tmp_path, monkeypatch):
    lib = tmp_path / "lib"
    wav = audiogen.write(str(lib / "door"), "wav16", audiogen.tone(seconds=0.5))   # heard surely: keywords
    flac = audiogen.write(str(lib / "rain"), "flac", audiogen.tone(seconds=0.5))   # heard surely: keywords
    originals = {wav: open(wav, "rb").read(), flac: open(flac, "rb").read()}
    outside = tmp_path / "elsewhere"
    stray = audiogen.write(str(outside / "stray"), "wav16", audiogen.noise(0.3, seed=3))
    db = str(tmp_path / "index.db")
    config = tmp_path / "sidecar.toml"
    config.write_text(f'[[roots]]\npath = "{lib}"\n')
    monkeypatch.setenv("SIDECAR_DB", db)
    monkeypatch.setenv("SIDECAR_CONFIG", str(config))
    scanned = run_sidecar("scan", str(lib), str(outside), "--json")
    assert scanned.returncode == 0, scanned.stderr
    return {"lib": lib, "wav": wav, "flac": flac, "stray": stray, "originals": originals, "db": db}


def fields(client, path, request_id=3):
    replies = client.ask(messages.message("/sfx/info", request_id, path))
    assert replies[-1].address == "/sfx/done", replies[-1].params
    assert replies[-1].params == [request_id, len(replies) - 1]
    return {m.params[1]: (m.params[2], m.params[3]) for m in replies[:-1]}


def tag(client, path, field, value, request_id=4):
    reply = client.ask(messages.message("/sfx/tag", request_id, path, field, value))[-1]
    return reply.address, reply.params


def sidecar_fields(audio):
    """The sidecar document read with lxml alone: field -> (value, source attribute)."""
    root = etree.parse(audio + ".xml", etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    out = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("source"):
            out[etree.QName(el).localname] = ("".join(el.itertext()).strip(), el.get("source"))
    return out


def test_info_tells_each_field_and_where_it_came_from(library, monkeypatch):
    with BridgeProcess() as bridge:
        client = Client(bridge.port)
        info = fields(client, library["wav"])
        assert info["Format"] == ("wav", "measured")
        assert info["Duration"] == ("0.5", "measured")
        assert info["SampleRate"] == ("48000", "measured") and info["Channels"] == ("1", "measured")
        assert "Loudness" in info and info["Description"][1] == "machine"
        row = json.loads(run_sidecar("show", library["wav"], "--json").stdout)["index"]
        assert info["Description"][0] == row["Description"]
        assert info["Keywords"][0] == ", ".join(row["Keywords"])
        client.close()
    # the roots may come from the command line; without any, info and tag are refused
    monkeypatch.delenv("SIDECAR_CONFIG")
    with BridgeProcess() as bridge:
        client = Client(bridge.port)
        err = client.ask(messages.message("/sfx/info", 2, library["wav"]))[-1]
        assert err.address == "/sfx/error" and "no library root is configured" in err.params[1]
        client.close()
    with BridgeProcess("--root", str(library["lib"])) as bridge:
        client = Client(bridge.port)
        assert "Description" in fields(client, library["wav"])
        client.close()


def test_a_person_tags_from_the_daw_and_every_reader_sees_it(library):
    wav, flac = library["wav"], library["flac"]
    words = "Old oak door, slow creak — recorded in Orléans"
    with BridgeProcess() as bridge:
        client = Client(bridge.port)
        assert tag(client, wav, "Description", words) == ("/sfx/tagged", [4, "Description", words, "person"])
        before = fields(client, flac)["Keywords"][0].split(", ")
        address, params = tag(client, flac, "Keywords+", f"oak, {before[0].upper()}")
        assert address == "/sfx/tagged" and params[1] == "Keywords"
        assert params[2].split(", ") == before + ["oak"]        # a word it had is not added again
        assert tag(client, flac, "Notes", "take 3 is best")[0] == "/sfx/tagged"
        assert tag(client, wav, "CatID", "DOORWood") == ("/sfx/tagged", [4, "CatID", "DOORWood", "person"])
        info = fields(client, wav)
        assert info["Description"] == (words, "person") and info["CatID"] == ("DOORWood", "person")
        assert info["Category"] == ("DOORS", "person") and info["SubCategory"] == ("WOOD", "person")
        assert info["Keywords"][1] != "person"
        client.close()
    # readers the project did not write
    wi = WavInfoReader(wav, bext_encoding="utf-8")
    assert wi.bext.description == words
    flac_tags = {k.upper(): v for k, v in FLAC(flac).tags.items()}
    assert "oak" in ", ".join(flac_tags["KEYWORDS"]).split(", ")
    assert any("take 3 is best" in v for v in sum(flac_tags.values(), []))
    # the sidecar marks the person's fields as theirs
    side = sidecar_fields(wav)
    assert side["Description"] == (words, "human") and side["CatID"] == ("DOORWood", "human")
    assert sidecar_fields(flac)["Notes"] == ("take 3 is best", "human")
    # a rescan keeps them: first the fast path, then with the file's time changed so it is re-read
    assert json.loads(run_sidecar("scan", str(library["lib"]), "--json").stdout)["unchanged"] == 2
    os.utime(wav, (1_700_000_000, 1_700_000_000))
    rescan = json.loads(run_sidecar("scan", str(library["lib"]), "--json").stdout)
    assert rescan["reindexed"] == 1 and rescan["failed"] == 0
    row = json.loads(run_sidecar("show", wav, "--json").stdout)["index"]
    assert row["Description"] == words and "Description" in row["human_fields"]
    assert "Description" not in row["provenance"]["machine_fields"]
    assert WavInfoReader(wav, bext_encoding="utf-8").bext.description == words
    assert sidecar_fields(wav)["Description"] == (words, "human")
    # undo gives the files back as they were before the service first wrote them
    undone = run_sidecar("undo", wav, flac)
    assert undone.returncode == 0, undone.stderr
    for path in (wav, flac):
        assert open(path, "rb").read() == library["originals"][path]
        assert not os.path.exists(path + ".xml")


def test_edits_that_cannot_be_made_are_refused_and_nothing_is_written(library, tmp_path):
    wav, lib = library["wav"], library["lib"]
    os.symlink(library["stray"], lib / "out.wav")
    os.symlink(wav, lib / "in.wav")
    before = {p: open(p, "rb").read() for p in (wav, library["stray"])}
    with BridgeProcess() as bridge:
        client = Client(bridge.port)

        def refused(path, field="Description", value="x"):
            address, params = tag(client, path, field, value, request_id=8)
            assert address == "/sfx/error" and params[0] == 8
            return params[1]

        assert refused(library["stray"]).startswith("outside the library roots")
        assert refused(str(lib / ".." / "elsewhere" / "stray.wav")).startswith("outside the library roots")
        assert refused(str(lib / "out.wav")).startswith("outside the library roots")
        assert "symbolic link" in refused(str(lib / "in.wav"))
        assert refused("door.wav") == "path must be absolute: door.wav"
        assert refused(wav, "Duration", "3").startswith("unknown field 'Duration'")
        assert refused(wav, "Description", "  ").startswith("an empty Description")
        assert "not in the index" in refused(str(lib / "missing.wav"))
        err = client.ask(messages.message("/sfx/info", 9, library["stray"]))[-1]
        assert err.address == "/sfx/error" and err.params[1].startswith("outside the library roots")
        # a file another tool changed since the scan: refused until it is scanned again
        os.utime(wav, (1_600_000_000, 1_600_000_000))
        assert "changed since it was indexed" in refused(wav)
        client.close()
    assert {p: open(p, "rb").read() for p in before} == before
    assert "Traceback" not in bridge.stderr
