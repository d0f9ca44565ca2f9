"""The approximate index returns what exact search returns (recall at 10), after inserts, deletes,
a restart and a crash between a save and the log it covers."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.index.interfaces import IndexedFile, Store, StoredEmbedding
from pg_support import reopen
from sidecar.metadata.record import Record
from sidecar.similarity import search
from sidecar.similarity.vector_index import ExactVectors, VectorIndex

DIM = 512


def clustered(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """Unit vectors around shared centres, non-negative like the network's (ReLU, then pooling)."""
    x = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.random((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def add(store: Store, start: int, vectors: np.ndarray) -> None:
    with store.atomic():
        for i, v in enumerate(vectors, start=start):
            path = f"/lib/{i:05d}.wav"
            store.files.upsert(IndexedFile(path=path, size=1, mtime_ns=1, fingerprint=f"f{i}", format="wav",
                                     record=Record()))
            store.vectors.put(path, StoredEmbedding(0, "aisfx-0.1.2", f"f{i}", v.astype("<f4").tobytes(),
                                                      b"", b"", DIM))


def recall_at_10(store: Store, index: VectorIndex, queries: np.ndarray) -> float:
    hits = 0
    for q in queries:
        exact = {i for i, _ in search.nearest(store, q, 10, exact=True)}
        approx = {i for i, _ in index.search(q, 10)}
        hits += len(exact & approx)
    return hits / (10 * len(queries))


@pytest.fixture
def store(index_store):
    return index_store          # SQLite beside its graph files, and PostgreSQL with this machine's


def test_recall_after_inserts_deletes_restart_and_crash(store, tmp_path):
    rng = np.random.default_rng(7)
    centres = rng.random((60, DIM)).astype(np.float32)
    add(store, 0, clustered(3000, rng, centres))
    index = VectorIndex.open(store, writable=True)
    assert len(index) == 3000
    first = index.save()
    assert first.exists() and store.vectors.changes(0) == []           # the log the file covers is dropped

    # deletes and inserts after the save, brought in by sync()
    gone = [f"/lib/{i:05d}.wav" for i in rng.choice(3000, 400, replace=False)]
    gone_ids = {store.vectors.get(p).file_id for p in gone}
    store.files.delete_many(gone)
    add(store, 3000, clustered(500, rng, centres))
    new_ids = {store.vectors.get(f"/lib/{i:05d}.wav").file_id for i in range(3000, 3500)}
    assert index.sync() == len(gone_ids | new_ids) and len(index) == 3100
    queries = clustered(60, rng, centres)
    assert recall_at_10(store, index, queries) >= 0.95
    assert not gone_ids & {i for q in queries for i, _ in index.search(q, 10)}

    # a restart without a save: the file is older than the index; its log is replayed
    reopened = VectorIndex.open(reopen(store))
    assert reopened.seq == store.vectors.last_change() and len(reopened) == 3100
    assert recall_at_10(store, reopened, queries) >= 0.95

    # saved, then a crash before the covered log was dropped: replaying it again is harmless
    second = reopened.save()
    assert second != first and not first.exists()
    add(store, 3500, clustered(100, rng, centres))
    later = store.vectors.last_change()
    store.db.execute("INSERT INTO vector_changes(file_id) SELECT file_id FROM embeddings LIMIT 50")
    after_crash = VectorIndex.open(reopen(store))
    assert len(after_crash) == 3200 and after_crash.seq > later
    assert recall_at_10(store, after_crash, clustered(40, rng, centres)) >= 0.95


def test_a_damaged_graph_file_is_rebuilt_from_the_index(store):
    rng = np.random.default_rng(8)
    add(store, 0, clustered(300, rng, rng.random((10, DIM)).astype(np.float32)))
    saved = VectorIndex.open(store).save()
    saved.write_bytes(b"\0" * 100)
    rebuilt = VectorIndex.open(reopen(store))
    assert len(rebuilt) == 300
    q = np.frombuffer(store.vectors.by_ids([5])[0][1], "<f4")
    assert rebuilt.search(q, 1)[0][0] == 5


def test_exact_and_approximate_search_agree_through_the_public_function(store, monkeypatch):
    rng = np.random.default_rng(9)
    add(store, 0, clustered(1500, rng, rng.random((30, DIM)).astype(np.float32)))
    q = clustered(1, rng, rng.random((30, DIM)).astype(np.float32))[0]
    exact = search.nearest(store, q, 10, exact=True)
    monkeypatch.setattr(search, "EXACT_BELOW", 1000)
    search.maintain(store)                            # a scan's end: the graph file is made
    assert VectorIndex.files(store)
    approx = search.nearest(store, q, 10)
    assert len({i for i, _ in exact} & {i for i, _ in approx}) >= 9
    assert np.allclose([d for _, d in exact[:5]], [d for _, d in approx[:5]], atol=2e-3)
    first = exact[0][0]
    assert first not in [i for i, _ in search.nearest(store, q, 10, exclude=first, exact=True)]


def test_a_long_lived_process_keeps_up_with_scans_of_another(store, tmp_path):
    """Similar (the bridge's) keeps the vectors in memory: what another connection adds, replaces
    or deletes is found by its next query, also after the log was trimmed, and a library that
    grows past EXACT_BELOW is moved to the graph."""
    rng = np.random.default_rng(11)
    centres = rng.random((20, DIM)).astype(np.float32)
    add(store, 0, clustered(200, rng, centres))
    other = reopen(store)          # the scanner: another connection to the same index
    similar = search.Similar(store)
    queries = clustered(20, rng, centres)

    def agrees() -> None:
        searcher = similar.up_to_date()
        found = [[i for i, _ in searcher.search(q, 10)] for q in queries]
        truth = [[i for i, _ in search.nearest(store, q, 10, exact=True)] for q in queries]
        if isinstance(searcher, ExactVectors):
            assert found == truth                   # the same products, the same order
        else:                                       # half precision in the graph: near ties may swap
            assert sum(len(set(f) & set(t)) for f, t in zip(found, truth)) >= 0.95 * 10 * len(queries)

    agrees()
    assert isinstance(similar.searcher, ExactVectors) and len(similar.searcher) == 200
    add(other, 200, clustered(50, rng, centres))
    other.files.delete_many([f"/lib/{i:05d}.wav" for i in range(0, 40)])
    replaced = clustered(1, rng, centres)[0]
    other.vectors.put("/lib/00100.wav", StoredEmbedding(0, "aisfx-0.1.2", "f100", replaced.tobytes(), b"", b"", DIM))
    agrees()
    assert len(similar.searcher) == 210
    assert similar.searcher.search(replaced, 1)[0][0] == store.vectors.get("/lib/00100.wav").file_id
    kept = similar.searcher
    other.vectors.forget_changes(other.vectors.last_change())      # as a graph save does
    add(other, 300, clustered(5, rng, centres))
    agrees()
    assert similar.searcher is kept and len(kept) == 215
    search_module_limit = search.EXACT_BELOW
    try:
        search.EXACT_BELOW = 100
        agrees()
        assert isinstance(similar.searcher, VectorIndex) and len(similar.searcher) == 215
        add(other, 400, clustered(3, rng, centres))
        found = similar.up_to_date()
        assert found is similar.searcher and len(found) == 218
    finally:
        search.EXACT_BELOW = search_module_limit
