"""The search language returns exactly the expected files of a generated index, on both backends."""

import pytest

from sidecar.errors import QueryError
from sidecar.index.query import parse
from sidecar.index.interfaces import IndexedFile
from sidecar.index.store import open_store
from sidecar.metadata.record import Label, Provenance, Record

LIBRARY = {
    "/lib/Doors/wood door creak.wav": ("Old wood door creaks open", ["door", "wood", "creak"], "DOORWood"),
    "/lib/Doors/metal door slam.wav": ("Heavy metal door slams shut", ["door", "metal", "slam"], "DOORMetl"),
    "/lib/Cars/car door close.wav": ("Car door closes", ["car", "door", "vehicle"], "VEHDoor"),
    "/lib/Animals/dog bark.wav": ("Dog barking twice", ["dog", "bark", "animal"], "ANMLDog"),
    "/lib/Animals/doghouse ambience.wav": ("Night crickets near a doghouse", ["crickets", "night"], "AMBRurl"),
    "/lib/Footsteps/footsteps gravel.wav": ("Footsteps on gravel", ["footsteps", "gravel"], "FOOTGrvl"),
}


@pytest.fixture
def store(index_store):
    s = index_store
    for path, (desc, kw, catid) in LIBRARY.items():
        rec = Record(Description=desc, Keywords=kw, CatID=catid,
                     provenance=Provenance(engine="embedded", labels=[Label("Impulsive", 0.8)]))
        s.files.upsert(IndexedFile(path, 10, 1, "fp-" + path, "wav", rec))
    return s


def names(hits):
    return sorted(h.path.rsplit("/", 1)[1] for h in hits)


@pytest.mark.parametrize("query, expected", [
    ("door", ["car door close.wav", "metal door slam.wav", "wood door creak.wav"]),
    ("door metal", ["metal door slam.wav"]),                       # AND
    ("door -metal", ["car door close.wav", "wood door creak.wav"]),  # NOT
    ("dog, gravel", ["dog bark.wav", "footsteps gravel.wav"]),     # OR
    ('"car door"', ["car door close.wav"]),                          # phrase
    ('"door car"', []),                                              # a phrase keeps its order
    ("foot*", ["footsteps gravel.wav"]),                             # prefix
    ("dog*", ["dog bark.wav", "doghouse ambience.wav"]),
    ("-door", ["dog bark.wav", "doghouse ambience.wav", "footsteps gravel.wav"]),
    ("door -metal, dog -night", ["car door close.wav", "dog bark.wav", "wood door creak.wav"]),
    ("category:DOORWood", ["wood door creak.wav"]),
    ("path:Animals", ["dog bark.wav", "doghouse ambience.wav"]),
    ("labels:impulsive dog", ["dog bark.wav"]),
    ("nothingmatches", []),
])
def test_search_language(store, query, expected):
    assert names(store.files.search(query)) == expected


def test_single_word_does_not_match_inside_a_longer_word(store):
    assert names(store.files.search("dog")) == ["dog bark.wav"]


def test_synonyms_expand_in_the_query_not_the_index(store):
    hits = store.files.search("pooch", expand=lambda w: ["dog"] if w == "pooch" else [])
    assert names(hits) == ["dog bark.wav"]
    assert store.files.search("pooch") == []


def test_best_first(store):
    hits = store.files.search("door")
    assert len(hits) == 3


def test_fts_syntax_in_input_is_literal(store):
    # FTS5 operators typed by a user are words, never syntax
    assert store.files.search("NEAR(door") == []
    assert names(store.files.search("door AND")) == []


@pytest.mark.parametrize("bad", ['"unbalanced', "", "   ", ",,", "bogus:door", "*"])
def test_malformed_queries_raise_query_error(bad):
    with pytest.raises(QueryError):
        parse(bad)


def test_search_sql_binds_the_match_string():
    store = open_store(":memory:")
    sql, params = store.files.search_sql(parse('door -metal "car door" foo*'))
    assert "MATCH ?" in sql and "door" not in sql
    assert params == ['(("door" AND "car door" AND "foo"*) NOT ("metal"))']
