"""Keywords are owned word by word: the words a person wrote stay through every later scan,
policy and engine; the service's own words beside them are refreshed by each classification."""

from __future__ import annotations

import json

import pytest
from lxml import etree
from mutagen.flac import FLAC

import audiogen
from conftest import run_sidecar

NS = {"sc": "urn:sfx-sidecar:sidecar:1"}
PERSON = ["Gare du Nord", "valve 3"]
#: words the descriptor engine says of a 440 Hz tone (Sine wave, 0.99) and the AudioSet engine does
#: not (it hears a telephone: Telephone, Dial tone, Alarm and Busy signal above 0.95, no Sine wave
#: even at 0.05)
DESCRIPTOR_WORDS = {"sine wave", "oscillator"}


def person_file(lib, words) -> str:
    path = audiogen.write(str(lib / "valve"), "flac", audiogen.tone())     # heard surely: a telephone tone
    tags = FLAC(path)
    tags["KEYWORDS"] = [", ".join(words)]
    tags.save()
    return path


def scan(lib, db, *extra) -> dict:
    out = run_sidecar("scan", str(lib), "--json", "--db", db, *extra)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def indexed(path, db) -> dict:
    out = run_sidecar("show", path, "--json", "--db", db)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["index"]


def file_keywords(path) -> list[str]:
    return FLAC(path)["KEYWORDS"][0].split(", ")


@pytest.mark.parametrize("first, second", [
    ("append", "append"), ("fill-empty", "fill-empty"), ("replace", "replace"),
    ("append", "fill-empty"), ("fill-empty", "replace"), ("replace", "append"),
])
def test_a_persons_keywords_survive_a_later_scan_by_another_engine_under_every_policy(tmp_path, first, second):
    lib = tmp_path / "lib"
    path = person_file(lib, PERSON)
    db = str(tmp_path / "i.db")
    # first heard by the descriptor engine; the AudioSet engine hears it again (a new engine)
    scan(lib, db, "--classifier", "descriptors", "--policy", first)
    before = indexed(path, db)
    assert before["provenance"]["person_keywords"] == PERSON
    if first != "fill-empty":
        assert DESCRIPTOR_WORDS <= set(before["Keywords"])
    assert scan(lib, db, "--policy", second)["classified"] == 1

    row = indexed(path, db)
    assert row["provenance"]["engine"] == "embedded"
    for words in (row["Keywords"], file_keywords(path)):    # the index, and the file as mutagen reads it
        assert words[:2] == PERSON                            # the person's words, first, as written
        # the descriptor engine's words were the service's: the new classification replaced them
        assert not DESCRIPTOR_WORDS & set(words)
    assert row["provenance"]["person_keywords"] == PERSON
    if second == "fill-empty":
        assert row["Keywords"] == PERSON                      # nothing added beside a person's words
    else:
        assert len(row["Keywords"]) > 2                       # the classifier's words after them
    embedded = json.loads(FLAC(path)["SFX_SIDECAR"][0])
    assert embedded["person_keywords"] == PERSON
    keywords = etree.parse(path + ".xml").find("sc:Metadata/sc:Keywords", NS)
    marked = [k.text for k in keywords if k.get("source") == "human"]
    assert marked == PERSON or keywords.get("source") == "human" and row["Keywords"] == PERSON

    again = scan(lib, db, "--policy", second)                 # and nothing moves after that
    assert again["unchanged"] == 1


@pytest.mark.parametrize("policy", ["append", "replace"])
def test_a_long_list_of_a_persons_keywords_is_never_cut(tmp_path, policy):
    """A library manager's list longer than the classifier's own limit keeps every word."""
    words = PERSON + [f"take {i:02d}" for i in range(44)]
    lib = tmp_path / "lib"
    path = person_file(lib, words)
    db = str(tmp_path / "i.db")
    scan(lib, db, "--classifier", "descriptors", "--policy", policy)
    scan(lib, db, "--policy", policy)
    row = indexed(path, db)
    assert row["provenance"]["engine"] == "embedded"
    assert row["Keywords"][:len(words)] == words
    assert file_keywords(path)[:len(words)] == words


def test_a_word_a_person_adds_after_a_scan_is_theirs_and_the_services_words_stay_its_own(tmp_path):
    lib = tmp_path / "lib"
    path = person_file(lib, PERSON)
    db = str(tmp_path / "i.db")
    scan(lib, db, "--classifier", "descriptors")
    tags = FLAC(path)
    tags["KEYWORDS"] = [tags["KEYWORDS"][0] + ", steam leak"]     # a person's word, in their tag editor
    tags.save()
    scan(lib, db, "--classifier", "descriptors")                 # audio unchanged: the index learns it
    assert indexed(path, db)["provenance"]["person_keywords"] == PERSON + ["steam leak"]

    scan(lib, db)                                                  # heard again by another engine
    row = indexed(path, db)
    for words in (row["Keywords"], file_keywords(path)):
        assert words[:3] == PERSON + ["steam leak"] and not DESCRIPTOR_WORDS & set(words)
    assert row["provenance"]["person_keywords"] == PERSON + ["steam leak"]


def test_a_new_index_tells_a_persons_words_from_the_sidecars_marks(tmp_path):
    """On another machine, or after the index is lost, the sidecar's marks say whose words are whose."""
    lib = tmp_path / "lib"
    path = person_file(lib, PERSON)
    scan(lib, str(tmp_path / "old.db"), "--classifier", "descriptors")
    db = str(tmp_path / "new.db")
    scan(lib, db)                                             # a new index, and another engine
    row = indexed(path, db)
    assert row["provenance"]["engine"] == "embedded" and row["provenance"]["person_keywords"] == PERSON
    for words in (row["Keywords"], file_keywords(path)):
        assert words[:2] == PERSON and not DESCRIPTOR_WORDS & set(words)


def test_an_index_from_before_words_had_an_owner_keeps_the_whole_list_a_person_had_words_in(tmp_path):
    """Such an index cannot tell the person's words from the service's in a mixed list: all stay."""
    import sqlite3
    lib = tmp_path / "lib"
    path = person_file(lib, PERSON)
    db = str(tmp_path / "i.db")
    scan(lib, db, "--classifier", "descriptors", "--no-sidecar")
    with sqlite3.connect(db) as conn:
        (record_json,) = conn.execute("SELECT record FROM files").fetchone()
        record = json.loads(record_json)
        del record["provenance"]["person_keywords"]
        conn.execute("UPDATE files SET record = ?", (json.dumps(record),))
    before = indexed(path, db)
    assert "Keywords" in before["human_fields"] and DESCRIPTOR_WORDS <= set(before["Keywords"])
    scan(lib, db, "--no-sidecar", "--policy", "replace")
    row = indexed(path, db)
    assert row["provenance"]["engine"] == "embedded"
    assert row["Keywords"][:len(before["Keywords"])] == before["Keywords"]
    assert row["provenance"]["person_keywords"] == before["Keywords"]
