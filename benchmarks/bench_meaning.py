"""Search by meaning: query time over a large index, cost per file at index time, extra index size.

    python benchmarks/bench_meaning.py [--files 100000] [--queries 200] [--index-files 300]

Index time: --index-files generated files with words and labels go through the refresh that a
scan runs (the words encoded, the heard vector summed), in files per second.
Query time: an index of --files rows whose text vectors are made from the label vectors (each
file's words a label's vector blended with noise, its heard vector a weighted sum of two or three
labels), so the vectors cluster as real ones do; the whole request as the OSC bridge answers it
(check, catch-up look, encoding the query, both kinds searched, rows read, reasons written), p50
and p99 over --queries queries. Extra size: the index file's growth per file with text vectors.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from sidecar.index.interfaces import IndexedFile  # noqa: E402
from sidecar.index.store import open_store  # noqa: E402
from sidecar.meaning import labels as label_vectors  # noqa: E402
from sidecar.meaning.refresh import as_blob, refresh  # noqa: E402
from sidecar.meaning.search import MeaningSearch  # noqa: E402
from sidecar.meaning.text_model import shared  # noqa: E402
from sidecar.metadata.record import Label, Provenance, Record  # noqa: E402

QUERIES = ["canine", "people clapping", "downpour", "automobile", "creaky wooden door", "pistol shot",
           "glass shattering", "footsteps in snow", "a baby crying", "thunderstorm", "babbling brook",
           "birdsong at dawn", "helicopter overhead", "sci-fi laser zap", "heavy downpour on a tin roof",
           "crowd cheering in a stadium", "kitchen sounds", "church bells", "a cat meowing", "wind howling"]


def _record(i: int, lv, rng) -> Record:
    rows = rng.choice(len(lv.names), size=3, replace=False)
    labels = [Label(lv.names[r], float(p), lv.mids[r]) for r, p in zip(rows, (0.9, 0.5, 0.2))]
    return Record(Description=f"{lv.names[rows[0]]} recording number {i}, take {i % 7}",
                  Keywords=[lv.names[rows[1]].lower(), "field recording"], CatID="",
                  provenance=Provenance(engine="embedded", labels=labels))


def bench_index_time(n: int, lv, model) -> None:
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "index.db")
        store = open_store(db)
        table = store.text_vectors
        with store.atomic():
            for i in range(n):
                store.files.upsert(IndexedFile(f"/lib/file {i:06d}.wav", 1, 1, f"f{i}", "wav", _record(i, lv, rng)))
        before = os.path.getsize(db) + _wal(db)
        started = time.perf_counter()
        done = refresh(store, table, model, lv)
        elapsed = time.perf_counter() - started
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        after = os.path.getsize(db) + _wal(db)
        print(f"index time: {done.files} files ({done.encoded} texts encoded) in {elapsed:.1f} s = "
              f"{elapsed / n * 1000:.1f} ms a file ({n / elapsed:.0f} files/s), backend {model.backend}")
        print(f"extra index size: {(after - before) / n / 1024:.2f} KiB a file "
              f"(two 384-d float32 vectors, digest, log entries)")
        store.close()


def _wal(db: str) -> int:
    return os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0


def filled(db: str, n: int, lv, rng):
    store = open_store(db)
    table = store.text_vectors
    table.set_state("labels", lv.key)             # these label vectors made the heard vectors
    batch = 5000
    for start in range(0, n, batch):
        count = min(batch, n - start)
        with store.atomic():
            for i in range(start, start + count):
                store.files.upsert(IndexedFile(f"/lib/{i:07d}.wav", 1, 1, f"f{i}", "wav", _record(i, lv, rng)))
        ids = [r[0] for r in store.db.execute("SELECT id FROM files WHERE id > ? ORDER BY id LIMIT ?",
                                           (start, count)).fetchall()]
        rows = []
        for file_id in ids:
            picks = rng.choice(len(lv.names), size=3, replace=False)
            words = lv.matrix[picks[0]] + 0.6 * rng.standard_normal(lv.matrix.shape[1]).astype(np.float32) / 20
            heard = np.array([0.9, 0.5, 0.2], np.float32) @ lv.matrix[picks]
            rows.append((file_id, f"d{file_id}", as_blob(words / np.linalg.norm(words)),
                         as_blob(heard / np.linalg.norm(heard))))
        table.write(rows, [(i, n_) for i, n_ in table.todo(count)])
    return store


def bench_queries(n: int, queries: int, lv, model) -> None:
    rng = np.random.default_rng(2)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "index.db")
        started = time.perf_counter()
        store = filled(db, n, lv, rng)
        print(f"{n:,} files with text vectors made in {time.perf_counter() - started:.0f} s")
        search = MeaningSearch(store, model=model)
        search("warm up", 20)
        times = []
        for q in range(queries):
            text = QUERIES[q % len(QUERIES)]
            t = time.perf_counter()
            answer = search(text, 20)
            times.append(time.perf_counter() - t)
            assert answer.hits
        times_ms = np.array(times) * 1000
        print(f"query over {n:,} files, whole request as the bridge answers it ({queries} queries, limit 20): "
              f"p50 {np.percentile(times_ms, 50):.1f} ms, p99 {np.percentile(times_ms, 99):.1f} ms")
        t = [time.perf_counter()]
        for text in QUERIES[:5]:
            model.encode_one(text)
        print(f"  of which encoding a short query: {(time.perf_counter() - t[0]) / 5 * 1000:.1f} ms")
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--index-files", type=int, default=300)
    args = ap.parse_args()
    t = time.perf_counter()
    model = shared()
    lv = label_vectors.load(model)
    print(f"text model and label vectors loaded in {time.perf_counter() - t:.1f} s")
    bench_index_time(args.index_files, lv, model)
    bench_queries(args.files, args.queries, lv, model)


if __name__ == "__main__":
    main()
