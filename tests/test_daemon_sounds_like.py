"""The daemon's sounds-like vectors come after the tags: the workers tag and write, and the vectors
are made once they are idle (daemon/idle_embed.py), the same vectors a scan stores. The pass
stops when there is work again."""

from __future__ import annotations

import os
import sqlite3

import numpy as np

from audiogen import write
from daemon_support import Daemon, write_config
from test_similar import FAMILIES, family_sound, run


def stored_vectors(db: str) -> dict[str, bytes]:
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return dict(conn.execute("SELECT f.path, e.vector FROM files f JOIN embeddings e "
                                     "ON e.file_id = f.id AND e.fingerprint = f.fingerprint").fetchall())
        except sqlite3.OperationalError:
            return {}


def test_the_daemon_embeds_when_idle_after_the_tags_are_written(tmp_path):
    from sidecar.audio.decode import decode
    from sidecar.similarity.embedder import shared
    lib = tmp_path / "lib"
    rng = np.random.default_rng(21)
    files = [os.path.abspath(write(str(lib / f"{family}_{i}"), "wav16", family_sound(family, rng)))
             for i, family in enumerate(FAMILIES)]
    db = str(tmp_path / "index.db")
    config = write_config(tmp_path / "sidecar.toml", [{"path": str(lib)}])
    daemon = Daemon(tmp_path, config, db).start()
    try:
        daemon.wait_for(lambda: len(stored_vectors(db)) == len(files), what="every file's vector")
        events = daemon.events()
        order = {(e["event"], e.get("path")): n for n, e in enumerate(events)}
        passes = [n for n, e in enumerate(events) if e["event"] == "sounds_like"]
        assert passes and sum(events[n]["embedded"] for n in passes) == len(files)
        # each file was tagged (classified, written, indexed) before the pass that embedded it
        assert all(order[("classified", f)] < passes[-1] for f in files)
        assert events[passes[0]]["audio_seconds"] > 4.0
        # a file arriving later gets its vector too, from a later pass
        late = os.path.abspath(write(str(lib / "late"), "wav16", family_sound("sweep", rng)))
        daemon.wait_for(lambda: late in stored_vectors(db), what="the late file's vector")
        assert daemon.events("classified", path=late)
    finally:
        daemon.stop()
    embedder = shared()
    for path, vector in stored_vectors(db).items():
        audio = decode(path)
        direct = embedder.embed(audio.samples, audio.samplerate).vector
        assert np.abs(np.frombuffer(vector, "<f4") - direct).max() < 1e-4, path


def test_the_pass_stops_when_told_and_says_what_it_left(tmp_path):
    """keep_going() is asked before each file is started: the daemon's workers taking a job
    end the pass with at most one file a worker in hand."""
    from sidecar.index.store import open_store
    from sidecar.pipeline import sounds_like
    from sidecar.similarity.embedder import LazyEmbedder
    lib = tmp_path / "lib"
    rng = np.random.default_rng(8)
    for i in range(6):
        write(str(lib / f"tone_{i}"), "wav16", family_sound("tone", rng))
    db = str(tmp_path / "index.db")
    env = {**os.environ, "SIDECAR_DB": db}
    env.pop("SIDECAR_CONFIG", None)
    run("scan", str(lib), "--json", env=env)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM embeddings")      # as an index made before embeddings existed
    store = open_store(db)
    try:
        asked = []

        def keep_going():
            asked.append(1)
            return len(asked) <= 2          # two files started, then a worker takes a job

        result = sounds_like.run([str(lib)], LazyEmbedder(), store, jobs=1, keep_going=keep_going)
        assert (result.embedded, result.left) == (2, 4)
        assert len(stored_vectors(db)) == 2
        # the next quiet moment finishes them; only the named files are looked at
        named = sorted(sounds_like.pending(store, [str(lib)], LazyEmbedder.model))[:3]
        rest = sounds_like.run([str(lib)], LazyEmbedder(), store, jobs=2, paths=named)
        assert (rest.embedded, rest.left) == (3, 0)
        assert len(stored_vectors(db)) == 5
    finally:
        store.close()
