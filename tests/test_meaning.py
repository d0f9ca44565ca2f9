"""Search by meaning on a generated index whose files carry known labels and words: queries that
share no word with their targets find them, a file with labels only is found through them, a
changed Description changes the file's text vector, bad queries get one clear line, and the OSC
address answers end to end over UDP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sidecar.index.interfaces import IndexedFile
from sidecar.index.store import open_store
from sidecar.meaning import words
from sidecar.meaning.search import MeaningError, MeaningSearch, check_query
from sidecar.meaning.text_model import shared
from sidecar.metadata.record import Label, Provenance, Record

SIDECAR = str(Path(sys.executable).with_name("sidecar"))

#: name -> (Description, Keywords, CatID, labels heard (name, mid, probability))
LIBRARY = {
    "ANMLDog_Large hound in yard.wav": ("Large hound in the yard, two barks", ["bark", "yard"], "ANMLDog",
                                        [("Dog", "/m/0bt9lr", 0.92), ("Bark", "/m/05tny_", 0.81),
                                         ("Animal", "/m/0jbk", 0.95)]),
    "CRWDApls_Theatre end of show.wav": ("Theatre audience at the end of the show", ["theatre", "audience"],
                                         "CRWDApls", [("Applause", "/m/028ght", 0.9), ("Crowd", "/m/03qtwd", 0.6)]),
    "RAIN_Storm on the porch.wav": ("Storm on the porch, steady", ["porch", "storm", "wet"], "RAIN",
                                    [("Rain", "/m/06mb1", 0.88), ("Rain on surface", "/t/dd00038", 0.7)]),
    "VEHCar_Sedan pass by.wav": ("Sedan passes by left to right", ["pass by", "sedan"], "VEHCar",
                                 [("Car", "/m/0k4j", 0.85), ("Vehicle", "/m/07yv9", 0.9)]),
    "DOORWood_Old door.wav": ("Old door opens slowly", ["door", "hinge"], "DOORWood",
                              [("Door", "/m/02dgv", 0.8), ("Creak", "/m/07qh7jl", 0.6)]),
    "GLASBreak_Bottle.wav": ("Bottle dropped on concrete", ["bottle"], "GLASBreak",
                             [("Shatter", "/m/07rn7sz", 0.8), ("Glass", "/m/039jq", 0.7)]),
    "FOOTGrvl_Walk.wav": ("Walking on gravel path", ["gravel", "walk"], "FOOTGrvl",
                          [("Walk, footsteps", "/m/07pbtc8", 0.8)]),
    "AMBForst_Birds morning.wav": ("Forest at dawn, songbirds", ["forest", "dawn"], "AMBForst",
                                   [("Bird", "/m/015p6", 0.8)]),
    "WATRFlow_Creek.wav": ("Small creek flowing over stones", ["creek", "stones"], "WATRFlow",
                           [("Stream", "/m/0j6m2", 0.8), ("Water", "/m/0838f", 0.7)]),
    # no words of its own (a bare take number), only what was heard
    "0007.wav": ("", [], "", [("Cat", "/m/01yrx", 0.9), ("Meow", "/m/07qrkrw", 0.8)]),
    # words only: nobody has heard it
    "Untitled marimba phrase.wav": ("Marimba, a short melodic phrase", ["mallet", "percussion"], "", []),
}


def _row(folder: Path, name: str, description=None) -> IndexedFile:
    desc, keywords, catid, heard = LIBRARY[name]
    rec = Record(Description=desc if description is None else description, Keywords=list(keywords), CatID=catid,
                 provenance=Provenance(engine="embedded" if heard else "",
                                       labels=[Label(n, p, mid) for n, mid, p in heard]))
    return IndexedFile(str(folder / name), 10, 1, "fp-" + name, "wav", rec)


def _library(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "index.db"
    store = open_store(db)
    for name in LIBRARY:
        store.files.upsert(_row(folder, name))
    store.close()
    return db


@pytest.fixture(scope="module")
def model():
    return shared()


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return _library(tmp_path_factory.mktemp("meaning") / "lib")


@pytest.fixture
def searcher(library, model):
    store = open_store(library)
    yield MeaningSearch(store, model=model)
    store.close()


def _names(answer) -> list[str]:
    return [os.path.basename(h.path) for h in answer.hits]


@pytest.mark.parametrize("query, target", [
    ("canine", "ANMLDog_Large hound in yard.wav"),
    ("people clapping", "CRWDApls_Theatre end of show.wav"),
    ("downpour", "RAIN_Storm on the porch.wav"),
    ("automobile", "VEHCar_Sedan pass by.wav"),
    ("creaky wooden entrance", "DOORWood_Old door.wav"),
    ("smashing a wine glass", "GLASBreak_Bottle.wav"),
    ("babbling brook", "WATRFlow_Creek.wav"),
    ("vibraphone tune", "Untitled marimba phrase.wav"),
])
def test_a_query_sharing_no_word_with_its_target_finds_it_among_the_first_three(searcher, query, target):
    desc, keywords, catid, _ = LIBRARY[target]
    own = set(re.findall(r"\w+", words.file_words(target, Record(Description=desc, Keywords=keywords,
                                                                   CatID=catid)).lower()))
    assert not own & set(query.lower().split()), "the query must share no word with the file"
    answer = searcher(query, 3)
    assert target in _names(answer)
    hit = answer.hits[_names(answer).index(target)]
    assert hit.why() and all(re.search(r"\(\d\.\d\d\)$", reason) for reason in hit.why())


def test_the_listed_queries_come_first(searcher):
    for query, target in [("canine", "ANMLDog_Large hound in yard.wav"),
                          ("people clapping", "CRWDApls_Theatre end of show.wav"),
                          ("downpour", "RAIN_Storm on the porch.wav"),
                          ("automobile", "VEHCar_Sedan pass by.wav")]:
        assert _names(searcher(query, 3))[0] == target, query


def test_a_file_with_labels_only_is_found_through_its_labels(searcher):
    answer = searcher("kitten", 3)
    assert _names(answer)[0] == "0007.wav"
    hit = answer.hits[0]
    assert hit.words_score is None and hit.words == ""
    assert hit.heard_score is not None and hit.carried[0][0] == "Cat"
    assert hit.why() == [f"heard as Cat 90%, Meow 80% ({hit.heard_score:.2f})"]


def test_a_file_nobody_heard_is_found_through_its_words(searcher):
    hit = searcher("vibraphone tune", 3).hits[0]
    assert os.path.basename(hit.path) == "Untitled marimba phrase.wav"
    assert hit.heard_score is None and hit.why()[0].startswith('its words "Marimba, a short melodic phrase')


def test_quality_flag_keywords_are_not_words_of_meaning():
    """"clipping" says how a file was recorded, not what it sounds like: it would find a clipped
    recording for "people clapping". A person's own keyword of the same spelling stays."""
    rec = Record(Description="Car door slam", Keywords=["door", "slam", "clipping", "dc offset"])
    rec.provenance = Provenance(quality=[Label("Clipping", 0.9, "/x/sidecar/clipping"),
                                         Label("DC offset", 0.7, "/x/sidecar/dc-offset")])
    text = words.file_words("/lib/VEHDoor_Slam.wav", rec)
    assert "door, slam" in text and "clipping" not in text.lower() and "offset" not in text.lower()
    hedge = Record(Description="Hedge trimmer", Keywords=["hedge", "clipping"])
    assert "clipping" in words.file_words("/lib/Hedge.wav", hedge)


