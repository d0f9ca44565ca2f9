"""The REAPER scripts: every Lua file compiles (luac -p), and their core runs under Lua 5.4 with
LuaSocket against a live `daw-bridge serve`, with a stand-in `reaper` table recording its calls.
Lua 5.4, LuaSocket and liblo-tools are installed by `make install` (Makefile SYSTEM_TOOLS)."""

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from wavinfo import WavInfoReader

import audiogen
from bridge_support import DAW_BRIDGE, BridgeProcess
from daw_bridge import messages
from daw_bridge.server import bridge_for
from sidecar.app import App
from sidecar.config import Config
from sidecar.index.interfaces import IndexedFile
from sidecar.index.store import open_store
from sidecar.formats import audio_fingerprint
from sidecar.metadata.record import Record

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "daw_bridge" / "reaper"
LUA_FILES = sorted(SCRIPTS.rglob("*.lua")) + sorted((REPO / "tests" / "lua").glob("*.lua"))


# what REAPER's ExecProcess, a shell or a code page could mangle: spaces, both quote kinds, $, a backtick,
# a percent sign, accented letters
HARD_NAME = """it's the "iron" door $HOME `x` 100% é ü ß ñ.wav"""
EXEC_ARGV = REPO / "tests" / "lua" / "exec_argv.py"


def lua_env() -> dict:
    """The Lua tests' stand-in for reaper.ExecProcess runs argv through tests/lua/exec_argv.py."""
    return {**os.environ, "SFX_TEST_PYTHON": sys.executable, "SFX_TEST_EXEC_ARGV": str(EXEC_ARGV)}


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: `make install` installs it (Makefile SYSTEM_TOOLS)"
    return found


