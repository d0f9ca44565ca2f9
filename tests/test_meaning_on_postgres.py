"""Search by meaning on a PostgreSQL index: the text vectors live in the shared database, so the
store, `sidecar search --meaning` and OSC /sfx/meaning answer there as on SQLite; a change made on
another machine is searched at the next query; a scan of an index never searched by meaning keeps
no to-do list (it does no work for it)."""

from __future__ import annotations

import json
import os

from conftest import run_sidecar
from daemon_support import tiny_wav
from sidecar.index.store import open_store
from sidecar.meaning.search import MeaningSearch
from sidecar.meaning.text_model import shared
from test_meaning import LIBRARY, _row


def _names(answer) -> list[str]:
    return [os.path.basename(h.path) for h in answer.hits]


def test_a_scan_of_an_index_never_searched_by_meaning_keeps_no_todo_list(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    tiny_wav(tmp_path / "lib" / "a.wav", seed=1)
    scan = run_sidecar("scan", "--classifier", "descriptors", str(tmp_path / "lib"), env={"SIDECAR_DB": pg_url})
    assert scan.returncode == 0, scan.stderr
    assert "meaning" not in scan.stderr
    store = open_store(pg_url)
    try:
        assert store.files.count() == 1
        assert not store.text_vectors.exists()
        assert store.db.scalar("SELECT count(*) FROM text_vector_todo") == 0
    finally:
        store.close()


def test_meaning_search_answers_from_the_shared_database(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "lib"
    here, there = open_store(pg_url), open_store(pg_url)        # two machines on one database
    try:
        for name in LIBRARY:
            here.files.upsert(_row(folder, name))
        search = MeaningSearch(here, model=shared())
        assert _names(search("canine", 1)) == ["ANMLDog_Large hound in yard.wav"]
        assert _names(search("people clapping", 1)) == ["CRWDApls_Theatre end of show.wav"]
        table = here.text_vectors
        assert table.exists() and table.todo() == []
        assert table.kind("words").count() == len(LIBRARY) - 1      # 0007.wav has no words of its own
        assert table.kind("heard").count() == len(LIBRARY) - 1      # the marimba was never heard
        seq = table.kind("words").last_change()

        # another machine changes a Description: the next query here searches the new words
        there.files.upsert(_row(folder, "GLASBreak_Bottle.wav", description="A choir singing a hymn in a cathedral"))
        glass = here.db.scalar("SELECT id FROM files WHERE path = %s", (str(folder / "GLASBreak_Bottle.wav"),))
        assert [f for f, _ in table.todo()] == [glass]
        assert _names(search("church vocal ensemble", 1)) == ["GLASBreak_Bottle.wav"]
        assert len(table.kind("words").changes(seq)) == 1 and table.kind("heard").changes(seq) == []
        assert table.todo() == []

        # and deletes one: it leaves the answers and the vectors
        there.files.delete(str(folder / "ANMLDog_Large hound in yard.wav"))
        assert "ANMLDog_Large hound in yard.wav" not in _names(search("canine", 20))
        assert table.kind("words").count() == len(LIBRARY) - 2
    finally:
        here.close()
        there.close()

    env = {"SIDECAR_DB": pg_url, "XDG_CACHE_HOME": str(tmp_path / "cache-cli")}
    out = run_sidecar("search", "--meaning", "automobile", "--limit", "2", "--json", env=env)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows[0]["path"] == str(folder / "VEHCar_Sedan pass by.wav") and rows[0]["why"]


def test_the_osc_address_answers_from_postgresql(tmp_path, pg_url, monkeypatch):
    from bridge_support import BridgeProcess, Client
    from daw_bridge import messages
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "lib"
    folder.mkdir()
    store = open_store(pg_url)
    for name in LIBRARY:
        store.files.upsert(_row(folder, name))
    store.close()
    with BridgeProcess("--db", pg_url, "--root", str(folder)) as bridge:
        client = Client(bridge.port, timeout=120)
        try:
            replies = client.ask(messages.message("/sfx/meaning", 7, "downpour", 3))
            results = [m for m in replies if m.address == "/sfx/result"]
            assert replies[-1].address == "/sfx/done" and replies[-1].params == [7, len(results)]
            assert results[0].params[:3] == [7, 1, str(folder / "RAIN_Storm on the porch.wav")]
        finally:
            client.close()
    assert "Traceback" not in bridge.stderr
