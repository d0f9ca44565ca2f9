"""Unusual entries in a library: FIFOs, sockets, unreadable folders. The scan finishes and names each."""

import json
import os
import shutil
import socket
import tempfile

import pytest

import audiogen
from conftest import SIDECAR, as_plain_user, run_sidecar

@pytest.fixture
def library():
    root = tempfile.mkdtemp(prefix="sidecar-entries-")
    yield root
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    shutil.rmtree(root)


def _scan_as_user(root: str, *args: str):
    """Root reads a mode-000 folder all the same: the scan runs without that power."""
    import subprocess
    env = {**os.environ, "HOME": root}
    env.pop("SIDECAR_CONFIG", None)
    return subprocess.run(as_plain_user([SIDECAR, *args]), capture_output=True, text=True, timeout=120, env=env)


def test_fifo_socket_and_unreadable_folder_are_named_and_nothing_hangs(library, monkeypatch):
    lib = os.path.join(library, "lib")
    os.mkdir(lib)
    good = audiogen.write(os.path.join(lib, "good"), "wav16", audiogen.noise(0.5))
    os.mkfifo(os.path.join(lib, "pipe.wav"))
    monkeypatch.chdir(lib)                       # a socket path must stay under 108 bytes
    sock = socket.socket(socket.AF_UNIX)
    sock.bind("socket.wav")
    closed = os.path.join(lib, "closed")
    os.mkdir(closed)
    audiogen.write(os.path.join(closed, "hidden"), "wav16", audiogen.noise(0.5))
    os.chmod(closed, 0o000)
    db = os.path.join(library, "i.db")
    try:
        result = _scan_as_user(library, "scan", lib, "--json", "--db", db)
        again = _scan_as_user(library, "scan", lib, "--db", db)     # the summary a person reads
    finally:
        sock.close()
    assert result.returncode == 1, result.stderr          # the closed folder is a failure; the run finished
    doc = json.loads(result.stdout)
    assert doc["classified"] == 1
    notes = {os.path.basename(n["path"]): n["note"] for n in doc["notes"]}
    assert "FIFO" in notes["pipe.wav"] and "never opened" in notes["pipe.wav"]
    assert "socket" in notes["socket.wav"] and "never opened" in notes["socket.wav"]
    failures = {f["path"]: f["reason"] for f in doc["failures"]}
    assert list(failures) == [closed]
    assert "not readable" in failures[closed] and "Permission denied" in failures[closed]
    assert os.path.exists(good + ".xml")
    # each one named in the summary a person reads too
    for name in ("pipe.wav", "socket.wav", "closed"):
        assert any(name in line for line in again.stderr.splitlines()), (name, again.stderr)


def test_a_fifo_given_as_the_path_is_skipped_not_opened(tmp_path):
    fifo = tmp_path / "take.wav"
    os.mkfifo(fifo)
    result = run_sidecar("scan", str(fifo), "--json", "--db", str(tmp_path / "i.db"), timeout=60)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["skipped"] == 1 and "FIFO" in doc["notes"][0]["note"]


@pytest.mark.parametrize("length", [240, 253])
def test_a_long_name_is_tagged_and_its_sidecar_name_fits(tmp_path, length):
    """240 bytes: the temporary names of the rewrite and the sidecar must still fit 255 bytes.
    253 bytes: `NAME.EXT.xml` cannot, so the sidecar gets a shortened name, reported once."""
    lib = tmp_path / "lib"
    lib.mkdir()
    stem = ("Ambience_City_Night_" + "long description of the place and the microphones used " * 5)
    stem = stem[:length - 4]
    path = audiogen.write(str(lib / stem), "wav16", audiogen.noise(0.5))
    assert len(os.path.basename(path).encode()) == length
    original = open(path, "rb").read()
    db = str(tmp_path / "i.db")
    result = run_sidecar("scan", str(lib), "--json", "--db", db)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["classified"] == 1 and doc["written"] == 1
    assert open(path, "rb").read() != original                      # tagged all the same
    sidecars = [n for n in os.listdir(lib) if n.endswith(".xml")]
    assert len(sidecars) == 1 and len(sidecars[0].encode()) <= 255
    notes = [n["note"] for n in doc["notes"]]
    if length == 240:
        assert sidecars == [os.path.basename(path) + ".xml"] and notes == []
    else:
        assert len(notes) == 1 and sidecars[0] in notes[0]         # reported once
    again = json.loads(run_sidecar("scan", str(lib), "--json", "--db", db).stdout)
    assert again["unchanged"] == 1 and again["notes"] == [] and again["skipped"] == 0
    # import-sidecars knows the name: a fresh index takes the document in for the sound
    imported = run_sidecar("import-sidecars", str(lib), "--json", env={"SIDECAR_DB": str(tmp_path / "fresh.db")})
    assert imported.returncode == 0, imported.stderr
    rows = json.loads(imported.stdout)
    assert [r["status"] for r in rows] == ["imported"] and rows[0]["path"] == path
    undo = run_sidecar("undo", path, "--json", "--db", db)
    assert undo.returncode == 0, undo.stderr
    assert open(path, "rb").read() == original and not any(n.endswith(".xml") for n in os.listdir(lib))