def test_a_description_change_changes_the_text_vector(tmp_path, model):
    db = _library(tmp_path / "lib")
    store = open_store(db)
    search = MeaningSearch(store, model=model)
    assert _names(search("chirping songbirds", 1)) == ["AMBForst_Birds morning.wav"]
    table = store.text_vectors
    path = str(tmp_path / "lib" / "FOOTGrvl_Walk.wav")
    file_id = store.db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()[0]
    before_words = dict(table.kind("words").by_ids([file_id]))[file_id]
    before_heard = dict(table.kind("heard").by_ids([file_id]))[file_id]
    seq = table.kind("words").last_change()

    store.files.upsert(_row(tmp_path / "lib", "FOOTGrvl_Walk.wav", description="Parrots squawking in the jungle canopy"))
    assert table.todo() and table.todo()[0][0] == file_id
    answer = search("tropical birds screeching", 2)
    after_words = dict(table.kind("words").by_ids([file_id]))[file_id]
    assert after_words != before_words
    assert np.dot(np.frombuffer(after_words, "<f4"), np.frombuffer(before_words, "<f4")) < 0.9
    assert dict(table.kind("heard").by_ids([file_id]))[file_id] == before_heard   # same labels, same vector
    assert [f for _, f in table.kind("words").changes(seq)] == [file_id]     # the log says so, once
    assert table.kind("heard").changes(seq) == []
    assert "FOOTGrvl_Walk.wav" in _names(answer)
    assert table.todo() == []

    # the same words again: nothing is encoded, no vector changes
    store.files.upsert(_row(tmp_path / "lib", "FOOTGrvl_Walk.wav", description="Parrots squawking in the jungle canopy"))
    seq = table.kind("words").last_change()
    from sidecar.meaning.refresh import refresh
    done = refresh(store, table, model, search.labels)
    assert (done.files, done.encoded) == (1, 0) and table.kind("words").last_change() == seq

    # words read by older rules: every file is looked at once, only changed texts are encoded
    table.set_state("words", "1")
    done = refresh(store, table, model, search.labels)
    assert done.files == len(LIBRARY) and done.encoded == 0 and table.state("words") == words.WORDS_RULES
    assert refresh(store, table, model, search.labels).files == 0
    store.close()


