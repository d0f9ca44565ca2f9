"""Bad input: one clear line naming the file and the reason, the file byte-identical, the scan goes on."""

import json
import os
import shutil
import struct
import subprocess
import sys

import pytest

import audiogen
from conftest import SIDECAR, as_plain_user, run_sidecar


def _make_corpus(root):
    good = audiogen.write(str(root / "good"), "wav16")
    data = open(good, "rb").read()
    bad = {}
    bad["truncated.wav"] = data[: len(data) // 3]
    lying = bytearray(data)
    pos = lying.find(b"data")
    lying[pos + 4: pos + 8] = struct.pack("<I", len(data) * 10)
    bad["lying size.wav"] = bytes(lying)
    bad["empty.wav"] = b""
    bad["text.wav"] = "this is not audio, only words about a door creak\n".encode() * 20
    bad["header only.wav"] = data[:44]
    bad["garbage.flac"] = b"fLaC" + os.urandom(300)
    bad["invalid utf8 name \udcff.wav".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")] = data
    paths = {}
    for name, content in bad.items():
        path = root / name
        path.write_bytes(content)
        paths[name] = path
    return good, paths


def test_bad_files_fail_alone_and_stay_identical(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    good, bad = _make_corpus(lib)
    (lib / "notes.txt").write_text("session notes")
    before = {p: p.read_bytes() for p in lib.iterdir()}
    result = run_sidecar("scan", str(lib), "--json", "--db", str(tmp_path / "i.db"))
    assert result.returncode == 1, result.stderr          # some files failed, the run finished
    doc = json.loads(result.stdout)
    failed = {os.path.basename(f["path"]): f["reason"] for f in doc["failures"]}
    expected_failures = {"truncated.wav", "lying size.wav", "empty.wav", "text.wav", "header only.wav",
                         "garbage.flac", "invalid utf8 name \\xff.wav"}
    assert set(failed) == expected_failures
    assert doc["classified"] == 1
    assert "UTF-8" in failed["invalid utf8 name \\xff.wav"]
    assert "truncated" in failed["truncated.wav"] and "truncated" in failed["lying size.wav"]
    assert doc["skipped"] == 1 and "(.txt)" in next(iter(doc["skipped_reasons"]))
    assert "0 bytes" in failed["empty.wav"]
    assert "not an audio file" in failed["text.wav"]
    # one line per failure on stderr, each naming the file
    lines = [l for l in result.stderr.splitlines() if l.startswith("sidecar: ")]
    for name in expected_failures:
        assert sum(name in l for l in lines) == 1, (name, lines)
    for path, content in before.items():
        if path.name != "good.wav":
            assert path.read_bytes() == content, path.name
    assert sorted(p.name for p in lib.iterdir() if p.suffix == ".xml") == ["good.wav.xml"]


def test_unreadable_file(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    path = audiogen.write(str(lib / "locked"), "wav16")
    other = audiogen.write(str(lib / "open"), "wav16")
    content = open(path, "rb").read()
    os.chmod(path, 0)
    db = tmp_path / "i.db"
    cmd = [SIDECAR, "scan", str(lib), "--json", "--db", str(db)]
    cmd = as_plain_user(cmd)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert [os.path.basename(f["path"]) for f in doc["failures"]] == ["locked.wav"]
    assert "permission" in doc["failures"][0]["reason"].lower()
    assert doc["classified"] == 1
    os.chmod(path, 0o644)
    assert open(path, "rb").read() == content


def test_read_only_file_is_reported_and_unchanged(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    path = audiogen.write(str(lib / "master"), "wav24_96k")
    content = open(path, "rb").read()
    os.chmod(path, 0o444)
    os.chmod(lib, 0o555)
    try:
        cmd = [SIDECAR, "scan", str(lib), "--json", "--db", str(tmp_path / "i.db"), "--no-sidecar"]
        result = subprocess.run(as_plain_user(cmd), capture_output=True, text=True, timeout=120)
    finally:
        os.chmod(lib, 0o755)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["failures"]) == 1 and "master.wav" in doc["failures"][0]["path"]
    assert open(path, "rb").read() == content


def test_a_crash_leftover_is_cleaned_by_the_next_scan(tmp_path):
    lib = tmp_path / "lib"
    path = audiogen.write(str(lib / "take"), "wav16")
    stale = lib / ".sidecar-tmp-take.wav-deadbeef"
    stale.write_bytes(b"half a file")
    fresh = lib / ".sidecar-tmp-take.wav-cafebabe"      # another process's write under way
    fresh.write_bytes(b"being written")
    old = os.stat(path).st_mtime - 3600
    os.utime(stale, (old, old))
    result = run_sidecar("scan", str(lib), "--db", str(tmp_path / "i.db"))
    assert result.returncode == 0, result.stderr
    assert not stale.exists() and fresh.exists()
    assert "removed" in result.stderr and str(stale) in result.stderr
