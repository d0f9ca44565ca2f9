"""Sounds like: embedding throughput, `similar` query time and recall, `learn` time.

    python benchmarks/bench_similar.py [--sizes 100000,1000000] [--queries 300] [--learn 10000] [--direct]

Embedding throughput is measured on generated audio (48 kHz, several lengths)
with one worker and with two (a scan's default), in multiples of real time.
Query time is measured over synthetic unit vectors shaped like the network's
(non-negative, clustered around shared centres): p50 and p99 of single queries
through the approximate index, and recall at 10 against exact search. Learn
--direct builds the graph straight from the generated vectors, as VectorIndex.build
does from the index, without filling an index database first (a million rows take
longer to insert than the graph takes to build); the queries are the same. Learn
time is `sidecar learn`'s training (cross-validation and fit) over N labelled
files in 50 categories.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from sidecar.index.interfaces import IndexedFile, Store, StoredEmbedding  # noqa: E402
from sidecar.index.store import open_store  # noqa: E402
from sidecar.metadata.record import Record  # noqa: E402
from sidecar.similarity import search  # noqa: E402
from sidecar.similarity.embedder import Embedder  # noqa: E402
from sidecar.similarity.vector_index import VectorIndex  # noqa: E402

DIM = 512
RATE = 48000


def sounds(total_seconds: float, rng) -> list[np.ndarray]:
    out, left = [], total_seconds
    while left > 0:
        seconds = min(left, rng.choice([1.5, 4.0, 10.0, 30.0]))
        t = np.arange(int(RATE * seconds)) / RATE
        x = np.sin(2 * np.pi * rng.uniform(100, 3000) * t) * 0.3 + rng.standard_normal(t.size) * 0.05
        out.append(x.astype(np.float32))
        left -= seconds
    return out


def bench_embedding(seconds: float) -> None:
    embedder = Embedder.load()
    rng = np.random.default_rng(0)
    clips = sounds(seconds, rng)
    embedder.embed(clips[0][:RATE], RATE)                    # warm up
    for workers in (1, 2):
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda x: embedder.embed(x, RATE), clips))
        elapsed = time.perf_counter() - started
        print(f"embedding ({type(embedder.net).__name__}), {workers} worker(s): {seconds:.0f} s of audio "
              f"in {elapsed:.1f} s = {seconds / elapsed:.1f}x real time")


def clustered(n: int, rng, centres) -> np.ndarray:
    x = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.random((n, DIM), dtype=np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def filled_store(path: str, n: int, rng, centres, names=None) -> Store:
    store = open_store(path)
    batch = 5000
    for start in range(0, n, batch):
        vectors = clustered(min(batch, n - start), rng, centres)
        with store.atomic():
            for i, v in enumerate(vectors, start=start):
                p = names(i) if names else f"/lib/{i:07d}.wav"
                store.files.upsert(IndexedFile(path=p, size=1, mtime_ns=1, fingerprint=f"f{i}", format="wav",
                                         record=Record()))
                store.vectors.put(p, StoredEmbedding(0, "aisfx-0.1.2", f"f{i}", v.tobytes(), b"", b"", DIM))
    return store


def bench_query(n: int, queries: int) -> None:
    rng = np.random.default_rng(n)
    centres = rng.random((max(50, n // 200), DIM), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store = filled_store(os.path.join(tmp, "index.db"), n, rng, centres)
        t1 = time.perf_counter()
        index = VectorIndex.open(store, writable=True)
        index.save()
        t2 = time.perf_counter()
        index = VectorIndex.open(open_store(store.location))
        t3 = time.perf_counter()
        qs = clustered(queries, rng, centres)
        lat, hits = [], 0
        for q in qs:
            s = time.perf_counter()
            found = index.search(q, 10)
            lat.append(time.perf_counter() - s)
        exact_lat = []
        for q in qs[:30]:
            s = time.perf_counter()
            truth = {i for i, _ in search.nearest(store, q, 10, exact=True)}
            exact_lat.append(time.perf_counter() - s)
            hits += len(truth & {i for i, _ in index.search(q, 10)})
        print(f"similar over {n:,} vectors: index {t1 - t0:.0f} s, graph built and saved {t2 - t1:.0f} s, "
              f"opened {1000 * (t3 - t2):.0f} ms; query p50 {1000 * np.percentile(lat, 50):.2f} ms, "
              f"p99 {1000 * np.percentile(lat, 99):.2f} ms; recall@10 {hits / (10 * min(30, queries)):.3f} "
              f"(exact search p50 {1000 * np.percentile(exact_lat, 50):.0f} ms)")
        # as the OSC bridge answers: the kept vectors brought up to date, the search, the rows
        similar = search.Similar(store)
        similar.up_to_date()
        bridge_lat = []
        for q in qs:
            s = time.perf_counter()
            found = search.nearest(store, q, 10, searcher=similar.up_to_date())
            store.files.by_ids([i for i, _ in found])
            bridge_lat.append(time.perf_counter() - s)
        print(f"  as the bridge answers ({type(similar.searcher).__name__}, change log read, index rows): "
              f"p50 {1000 * np.percentile(bridge_lat, 50):.2f} ms, p99 {1000 * np.percentile(bridge_lat, 99):.2f} ms")


def bench_query_direct(n: int, queries: int, expansions: list[int] | None = None) -> None:
    """The graph built from vectors in memory (no index database), saved, reopened memory-mapped
    as VectorIndex.open does, and queried through VectorIndex.search; exact search in numpy."""
    from usearch.index import Index
    from sidecar.similarity.vector_index import _new_graph
    rng = np.random.default_rng(n)
    centres = rng.random((max(50, n // 200), DIM), dtype=np.float32)
    vectors = np.concatenate([clustered(min(100_000, n - s), rng, centres) for s in range(0, n, 100_000)])
    with tempfile.TemporaryDirectory() as tmp:
        graph = _new_graph()
        t0 = time.perf_counter()
        for s in range(0, n, 100_000):
            graph.add(np.arange(s, min(n, s + 100_000), dtype=np.uint64), vectors[s:s + 100_000],
                      threads=os.cpu_count() or 1)
        t1 = time.perf_counter()
        graph.save(os.path.join(tmp, "g.usearch"))
        del graph
        t2 = time.perf_counter()
        index = VectorIndex(None, Index.restore(os.path.join(tmp, "g.usearch"), view=True), 0, None)
        t3 = time.perf_counter()
        qs = clustered(queries, rng, centres)
        truths, exact_lat = [], []
        for q in qs[:100]:
            s = time.perf_counter()
            truths.append(set(np.argpartition(1.0 - vectors @ q, 10)[:10].tolist()))
            exact_lat.append(time.perf_counter() - s)
        print(f"similar over {n:,} vectors (graph built directly): built in {t1 - t0:.0f} s "
              f"({n / (t1 - t0):.0f} vectors/s), opened {1000 * (t3 - t2):.0f} ms; exact search in memory "
              f"p50 {1000 * np.percentile(exact_lat, 50):.0f} ms")
        for ef in expansions or [index.graph.expansion_search]:
            index.graph.expansion_search = ef
            lat = []
            for q in qs:
                s = time.perf_counter()
                index.search(q, 10)
                lat.append(time.perf_counter() - s)
            hits = sum(len(t & {i for i, _ in index.search(q, 10)}) for q, t in zip(qs, truths))
            print(f"  expansion_search {ef}: query p50 {1000 * np.percentile(lat, 50):.2f} ms, "
                  f"p99 {1000 * np.percentile(lat, 99):.2f} ms; recall@10 {hits / (10 * len(truths)):.3f}")


def bench_learn(n: int) -> None:
    from sidecar.similarity.categories import train
    from sidecar.vocabulary import Vocabulary
    rng = np.random.default_rng(1)
    vocab = Vocabulary.load(None)
    catids = sorted(vocab._catids)[:50]
    centres = rng.random((len(catids), DIM), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(os.path.join(tmp, "index.db"))
        labels = rng.integers(0, len(catids), n)
        with store.atomic():
            for i, k in enumerate(labels):
                v = clustered(1, np.random.default_rng(i), centres[k:k + 1])[0]
                p = f"/lib/{catids[k]}_take {i}_JD_Gen.wav"
                store.files.upsert(IndexedFile(path=p, size=1, mtime_ns=1, fingerprint=f"f{i}", format="wav",
                                         record=Record()))
                store.vectors.put(p, StoredEmbedding(0, "aisfx-0.1.2", f"f{i}", v.tobytes(), b"", b"", DIM))
        started = time.perf_counter()
        model = train(store, vocab, "aisfx-0.1.2")
        elapsed = time.perf_counter() - started
        r = model.report
        print(f"learn over {r['files']:,} labelled files in {r['categories']} categories: {elapsed:.1f} s "
              f"({r['folds']}-fold cross-validation and the final fit; accuracy {r['accuracy']:.3f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--audio-seconds", type=float, default=120.0)
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--learn", type=int, default=10000)
    ap.add_argument("--only", choices=("embedding", "query", "learn"))
    ap.add_argument("--direct", action="store_true", help="build the graph without an index database")
    ap.add_argument("--ef", default="", help="with --direct: expansion_search values to try (e.g. 160,320,640)")
    args = ap.parse_args()
    if args.only in (None, "embedding"):
        bench_embedding(args.audio_seconds)
    if args.only in (None, "query"):
        for n in (int(x) for x in args.sizes.split(",")):
            if args.direct:
                bench_query_direct(n, args.queries, [int(x) for x in args.ef.split(",") if x])
            else:
                bench_query(n, args.queries)
    if args.only in (None, "learn"):
        bench_learn(args.learn)


if __name__ == "__main__":
    main()