def test_a_deleted_file_leaves_the_answers(tmp_path, model):
    db = _library(tmp_path / "lib")
    store = open_store(db)
    search = MeaningSearch(store, model=model)
    assert _names(search("canine", 1)) == ["ANMLDog_Large hound in yard.wav"]
    store.files.delete(str(tmp_path / "lib" / "ANMLDog_Large hound in yard.wav"))
    assert "ANMLDog_Large hound in yard.wav" not in _names(search("canine", 20))
    assert store.text_vectors.kind("words").count() == len(LIBRARY) - 2      # deleted, and 0007.wav has none
    store.close()


@pytest.mark.parametrize("text, message", [
    ("", "empty query"),
    ("   \t\n ", "empty query"),
    ("dog\x00bark", "control characters (U+0000)"),
    ("door\x1b[31m", "control characters (U+001B)"),
    ("x" * 100_001, "characters long"),
    (None, "must be text"),
])
def test_a_query_that_cannot_be_searched_is_one_clear_line(text, message):
    with pytest.raises(MeaningError) as err:
        check_query(text)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_another_language_is_searched_and_told_the_model_is_english(searcher):
    text, notices = check_query("犬の鳴き声")
    assert text == "犬の鳴き声" and notices == ["the text model is English: a query in another language finds little"]
    assert "English" in searcher("犬の鳴き声", 5).notices[0]


def test_a_long_query_is_cut_to_256_tokens_and_says_so(searcher):
    answer = searcher("heavy rain falling on the roof " * 400, 3)       # 12 kB
    assert any("cut to its first 256 tokens" in n for n in answer.notices)
    assert _names(answer)[0] == "RAIN_Storm on the porch.wav"


