"""Every supported format, tagged through both engines, read back by independent readers,
with the audio proven unchanged."""

import json
import shutil
import subprocess

import mutagen
import numpy as np
import pytest

import audiogen
from conftest import run_sidecar

#: what the engine hears decides these: they also run on the int8 numeric path (make test)
pytestmark = pytest.mark.labels

KINDS = ["wav16", "wav24_96k", "wav32f", "wav_multichannel", "rf64", "aiff", "flac", "mp3", "ogg", "opus", "m4a"]
PCM = {"wav16", "wav24_96k", "wav32f", "wav_multichannel", "rf64", "aiff"}


def _ffprobe_tags(path: str) -> dict:
    out = subprocess.run([shutil.which("ffprobe"), "-v", "error", "-show_entries", "format_tags:stream_tags",
                          "-of", "json", path], capture_output=True, text=True, check=True).stdout
    doc = json.loads(out)
    tags = {k.lower(): v for k, v in doc.get("format", {}).get("tags", {}).items()}
    for stream in doc.get("streams", []):
        tags.update({k.lower(): v for k, v in stream.get("tags", {}).items()})
    return tags


def _exiftool(path: str) -> dict:
    out = subprocess.run([shutil.which("exiftool"), "-j", "-G1", "-a", path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    files = {}
    for kind in KINDS:
        # a tone is heard surely (noise too vaguely to give keywords)
        data = audiogen.tone(channels=2) if kind in ("ogg", "opus", "m4a", "mp3") else None
        files[kind] = audiogen.write(str(root / kind / f"sample {kind}"), kind, data)
    return root, files


def _snapshot(files):
    snap = {}
    for kind, path in files.items():
        snap[kind] = audiogen.data_chunk(path) if kind in PCM else audiogen.decoded(path)
    return snap


@pytest.mark.parametrize("engine", ["embedded", "max"])
def test_every_format_is_tagged_and_read_back(library, tmp_path, engine, serve_max):
    root, original = library
    work = tmp_path / "lib"
    shutil.copytree(root, work)
    files = {k: str(work / p.split(str(root) + "/")[1]) for k, p in original.items()}
    before = _snapshot(files)
    args = ["scan", str(work), "--json", "--db", str(tmp_path / "index.db"), "--classifier", engine]
    if engine == "max":
        args += ["--max-url", serve_max.url]
    result = run_sidecar(*args)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["classified"] == len(KINDS) and summary["failed"] == 0

    after = _snapshot(files)
    for kind in KINDS:
        if kind in PCM:
            assert after[kind] == before[kind], f"{kind}: audio payload changed"
        else:
            assert np.array_equal(after[kind], before[kind]), f"{kind}: decoded audio changed"

    # the index answers for every file, with the engine that heard it
    search = run_sidecar("search", "path:lib", "--json", "--limit", "100", "--db", str(tmp_path / "index.db"))
    hits = json.loads(search.stdout)
    assert {h["path"] for h in hits} == set(files.values())
    by_path = {h["path"]: h for h in hits}

    for kind, path in files.items():
        row = by_path[path]
        assert row["Description"] and row["Keywords"]
        # mutagen, a reader the project does not own, sees the description, keywords and provenance
        if kind != "rf64":
            f = mutagen.File(path)
            assert f is not None and f.tags is not None, kind
            keys = [str(k).lower() for k in f.tags.keys()]
            text = " ".join(str(v) for v in f.tags.values())
            assert row["Description"] in text, (kind, text[:300])
            assert ", ".join(row["Keywords"]) in text, kind
            assert any("sfx_sidecar" in k for k in keys), (kind, keys)
        # and an independent command-line reader too
        if kind in ("flac", "ogg", "opus", "mp3", "m4a"):
            tags = _ffprobe_tags(path)
            assert row["Description"] in tags.values(), (kind, tags)
        elif kind != "aiff":
            info = _exiftool(path)
            assert info.get("RIFF:Description") == row["Description"], (kind, info)
        else:
            info = _exiftool(path)
            assert row["Description"] in json.dumps(info, ensure_ascii=False), (kind, info)
        assert (work / (path.split(str(work) + "/")[1] + ".xml")).exists(), f"{kind}: no sidecar"

    assert all(h["provenance"]["engine"] == engine for h in hits)
    assert by_path[files["wav24_96k"]]["SampleRate"] == 96000
    assert by_path[files["wav24_96k"]]["BitDepth"] == 24
    assert by_path[files["wav_multichannel"]]["Channels"] == 6
    assert by_path[files["wav16"]]["Loudness"] is not None


def test_second_scan_classifies_and_writes_nothing(library, tmp_path):
    root, original = library
    work = tmp_path / "lib"
    shutil.copytree(root, work)
    db = str(tmp_path / "index.db")
    first = run_sidecar("scan", str(work), "--json", "--db", db)
    assert first.returncode == 0, first.stderr
    stamps = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in work.rglob("*") if p.is_file()}
    second = json.loads(run_sidecar("scan", str(work), "--json", "--db", db).stdout)
    assert second["classified"] == 0 and second["written"] == 0
    assert second["unchanged"] == len(KINDS)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in work.rglob("*") if p.is_file()} == stamps


def test_dry_run_touches_nothing_and_prints_the_plan(library, tmp_path):
    root, original = library
    work = tmp_path / "lib"
    shutil.copytree(root, work)
    snapshot = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    result = run_sidecar("scan", str(work), "--dry-run", "--json", "--db", str(tmp_path / "index.db"))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["planned"] == len(KINDS) and doc["written"] == 0
    assert {row["path"] for row in doc["plan"]} == {str(work / p.split(str(root) + "/")[1]) for p in original.values()}
    assert all(row["Keywords"] for row in doc["plan"])
    assert {p: p.read_bytes() for p in work.rglob("*") if p.is_file()} == snapshot
    assert not (tmp_path / "index.db").exists()       # the index is not created either
