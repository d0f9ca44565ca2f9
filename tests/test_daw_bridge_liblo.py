"""Interoperability with an OSC implementation the project did not write: liblo's `oscsend` asks
(from a socket it closes at once, so it names a reply port) and `oscdump` hears the answers."""

import os
import shutil
import subprocess
import threading

import pytest

from bridge_support import BridgeProcess, wait_for
from conftest import free_port
from test_reaper_scripts import indexed_library


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: `make install` installs liblo-tools (Makefile SYSTEM_TOOLS)"
    return found


class Dump:
    """`oscdump -L PORT`, its lines collected."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([tool("oscdump"), "-L", str(self.port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            if "/sfx/" in line:
                self.lines.append(line[line.index("/sfx/"):].rstrip("\n"))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def setup(tmp_path, monkeypatch):
    lib, store, paths = indexed_library(tmp_path)
    monkeypatch.setenv("SIDECAR_DB", store.location)
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    dump = Dump()
    with BridgeProcess("--root", str(lib)) as bridge:
        yield bridge, dump, paths, store
    dump.stop()


def oscsend(bridge, address, types, *values):
    out = subprocess.run([tool("oscsend"), "127.0.0.1", str(bridge.port), address, types, *map(str, values)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr


def test_search_and_info_with_oscsend_and_oscdump(setup):
    bridge, dump, paths, store = setup
    # oscdump may take a moment to listen: ping until it hears the pong
    def pong():
        oscsend(bridge, "/sfx/ping", "ii", 1, dump.port)
        return wait_for(lambda: any(l.startswith("/sfx/pong") for l in dump.lines), 1)
    assert wait_for(pong, 20)
    oscsend(bridge, "/sfx/search", "isii", 7, "door", 20, dump.port)
    assert wait_for(lambda: any(l.startswith("/sfx/done") for l in dump.lines))
    results = [l for l in dump.lines if l.startswith("/sfx/result")]
    assert len(results) == 2 and all(l.startswith("/sfx/result iissssf 7 ") for l in results)
    assert any(f'"{paths[0]}"' in l and '"DOORWood"' in l and '"Door knock, oak"' in l for l in results)
    assert [l for l in dump.lines if l.startswith("/sfx/done")] == ["/sfx/done ii 7 2"]
    dump.lines.clear()
    oscsend(bridge, "/sfx/info", "isi", 8, paths[2], dump.port)
    assert wait_for(lambda: any(l.startswith("/sfx/done") for l in dump.lines))
    fields = [l for l in dump.lines if l.startswith("/sfx/field")]
    assert '/sfx/field isss 8 "Description" "Rain on a roof" "file"' in fields
    assert '/sfx/field isss 8 "Duration" "0.4" "measured"' in fields
    assert dump.lines[-1] == f"/sfx/done ii 8 {len(fields)}"
    # a person's edit sent by liblo, confirmed to oscdump
    dump.lines.clear()
    oscsend(bridge, "/sfx/tag", "isssi", 9, paths[2], "Notes", "heavy rain, tin roof", dump.port)
    assert wait_for(lambda: dump.lines)
    assert dump.lines == ['/sfx/tagged isss 9 "Notes" "heavy rain, tin roof" "person"']
    assert store.files.get(paths[2]).record.Notes == "heavy rain, tin roof"
    # a path outside the roots, refused to the named port
    dump.lines.clear()
    oscsend(bridge, "/sfx/info", "isi", 10, "/etc/hostname", dump.port)
    assert wait_for(lambda: dump.lines)
    assert dump.lines[0].startswith('/sfx/error is 10 "outside the library roots')