def _sidecar(*args, env=None):
    return subprocess.run([SIDECAR, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=300)


def test_the_command_line_answers_with_why_and_json(library):
    out = _sidecar("search", "--db", str(library), "--meaning", "canine", "--limit", "2", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 2 and rows[0]["path"].endswith("ANMLDog_Large hound in yard.wav")
    assert rows[0]["heard"]["labels"][0]["label"] in ("Dog", "Bark", "Animal") and rows[0]["why"]
    assert rows[0]["score"] >= rows[1]["score"]
    table = _sidecar("search", "--db", str(library), "--meaning", "automobile", "-n", "1")
    assert table.returncode == 0 and " VEHCar " in table.stdout and "heard as Car" in table.stdout


@pytest.mark.parametrize("text, code, words", [
    ("", 1, "empty query"),
    ("bell\x07", 1, "control characters (U+0007)"),
    ("скрип деревянной двери", 0, "English"),
])
def test_bad_queries_on_the_command_line_are_one_line_never_a_traceback(library, text, code, words):
    out = _sidecar("search", "--db", str(library), "--meaning", text)
    assert out.returncode == code and words in out.stderr and "Traceback" not in out.stderr


def test_a_missing_text_model_is_one_line_and_plain_search_still_works(library, tmp_path):
    env = {"SIDECAR_TEXT_MODEL": str(tmp_path / "no-model")}
    out = _sidecar("search", "--db", str(library), "--meaning", "canine", env=env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and str(tmp_path / "no-model") in out.stderr
    plain = _sidecar("search", "--db", str(library), "hound", "--json", env=env)
    assert plain.returncode == 0 and "ANMLDog_Large hound in yard.wav" in plain.stdout


def test_help_says_the_model_is_english():
    out = _sidecar("search", "--help")
    assert "--meaning" in out.stdout and "English" in out.stdout


def test_the_osc_address_end_to_end_over_udp(tmp_path):
    from bridge_support import BridgeProcess, Client
    from daw_bridge import messages
    folder = tmp_path / "lib"
    db = _library(folder)
    with BridgeProcess("--db", str(db), "--root", str(folder)) as bridge:
        client = Client(bridge.port, timeout=120)
        try:
            listed = client.ask(messages.message("/sfx/addresses", 1))[-1]
            assert "/sfx/meaning" in listed.params[1].split()
            replies = client.ask(messages.message("/sfx/meaning", 7, "people clapping", 3))
            results = [m for m in replies if m.address == "/sfx/result"]
            assert replies[-1].address == "/sfx/done" and replies[-1].params == [7, len(results)]
            assert results[0].params[:3] == [7, 1, str(folder / "CRWDApls_Theatre end of show.wav")]
            assert results[0].params[3] == "CRWDApls" and 1 <= len(results) <= 3

            # a Description changed in the index between two queries is searched at the next one
            store = open_store(db)
            store.files.upsert(_row(folder, "GLASBreak_Bottle.wav", description="A choir singing a hymn in a cathedral"))
            store.close()
            replies = client.ask(messages.message("/sfx/meaning", 8, "church vocal ensemble", 1))
            assert [m.params[2] for m in replies if m.address == "/sfx/result"] == [str(folder / "GLASBreak_Bottle.wav")]

            error = client.ask(messages.message("/sfx/meaning", 9, "  "))
            assert [(m.address, m.params[0]) for m in error] == [("/sfx/error", 9)]
            assert "empty query" in error[0].params[1]
            long = client.ask(messages.message("/sfx/meaning", 10, "rain on the roof " * 150, 2))
            notices = [m.params[1] for m in long if m.address == "/sfx/notice"]
            assert long[0].address == "/sfx/notice" and "256 tokens" in notices[0]
            assert long[-1].address == "/sfx/done" and long[-1].params[0] == 10
            wrong = client.ask(messages.message("/sfx/meaning", 11, 5))
            assert wrong[0].address == "/sfx/error" and "text must be a string" in wrong[0].params[1]
        finally:
            client.close()
    assert "Traceback" not in bridge.stderr


def test_a_scan_computes_the_text_vectors_of_new_files_once_meaning_search_is_used(tmp_path):
    """Index time: after the first search by meaning, each scan brings the text vectors of the files
    it indexed up to date itself (a library that never searches by meaning never loads the model)."""
    import audiogen
    from mutagen.flac import FLAC
    lib, db = tmp_path / "lib", str(tmp_path / "i.db")

    def flac(name, description):
        path = audiogen.write(str(lib / name), "flac", audiogen.clicks(1.0))
        f = FLAC(path)
        f["DESCRIPTION"] = [description]
        f.save()
        return path

    first = flac("take one", "A goat bleating on a hillside farm")
    scan = ["scan", str(lib), "--db", db, "--classifier", "descriptors"]
    assert _sidecar(*scan).returncode == 0
    store = open_store(db)
    assert not store.text_vectors.exists()
    store.close()
    out = _sidecar("search", "--db", db, "--meaning", "sheep noises", "--json")
    assert out.returncode == 0, out.stderr
    assert [r["path"] for r in json.loads(out.stdout)] == [first]

    second = flac("take two", "Wolves howling under the moon")
    result = _sidecar(*scan)
    assert result.returncode == 0, result.stderr
    store = open_store(db)
    table = store.text_vectors
    assert table.todo() == [] and table.kind("words").count() == 2      # the scan made them, no query did
    second_id = store.db.execute("SELECT id FROM files WHERE path = ?", (second,)).fetchone()[0]
    wolf = np.frombuffer(dict(table.kind("words").by_ids([second_id]))[second_id], "<f4")
    store.close()
    query = shared().encode_one("a pack of wild canines at night")[0]
    goat = shared().encode_one("A goat bleating on a hillside farm")[0]
    assert wolf @ query > goat @ query


def test_a_large_library_is_searched_through_the_approximate_index(tmp_path, model, monkeypatch):
    """Past EXACT_BELOW text vectors, each kind goes into the sounds-like machinery's graph (files
    index.db.text-KIND-N.usearch, saved after a scan, replaying the change log when opened): the
    answers match the exact search's, and a change made by another connection is found."""
    import sidecar.meaning.search as meaning_search
    from sidecar.meaning import labels as label_vectors
    from sidecar.meaning.refresh import maintain
    from sidecar.meaning.refresh import as_blob
    from sidecar.similarity import search as similarity_search
    from sidecar.similarity.vector_index import ExactVectors, VectorIndex

    db = _library(tmp_path / "lib")
    store = open_store(db)
    exact = MeaningSearch(store, model=model)
    exact("warm up", 1)                                  # the real files' vectors made
    lv = label_vectors.load(model)
    rng = np.random.default_rng(5)
    table = store.text_vectors
    with store.atomic():                                 # 400 more files, vectors made from label vectors
        for i in range(400):
            store.files.upsert(IndexedFile(str(tmp_path / "lib" / f"filler {i:03d}.wav"), 1, 1, f"x{i}", "wav", Record()))
    ids = [file_id for file_id, _ in table.todo()]
    rows = []
    for file_id in ids:
        picks = rng.choice(len(lv.names), size=3, replace=False)
        heard = np.array([0.9, 0.5, 0.2], np.float32) @ lv.matrix[picks]
        words = lv.matrix[picks[0]] + rng.standard_normal(384).astype(np.float32) * 0.03
        rows.append((file_id, f"d{file_id}", as_blob(words / np.linalg.norm(words)),
                     as_blob(heard / np.linalg.norm(heard))))
    table.write(rows, table.todo())
    monkeypatch.setattr(meaning_search, "EXACT_BELOW", 100)
    monkeypatch.setattr(similarity_search, "EXACT_BELOW", 100)
    maintain(store)                                      # as a scan ends: the graphs are saved
    graphs = sorted(p.name for p in (tmp_path / "lib").glob("index.db.text-*.usearch"))
    assert [g.rsplit("-", 1)[0] for g in graphs] == ["index.db.text-heard", "index.db.text-words"]

    large = MeaningSearch(open_store(db), model=model)
    queries = ["canine", "people clapping", "downpour", "automobile", "kitten", "vibraphone tune"]
    for q in queries:
        answer = large(q, 5)
        assert all(isinstance(large.kept[k], VectorIndex) for k in ("words", "heard"))
        truth = MeaningSearch(store, model=model)
        truth.kept = {k: ExactVectors(table.kind(k)) for k in ("words", "heard")}
        monkeypatch.setattr(meaning_search, "EXACT_BELOW", 10_000)
        expected = truth(q, 5)
        monkeypatch.setattr(meaning_search, "EXACT_BELOW", 100)
        assert _names(answer)[0] == _names(expected)[0]
        assert len(set(_names(answer)) & set(_names(expected))) >= 4

    other = open_store(db)                               # a change made by another process
    other.files.upsert(_row(tmp_path / "lib", "GLASBreak_Bottle.wav", description="A choir singing a hymn in a cathedral"))
    MeaningSearch(other, model=model).catch_up(None)
    other.close()
    large("church vocal ensemble", 10)
    changed = store.db.execute("SELECT id FROM files WHERE path LIKE '%GLASBreak_Bottle.wav'").fetchone()[0]
    nearest = large.kept["words"].search(model.encode_one("church vocal ensemble")[0], 1)
    assert isinstance(large.kept["words"], VectorIndex) and nearest[0][0] == changed
    store.close()