@pytest.mark.parametrize("path", LUA_FILES, ids=[p.name for p in LUA_FILES])
def test_every_lua_file_compiles(path):
    out = subprocess.run([tool("luac5.4"), "-p", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_the_scripts_offer_search_tags_and_more_like_this():
    names = {p.name for p in SCRIPTS.glob("*.lua")}
    assert names == {"SFX Sidecar - Search.lua", "SFX Sidecar - Tags of selected item.lua",
                     "SFX Sidecar - More like selected item.lua"}
    main = (SCRIPTS / "SFX Sidecar - Search.lua").read_text()
    # one ReaPack package carries the three actions and the shared modules
    assert "[nomain] sfx_sidecar/*.lua" in main and "[main] SFX Sidecar - Tags of selected item.lua" in main


def indexed_library(tmp_path):
    """Three real WAV files, indexed as a scan leaves them (records written by hand, files untagged)."""
    lib = tmp_path / "lib"
    rows = [("oak door.wav", "Door knock, oak", ["door", "knock"], "DOORWood"),
            (HARD_NAME, "Door slam, iron \U0001F514", ["door", "slam"], "DOORMetal"),
            ("rain.wav", "Rain on a roof", ["rain"], "RAINGen")]
    store = open_store(tmp_path / "index.db")
    paths = []
    for n, (name, description, keywords, catid) in enumerate(rows):
        path = audiogen.write(str(lib / name), "wav16", audiogen.noise(0.4, seed=n))
        st = os.stat(path)
        store.files.upsert(IndexedFile(path, st.st_size, st.st_mtime_ns, audio_fingerprint(path, "wav"), "wav",
                                 Record(Description=description, Keywords=keywords, CatID=catid, Duration=0.4,
                                        SampleRate=48000, Channels=1)))
        paths.append(path)
    return lib, store, paths


def with_embeddings(store, paths):
    """The files' sounds-like vectors in the index, as a scan stores them (the real network)."""
    from sidecar.formats import decode
    from sidecar.similarity.embedder import shared, stored_form
    for path in paths:
        audio = decode(path, "wav")
        store.vectors.put(path, stored_form(shared().embed(audio.samples, audio.samplerate),
                                              store.files.get(path).fingerprint))


def test_the_scripts_core_against_a_live_bridge(tmp_path, monkeypatch):
    lib, store, paths = indexed_library(tmp_path)
    monkeypatch.setenv("SIDECAR_DB", store.location)
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    with_embeddings(store, paths)
    # a second bridge, in this process, built without similarity: "more like this" is not offered there
    plain = bridge_for(App(Config(), store=store), port=0, roots=[str(lib)], similar=False)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    try:
        with BridgeProcess("--root", str(lib)) as bridge:
            out = subprocess.run(
                [tool("lua5.4"), str(REPO / "tests" / "lua" / "reaper_core_test.lua"), str(SCRIPTS),
                 str(bridge.port), DAW_BRIDGE, str(scratch), str(plain.port), *paths],
                capture_output=True, text=True, timeout=240, env=lua_env())
    finally:
        plain.shutdown()
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stdout + out.stderr
    assert [l for l in lines if l.startswith("FAIL")] == []
    assert lines[-1].startswith("checks ") and lines[-1].endswith(" failed 0")
    # the Lua encoder builds what the bridge's own encoder builds
    dgram = next(l for l in lines if l.startswith("DGRAM ")).split()[1]
    assert bytes.fromhex(dgram) == messages.message("/sfx/search", 7, "door é", 20)
    hits = [l.split("|") for l in lines if l.startswith("HIT ")]
    assert {h[1] for h in hits} == {paths[0], paths[1]}
    # more like the first file: daw-bridge serve heard the others through the real network
    assert {l.split("|")[1] for l in lines if l.startswith("ALIKE ")} == {paths[1], paths[2]}
    calls = [l[5:] for l in lines if l.startswith("CALL ")]
    first = hits[0][1]
    assert f"InsertMedia|{first}|0" in calls and f"InsertMedia|{first}|4096" in calls
    assert f"OpenMediaExplorer|{first}|true" in calls and "CF_Preview_Play|preview1" in calls
    # the tag editor's writes reached the files, as an independent reader sees them
    assert WavInfoReader(paths[0], bext_encoding="utf-8").bext.description == "Oak door, knocked twice"
    row = store.files.get(paths[1])
    assert row.record.Keywords[-2:] == ["hinge", "'quoted' word"] and "Keywords" in row.human_fields
    assert row.record.Notes == """He said "slam" & it's 100% $HOME `x` é"""
    # a command that could not run was reported as a failure, with the shell's reason
    missing = next(l for l in lines if l.startswith("MISSING "))
    assert "no such daw-bridge" in missing
    assert not list(scratch.iterdir())            # the fallback's scripts and output files are cleaned up


def test_daw_bridge_json_is_ascii(tmp_path, monkeypatch):
    """`daw-bridge ... --json` writes \\u escapes: redirected on Windows, output is written in the ANSI code
    page, where an accented path would no longer name its file; ASCII passes through any code page."""
    lib, store, paths = indexed_library(tmp_path)
    monkeypatch.setenv("SIDECAR_DB", store.location)
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    with BridgeProcess("--root", str(lib)) as bridge:
        port = ["--port", str(bridge.port)]
        outs = [subprocess.run([DAW_BRIDGE, *args, *port], capture_output=True, timeout=60)
                for args in (["search", "--json", "iron"], ["info", "--json", paths[1]],
                             ["tag", "--json", paths[1], "Notes", "clé ü"])]
    for out in outs:
        assert out.returncode == 0, out.stderr
        assert out.stdout.isascii() and b"\\u00e9" in out.stdout
    assert json.loads(outs[0].stdout)[0]["path"] == paths[1]
    assert json.loads(outs[0].stdout)[0]["Description"] == "Door slam, iron \U0001F514"
    assert json.loads(outs[1].stdout)["path"] == paths[1]
    assert json.loads(outs[2].stdout)["value"] == "clé ü"


@pytest.mark.parametrize("mode", ["osc", "cli"])
def test_the_search_window_driven_by_keys_and_mouse(tmp_path, monkeypatch, mode):
    """window.lua run outside REAPER with stand-in reaper and gfx tables, keys and clicks given frame by frame:
    over OSC (REAPER 7), and through the daw-bridge command when the socket library fails to load (REAPER 6)."""
    lib, store, paths = indexed_library(tmp_path)
    monkeypatch.setenv("SIDECAR_DB", store.location)
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    resource = tmp_path / "REAPER"
    (resource / "Data").mkdir(parents=True)
    with BridgeProcess("--root", str(lib)) as bridge:
        out = subprocess.run([tool("lua5.4"), str(REPO / "tests" / "lua" / "reaper_window_test.lua"), str(SCRIPTS),
                              str(bridge.port), str(resource), mode, DAW_BRIDGE],
                             capture_output=True, text=True, timeout=180, env=lua_env())
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[-1].endswith(" failed 0")
    inserted = [l for l in out.stdout.splitlines() if l.startswith("CALL InsertMedia|")]
    assert len(inserted) == 2 and inserted[0].split("|")[1] in paths[:2]
    # the edit made in the window reached the file (the second result's)
    edited = inserted[0].split("|")[1]
    assert WavInfoReader(edited, bext_encoding="utf-8").bext.description == "Edited in the window, twice"
    assert "Description" in store.files.get(edited).human_fields
    if mode == "cli":
        note = next(l for l in out.stdout.splitlines() if l.startswith("NOTE "))
        assert note.startswith("NOTE daw-bridge command line in use; the socket library did not load: ")
        assert "socket.so" in note and "Mavriq" not in note     # the reason, without the long folder
        assert sorted(p.name for p in (resource / "Data").iterdir()) == []   # scripts and answers cleaned up
