"""Search text found in the field: synonyms and folders, CJK words, queries that begin with `-`,
and the store's pruning helpers."""

import json
import sqlite3

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from sidecar.cli import cli
from sidecar.index.query import cjk_split, parse
from sidecar.index.sqlite import SCHEMA_VERSION
from sidecar.index.interfaces import IndexedFile
from sidecar.index.store import open_store
from sidecar.metadata.record import Label, Provenance, Record

#: what the engine hears decides these: they also run on the int8 numeric path (make test)
pytestmark = pytest.mark.labels

SYNONYMS = {"sine": ["tone", "sine wave"], "rain": ["downpour"]}


def synonyms(word):
    return SYNONYMS.get(word.lower(), [])


def add(store, path, description="", keywords=(), catid="", labels=()):
    rec = Record(Description=description, Keywords=list(keywords), CatID=catid,
                 provenance=Provenance(engine="embedded", labels=[Label(x, 0.8) for x in labels]))
    store.files.upsert(IndexedFile(path, 10, 1, "fp-" + path, "wav", rec))


def names(hits):
    return sorted(h.path.rsplit("/", 1)[1] for h in hits)


@pytest.fixture
def store():
    s = open_store(":memory:")
    add(s, "/lib/Tones/Silence 1s.wav", "Digital silence", ["silence"], labels=["Silence"])
    add(s, "/lib/Test/sine 440.wav", "Sine wave at 440 Hz", ["sine wave", "test tone"], "TEST")
    add(s, "/lib/Test/pure.wav", "A pure tone", ["tone"], "TEST")
    add(s, "/lib/強い雨の音.wav", "", [], labels=["Rain"])
    add(s, "/lib/Amb/AMBTraf_東京駅.wav", "駅のホーム", ["traffic"])
    add(s, "/lib/Amb/비오는 소리.wav", "강한 비", [])
    yield s
    s.close()


# -- synonyms never match folders ---------------------------------------------

def test_a_synonym_does_not_match_a_folder(store):
    assert names(store.files.search("sine", expand=synonyms)) == ["pure.wav", "sine 440.wav"]
    assert names(store.files.search("sine", expand=synonyms, limit=10)) == ["pure.wav", "sine 440.wav"]


def test_the_word_as_typed_still_matches_a_folder(store):
    assert names(store.files.search("tones")) == ["Silence 1s.wav", "pure.wav", "sine 440.wav"]
    assert names(store.files.search("path:tones", expand=synonyms)) == ["Silence 1s.wav"]
    assert names(store.files.search("path:sine", expand=synonyms)) == []


def test_a_synonym_keeps_an_explicit_column(store):
    assert names(store.files.search("keywords:sine", expand=synonyms)) == ["pure.wav", "sine 440.wav"]
    assert names(store.files.search("description:sine", expand=synonyms)) == ["pure.wav", "sine 440.wav"]
    assert names(store.files.search("name:sine", expand=synonyms)) == ["sine 440.wav"]
    assert names(store.files.search("-sine", expand=synonyms)) == [
        "AMBTraf_東京駅.wav", "Silence 1s.wav", "強い雨の音.wav", "비오는 소리.wav"]


def test_the_synonym_expression():
    """"sine wave" holds "sine": it can match no file "sine" does not, so the query leaves it out."""
    term = parse("sine").expanded(synonyms).groups[0].terms[0]
    assert term.fts() == '("sine" OR {t_description t_keywords t_labels t_category t_name} : ("tone"))'
    named = parse("name:sine").expanded(synonyms).groups[0].terms[0]
    assert named.fts() == 't_name : ("sine" OR "tone")'
    assert parse("path:sine").expanded(synonyms).groups[0].terms[0].fts() == 't_path : "sine"'
    assert parse("sine*").expanded(synonyms).groups[0].terms[0].fts() == '"sine"*'


