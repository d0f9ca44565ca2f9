"""Sounds like: embeddings stored with the index by a real scan, `sidecar similar` on generated
families of sounds, the backfill of files scanned before, and a missing or damaged model."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess

import numpy as np
import pytest

from audiogen import RATE, write
from conftest import SIDECAR
from sidecar.index.store import open_store
from sidecar.similarity import checkpoint

FAMILIES = ("tone", "noise", "clicks", "sweep")


def family_sound(family: str, rng: np.random.Generator) -> np.ndarray:
    """One member of a family of sounds, with random variations of pitch, length, level and rate."""
    seconds = rng.uniform(1.0, 2.0)
    t = np.arange(int(RATE * seconds)) / RATE
    level = rng.uniform(0.2, 0.6)
    if family == "tone":
        f = rng.uniform(220, 1500)
        x = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 2 * f * t)
    elif family == "noise":
        x = rng.standard_normal(t.size) * np.minimum(1, t / rng.uniform(0.01, 0.2))
    elif family == "clicks":
        x = np.zeros(t.size)
        for start in np.arange(0.02, seconds - 0.02, 1 / rng.uniform(3, 9)):
            i = int(start * RATE)
            x[i:i + 300] += rng.standard_normal(min(300, t.size - i)) * np.exp(-np.arange(min(300, t.size - i)) / 40)
    else:
        f0, f1 = rng.uniform(100, 400), rng.uniform(3000, 9000)
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t ** 2 / (2 * seconds)))
    return (level * x / np.abs(x).max()).astype(np.float32)


def run(*args, env=None, check=True):
    proc = subprocess.run([SIDECAR, *args], capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args}: exit {proc.returncode}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def families(tmp_path_factory):
    """Four families of five generated sounds, scanned into an index by the real command."""
    root = tmp_path_factory.mktemp("families")
    lib = root / "lib"
    rng = np.random.default_rng(13)
    members = {}
    for family in FAMILIES:
        for i in range(5):
            path = write(str(lib / f"{family}_{i}"), "wav16", family_sound(family, rng))
            members[os.path.abspath(path)] = family
    db = str(root / "index.db")
    env = {**os.environ, "SIDECAR_DB": db}
    env.pop("SIDECAR_CONFIG", None)
    run("scan", str(lib), "--json", env=env)
    return {"lib": lib, "db": db, "env": env, "members": members, "root": root}


def test_every_scanned_file_has_its_embeddings_in_the_index(families):
    con = sqlite3.connect(families["db"])
    rows = con.execute("SELECT f.path, e.model, e.fingerprint = f.fingerprint, length(e.vector), "
                       "length(e.blocks), length(e.starts), e.dim FROM files f JOIN embeddings e "
                       "ON e.file_id = f.id").fetchall()
    assert {r[0] for r in rows} == set(families["members"])
    for path, model, same_audio, vector, blocks, starts, dim in rows:
        assert model == "aisfx-0.1.2" and same_audio and dim == 512 and vector == 512 * 4
        assert blocks == (starts // 4) * 512 * 2 and starts >= 4        # float16 blocks, one start each
    vectors = [np.frombuffer(r[0], "<f4") for r in con.execute("SELECT vector FROM embeddings")]
    assert all(abs(np.linalg.norm(v) - 1) < 1e-5 for v in vectors)


def test_the_pass_after_the_writes_stores_the_vectors_the_inline_stage_would(families):
    """The scan embeds after every file is written: each vector is the one the embedder gives
    for the file's audio (within the golden test's tolerance), and the blocks as well."""
    from sidecar.audio.decode import decode
    from sidecar.similarity.embedder import shared
    con = sqlite3.connect(families["db"])
    rows = con.execute("SELECT f.path, e.vector, e.blocks FROM files f JOIN embeddings e "
                       "ON e.file_id = f.id").fetchall()
    assert len(rows) == len(families["members"])
    embedder = shared()
    for path, vector, blocks in rows:
        audio = decode(path)
        direct = embedder.embed(audio.samples, audio.samplerate)
        stored = np.frombuffer(vector, "<f4")
        assert np.abs(stored - direct.vector).max() < 1e-4, path
        stored_blocks = np.frombuffer(blocks, "<f2").astype(np.float32).reshape(direct.blocks.shape)
        assert np.abs(stored_blocks - direct.blocks).max() < 1e-2 * max(1.0, np.abs(direct.blocks).max())


def test_a_scan_says_what_its_sounds_like_pass_did(tmp_path):
    lib = tmp_path / "lib"
    rng = np.random.default_rng(4)
    for i, family in enumerate(FAMILIES):
        write(str(lib / f"{family}_{i}"), "wav16", family_sound(family, rng))
    env = {**os.environ, "SIDECAR_DB": str(tmp_path / "index.db")}
    env.pop("SIDECAR_CONFIG", None)
    first = json.loads(run("scan", str(lib), "--json", env=env).stdout)
    assert first["classified"] == 4 and first["sounds_like"]["embedded"] == 4
    assert first["sounds_like"]["audio_seconds"] > 4.0
    again = json.loads(run("scan", str(lib), "--json", env=env).stdout)
    assert again["unchanged"] == 4 and again["sounds_like"]["embedded"] == 0


def test_nearest_neighbours_come_from_the_same_family(families):
    members = families["members"]
    for query, family in list(members.items())[::3]:
        hits = json.loads(run("similar", query, "--limit", "4", "--json", env=families["env"]).stdout)
        assert len(hits) == 4 and query not in [h["path"] for h in hits]
        distances = [h["distance"] for h in hits]
        assert distances == sorted(distances) and all(0 <= d <= 2 for d in distances)
        assert [members[h["path"]] for h in hits] == [family] * 4, (query, hits)


def test_a_file_outside_the_index_is_heard_and_compared(families, tmp_path):
    query = write(str(tmp_path / "new_sweep"), "flac", family_sound("sweep", np.random.default_rng(99)))
    hits = json.loads(run("similar", query, "-n", "3", "--json", "--exact", env=families["env"]).stdout)
    assert [families["members"][h["path"]] for h in hits] == ["sweep"] * 3
    text = run("similar", query, "-n", "2", env=families["env"]).stdout
    assert text.splitlines()[0].split()[:2] == ["distance", "path"] and len(text.splitlines()) == 3


def test_similar_refuses_what_it_cannot_hear(families, tmp_path):
    missing = run("similar", str(tmp_path / "nope.wav"), env=families["env"], check=False)
    assert missing.returncode == 2 and "nope.wav: no such file" in missing.stderr
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all")
    bad = run("similar", str(text), env=families["env"], check=False)
    assert bad.returncode == 2 and "notes.wav" in bad.stderr and bad.stdout == ""


def test_files_scanned_before_get_their_embeddings_without_being_tagged_again(tmp_path):
    lib = tmp_path / "lib"
    rng = np.random.default_rng(1)
    paths = [write(str(lib / f"s{i}"), "wav16", family_sound(FAMILIES[i], rng)) for i in range(3)]
    db = str(tmp_path / "index.db")
    env = {**os.environ, "SIDECAR_DB": db}
    run("scan", str(lib), env=env)
    con = sqlite3.connect(db)
    classified = con.execute("SELECT path, classified FROM files ORDER BY path").fetchall()
    with con:
        con.execute("DELETE FROM embeddings")      # as an index made before embeddings existed
    before = {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths}
    before.update({p + ".xml": hashlib.sha256(open(p + ".xml", "rb").read()).hexdigest() for p in paths})
    summary = json.loads(run("scan", str(lib), "--json", env=env).stdout)
    # unchanged files: the sounds-like pass after the (absent) writes embeds them, nothing re-read
    assert summary["classified"] == 0 and summary["unchanged"] == 3 and summary["failed"] == 0
    assert summary["sounds_like"]["embedded"] == 3
    assert con.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 3
    assert con.execute("SELECT path, classified FROM files ORDER BY path").fetchall() == classified
    after = {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in before}
    assert after == before                          # nothing written into the files or sidecars
    again = json.loads(run("scan", str(lib), "--json", env=env).stdout)
    assert again["unchanged"] == 3 and again["reindexed"] == 0 and again["sounds_like"]["embedded"] == 0


def test_a_changed_sound_gets_new_embeddings_and_a_gone_one_leaves_with_its_file(tmp_path):
    lib = tmp_path / "lib"
    rng = np.random.default_rng(2)
    a = write(str(lib / "a"), "wav16", family_sound("tone", rng))
    b = write(str(lib / "b"), "wav16", family_sound("noise", rng))
    db = str(tmp_path / "index.db")
    env = {**os.environ, "SIDECAR_DB": db}
    run("scan", str(lib), env=env)
    store = open_store(db)
    old = store.vectors.get(a).vector
    write(a, "wav16", family_sound("clicks", rng))
    os.unlink(b)
    run("scan", str(lib), env=env)
    store = open_store(db)
    assert store.vectors.get(a).vector != old and store.vectors.get(b) is None
    assert store.vectors.count() == 1
    logged = [f for _, f in store.vectors.changes(0)]
    assert logged.count(store.vectors.get(a).file_id) == 2 and len(logged) == 4   # added twice, b added and gone


def _damaged_checkpoint(tmp_path) -> str:
    bad = tmp_path / "checkpoint.pth"
    bad.write_bytes(checkpoint.locate().read_bytes()[:50_000])
    return str(bad)


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_without_the_model_the_service_still_runs_and_says_how_to_install_it(tmp_path, damage):
    lib = tmp_path / "lib"
    rng = np.random.default_rng(3)
    path = write(str(lib / "tone"), "wav16", family_sound("tone", rng))
    where = _damaged_checkpoint(tmp_path) if damage == "corrupt" else str(tmp_path / "absent.pth")
    env = {**os.environ, "SIDECAR_DB": str(tmp_path / "index.db"), "SIDECAR_AISFX_CHECKPOINT": where}
    scan = run("scan", str(lib), "--json", env=env)
    assert json.loads(scan.stdout)["classified"] == 1
    lines = [line for line in scan.stderr.splitlines() if where in line]
    assert len(lines) == 1 and ("pip install" in lines[0] or "unset it" in lines[0])
    search = run("search", "sine", "--json", env=env)
    assert [h["path"] for h in json.loads(search.stdout)] == [os.path.abspath(path)]
    query = write(str(tmp_path / "query"), "wav16", family_sound("tone", rng))
    similar = run("similar", query, env=env, check=False)
    assert similar.returncode == 2 and similar.stdout == ""
    assert len(similar.stderr.strip().splitlines()) == 1 and where in similar.stderr


def test_the_osc_bridge_answers_sfx_similar_over_udp(families, tmp_path):
    """daw-bridge serve answers /sfx/similar from the vectors it keeps, takes in what was scanned
    after it started, and refuses a path outside the library roots."""
    from bridge_support import DAW_BRIDGE, BridgeProcess
    late_root = tmp_path / "late"
    late_root.mkdir()
    bridge = BridgeProcess("--db", families["db"], "--root", str(families["lib"]), "--root", str(late_root)).start()

    def ask(path, limit=3):
        return subprocess.run([DAW_BRIDGE, "similar", path, "-n", str(limit), "--json", "--port", str(bridge.port),
                               "--timeout", "60"], capture_output=True, text=True)
    try:
        query, family = next(iter(families["members"].items()))
        answer = ask(query)
        assert answer.returncode == 0, answer.stderr
        hits = json.loads(answer.stdout)
        assert [families["members"][h["path"]] for h in hits] == [family] * 3 and query not in [h["path"] for h in hits]
        # a file scanned after the bridge started is found by the next request
        late = write(str(late_root / "late"), "wav16", family_sound(family, np.random.default_rng(99)))
        scan = subprocess.run([SIDECAR, "scan", "--db", families["db"], str(late_root)],
                              capture_output=True, text=True)
        assert scan.returncode == 0, scan.stderr
        everyone = json.loads(ask(query, 200).stdout)
        assert late in [h["path"] for h in everyone]
        outside = write(str(tmp_path / "elsewhere"), "wav16", family_sound("tone", np.random.default_rng(4)))
        refused = subprocess.run([DAW_BRIDGE, "similar", outside, "--port", str(bridge.port), "--timeout", "60"],
                                 capture_output=True, text=True)
        assert refused.returncode != 0 and "outside the library roots" in refused.stderr
    finally:
        bridge.stop()