def test_synonyms_that_add_nothing_are_left_out_and_the_matches_stay(store):
    """Left out: what the tokenizer makes the word itself (creaking, creaks for creak), a phrase holding
    the word or a shorter synonym kept, a repeat. Kept: anything that may match another file."""
    from sidecar.index.useful_synonyms import useful_synonyms
    assert useful_synonyms("creak", ["creaking", "creaks", "creaky", "door creak", "squeak", "creaky"]) == (
        "creaky", "squeak")
    assert useful_synonyms("keyboard", ["typing", "computer keyboard", "typing sound", "keys"]) == (
        "typing", "keys")
    assert useful_synonyms("雨", ["強い雨", "downpour"]) == ("強い雨", "downpour")   # CJK: never dropped unsure
    assert useful_synonyms("rain", []) == ()
    wide = {"sine": ["tone", "sine wave", "sines", "sine tone", "tones"]}
    narrow = {"sine": ["tone"]}
    for query in ("sine", "sine wave", "name:sine", "sine, rain", "tone -silence"):
        found = names(store.files.search(query, expand=lambda w: wide.get(w.lower(), [])))
        assert found == names(store.files.search(query, expand=lambda w: narrow.get(w.lower(), []))), query
    assert names(store.files.search("sine", expand=lambda w: wide.get(w.lower(), []))) == [
        "pure.wav", "sine 440.wav"]


def test_synonym_search_end_to_end(tmp_path, db):
    lib = tmp_path / "lib" / "Tones"
    lib.mkdir(parents=True)
    sf.write(lib / "Silence 1s.wav", np.zeros(48000), 48000)
    runner = CliRunner()
    assert runner.invoke(cli, ["scan", str(tmp_path / "lib")]).exit_code == 0
    found = runner.invoke(cli, ["search", "sine", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout) == []
    assert len(json.loads(runner.invoke(cli, ["search", "tones", "--json"]).stdout)) == 1


# -- CJK ----------------------------------------------------------------------

def test_cjk_split():
    assert cjk_split("強い雨の音") == "強 い 雨 の 音"
    assert cjk_split("AMBTraf 東京駅") == "AMBTraf 東 京 駅"
    assert cjk_split("비오는 소리") == "비 오 는 소 리"
    assert cjk_split("door creak") == "door creak"
    assert cjk_split("café") == "café"
    assert cjk_split("\u1112\u1161\u11ab") == "한"   # decomposed Hangul, as macOS file names hold it


@pytest.mark.parametrize("query, expected", [
    ("雨", ["強い雨の音.wav"]),
    ("雨の音", ["強い雨の音.wav"]),
    ('"強い雨"', ["強い雨の音.wav"]),
    ("音 強", ["強い雨の音.wav"]),
    ("雨音", []),                                   # a phrase keeps its order and adjacency
    ("name:東京", ["AMBTraf_東京駅.wav"]),
    ("name:東京*", ["AMBTraf_東京駅.wav"]),
    ("東京 traffic", ["AMBTraf_東京駅.wav"]),
    ("ホーム", ["AMBTraf_東京駅.wav"]),              # Katakana, in the description
    ("description:駅", ["AMBTraf_東京駅.wav"]),
    ("name:駅のホーム", []),
    ("비", ["비오는 소리.wav"]),                      # Hangul
    ("강한", ["비오는 소리.wav"]),
    ("雨, 비", ["強い雨の音.wav", "비오는 소리.wav"]),
    ("-雨 -駅 -비", ["Silence 1s.wav", "pure.wav", "sine 440.wav"]),
])
def test_cjk_substrings_are_found(store, query, expected):
    assert names(store.files.search(query)) == expected
    if not query.startswith("-"):
        assert names(store.files.search(query, limit=20)) == expected


def test_cjk_end_to_end(tmp_path, db):
    lib = tmp_path / "lib"
    lib.mkdir()
    t = np.arange(48000) / 48000
    sf.write(lib / "強い雨の音.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 48000)
    sf.write(lib / "AMBTraf_東京駅.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 48000)
    runner = CliRunner()
    assert runner.invoke(cli, ["scan", str(lib)]).exit_code == 0

    def found(query):
        result = runner.invoke(cli, ["search", query, "--json"])
        assert result.exit_code == 0, result.output
        return [h["path"].rsplit("/", 1)[1] for h in json.loads(result.stdout)]

    assert found("雨") == ["強い雨の音.wav"]
    assert found("name:東京") == ["AMBTraf_東京駅.wav"]


def test_a_version_2_index_gets_prefix_indexes_on_open(tmp_path):
    """A version 2 index (no prefix indexes) is made again on open: the same answers, the
    options in the table's definition, the text columns left as they were."""
    path = str(tmp_path / "v2.db")
    s = open_store(path)
    add(s, "/lib/footsteps gravel.wav", "Footsteps on gravel", ["footsteps", "gravel"])
    add(s, "/lib/door.wav", "door", ["door"])
    s.db.execute("DROP TABLE files_fts")
    s.db.execute("CREATE VIRTUAL TABLE files_fts USING fts5(t_description, t_keywords, t_labels, t_category, "
                 "t_name, t_path, content='files', content_rowid='id', "
                 "tokenize='porter unicode61 remove_diacritics 2')")
    s.db.execute("INSERT INTO files_fts(files_fts) VALUES ('rebuild')")
    s.db.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    before = {q: names(s.files.search(q)) for q in ("fo*", "foo*", "gra*", "do*", "door")}
    s.close()

    s = open_store(path)
    assert s.db.schema_version() == SCHEMA_VERSION
    sql = s.db.execute("SELECT sql FROM sqlite_master WHERE name = 'files_fts'").fetchone()[0]
    assert "prefix='2 3'" in sql
    assert {q: names(s.files.search(q)) for q in before} == before
    assert before["fo*"] == ["footsteps gravel.wav"] and before["do*"] == ["door.wav"]
    add(s, "/lib/dog.wav", "dog", ["dog"])                  # the triggers still reach it
    assert names(s.files.search("do*")) == ["dog.wav", "door.wav"]
    s.db.execute("INSERT INTO files_fts(files_fts) VALUES ('integrity-check')")
    s.close()


def test_an_older_index_is_rebuilt_on_open(tmp_path):
    path = str(tmp_path / "old.db")
    s = open_store(path)
    add(s, "/lib/強い雨の音.wav", "雨の日", ["雨"])
    add(s, "/lib/door.wav", "door", ["door"])
    # as version 1 wrote it: CJK runs unsplit
    s.db.execute("UPDATE files SET t_name = '強い雨の音', t_description = '雨の日' WHERE path = '/lib/強い雨の音.wav'")
    s.db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    assert names(s.files.search("雨の日")) == []
    s.close()

    s = open_store(path)
    assert s.db.schema_version() == SCHEMA_VERSION
    assert names(s.files.search("音")) == ["強い雨の音.wav"]
    assert names(s.files.search("雨の日")) == ["強い雨の音.wav"]
    assert names(s.files.search("door")) == ["door.wav"]
    # the update trigger is back: a later change still reaches the full-text index
    add(s, "/lib/強い雨の音.wav", "風", [])
    assert names(s.files.search("風")) == ["強い雨の音.wav"]
    assert names(s.files.search("雨の日")) == []
    s.db.execute("INSERT INTO files_fts(files_fts) VALUES ('integrity-check')")
    s.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == str(SCHEMA_VERSION)
    con.close()


# -- queries that begin with "-" ------------------------------------------------

@pytest.fixture
def cli_db(tmp_path, db):
    s = open_store(db)
    add(s, str(tmp_path / "wood door.wav"), "Wood door", ["door", "wood"])
    add(s, str(tmp_path / "metal door.wav"), "Metal door", ["door", "metal"])
    add(s, str(tmp_path / "noise.wav"), "White noise", ["noise"])
    s.close()
    return db


def _search(*args):
    result = CliRunner().invoke(cli, ["search", *args])
    return result


def _found(*args):
    result = _search("--json", *args)   # first: after `--` every word is the query's
    assert result.exit_code == 0, result.output
    return sorted(h["path"].rsplit("/", 1)[1] for h in json.loads(result.stdout))


@pytest.mark.parametrize("args", [
    ["-metal door"], ["--", "-metal door"], ["-n", "5", "-metal door"], ["-metal door", "-n5"],
    ["--literal", "-metal door"], ["-metal door", "--limit=5"],
])
def test_a_query_may_begin_with_a_minus(cli_db, args):
    assert _found(*args) == ["wood door.wav"]


def test_a_negative_word_that_looks_like_an_option(cli_db):
    assert _found("-noise") == ["metal door.wav", "wood door.wav"]   # not -n oise
    assert _found("-n", "1", "-noise", "--literal") in (["metal door.wav"], ["wood door.wav"])
    assert _found("-metal") == ["noise.wav", "wood door.wav"]


@pytest.mark.parametrize("limit", ["0", "-1", "x"])
def test_limit_must_be_positive(cli_db, limit):
    result = _search("-n", limit, "door")
    assert result.exit_code == 2
    assert "limit" in result.output


def test_help_and_missing_query_still_work(cli_db):
    assert _search("--help").exit_code == 0
    assert _search("-h").exit_code == 0
    assert _search().exit_code == 2


# -- pruning helpers -------------------------------------------------------------

def test_paths_under(tmp_path):
    s = open_store(":memory:")
    for p in ["/lib/a/x.wav", "/lib/a/sub/y.wav", "/lib/ab/z.wav", "/lib/a_b/w.wav", "/lib/a%/v.wav",
              "/lib/a.wav", "/lib/A/u.wav", "/other/a/x.wav"]:
        add(s, p)
    assert s.files.paths_under("/lib/a") == ["/lib/a/sub/y.wav", "/lib/a/x.wav"]
    assert s.files.paths_under("/lib/a/") == ["/lib/a/sub/y.wav", "/lib/a/x.wav"]
    assert s.files.paths_under("/lib/a_b") == ["/lib/a_b/w.wav"]
    assert s.files.paths_under("/lib/a%") == ["/lib/a%/v.wav"]
    assert s.files.paths_under("/lib/a/sub") == ["/lib/a/sub/y.wav"]
    assert s.files.paths_under("/lib/nothing") == []
    assert len(s.files.paths_under("/lib")) == 7
    assert len(s.files.paths_under("/")) == 8


def test_paths_under_a_relative_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = open_store(":memory:")
    add(s, "lib/x.wav")
    assert s.files.paths_under("lib") == [str(tmp_path / "lib" / "x.wav")]


def test_delete_many(tmp_path):
    s = open_store(":memory:")
    for p in ["/lib/a/x.wav", "/lib/a/y.wav", "/lib/b/z.wav"]:
        add(s, p, "door", ["door"], labels=["Door"])
    assert s.files.delete_many(s.files.paths_under("/lib/a") + ["/lib/missing.wav"]) == 2
    assert [f.path for f in s.files.all()] == ["/lib/b/z.wav"]
    assert names(s.files.search("door")) == ["z.wav"]
    assert s.db.execute("SELECT count(*) FROM labels").fetchone()[0] == 1
    assert s.files.delete_many([]) == 0


def test_delete_many_is_one_transaction(tmp_path):
    s = open_store(":memory:")
    add(s, "/lib/x.wav")
    statements = []
    s.db.conn.set_trace_callback(statements.append)
    s.files.delete_many(["/lib/x.wav", "/lib/y.wav"])
    assert [x for x in statements if x in ("BEGIN IMMEDIATE", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]
