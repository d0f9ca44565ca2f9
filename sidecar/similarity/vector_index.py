"""The approximate nearest-neighbour index of file vectors: usearch's HNSW graph in a file beside the index.

The index (SQLite) is the truth: every file vector, and a log of changes
that its triggers fill (a vector added, replaced or gone with its file).
The graph file is a cache of that truth up to a change number that is part
of its name (`index.db.vectors-<seq>.usearch`): opening it replays the
changes logged since, so what another process scanned meanwhile is found,
and a save writes a new file (temporary, fsynced, renamed) before the older
one and the replayed log entries are dropped. A crash at any point leaves a
complete file and the log entries it lacks; replaying one twice is harmless
(a vector is removed before it is added again). A graph file that is lost or
unreadable is rebuilt from the index.

usearch: incremental adds and removals with no training step (an IVF index
would need retraining as a library grows from nothing to millions), a file
that opens memory-mapped in an instant, half-precision storage (1 GB per
million vectors), and a maintained, dependency-light wheel.

The same machinery serves any kind of vector the index keeps with a change log
(the sounds-like vectors, the text vectors of search by meaning): a source
gives its vectors and their log (a VectorStore's methods), its dimension, where
its files live and the stem of their names.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from sidecar.similarity.network import EMBEDDING_SIZE

log = logging.getLogger(__name__)

CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 320     # recall at 10 of 0.995 at 1M vectors (0.87-0.985 at 160), p99 7 ms
#: a save is worth its cost once this many changes were replayed
SAVE_AFTER = 1000
_NAME = re.compile(r"\.([a-z-]+)-(\d+)\.usearch$")


class SoundsLikeVectors:
    """An index's sounds-like vectors as the graph's source: files index.db.vectors-N.usearch."""

    ndim = EMBEDDING_SIZE
    stem = "vectors"

    def __init__(self, store):
        self.vectors = store.vectors
        self.prefix = store.cache_prefix()

    def __getattr__(self, name):          # count, batches, by_ids, changes, last_change, ...
        return getattr(self.vectors, name)


def source_of(store_or_source):
    """A vector source: the one given, or the sounds-like vectors of a store."""
    return store_or_source if hasattr(store_or_source, "stem") else SoundsLikeVectors(store_or_source)


def _new_graph(ndim: int = EMBEDDING_SIZE):
    from usearch.index import Index
    return Index(ndim=ndim, metric="cos", dtype="f16", connectivity=CONNECTIVITY,
                 expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH)


def as_matrix(blobs: list[bytes], ndim: int = EMBEDDING_SIZE) -> np.ndarray:
    if not blobs:
        return np.zeros((0, ndim), np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), ndim)


class VectorIndex:
    """The graph of one kind of file vector of an index, up to change number `seq`. Its methods
    take the store (its sounds-like vectors) or any vector source."""

    def __init__(self, store, graph, seq: int, path: Path | None):
        self.source = source_of(store) if store is not None else None
        self.store = store
        self.graph = graph
        self.seq = seq
        self.path = path          # the file it was loaded from or last saved to
        self.pending = 0          # changes replayed since that file
        self.viewed = False       # memory-mapped read-only: loaded in full before a change

    # -- files beside the index ---------------------------------------------------
    @staticmethod
    def _prefix(store) -> Path | None:
        return source_of(store).prefix

    @classmethod
    def files(cls, store) -> list[tuple[int, Path]]:
        """Saved graphs of this index (of this source), newest first."""
        source = source_of(store)
        prefix = source.prefix
        if prefix is None or not prefix.parent.exists():
            return []
        found = []
        for entry in prefix.parent.iterdir():
            m = _NAME.search(entry.name)
            if m and entry.name == f"{prefix.name}.{source.stem}-{m.group(2)}.usearch":
                found.append((int(m.group(2)), entry))
        return sorted(found, reverse=True)

    @classmethod
    def open(cls, store, *, writable: bool = False) -> "VectorIndex":
        """The newest readable graph brought up to date, or a new one built from the index."""
        from usearch.index import Index
        source = source_of(store)
        floor = source.log_floor()
        for seq, path in cls.files(source):
            if seq < floor:
                break             # the log no longer holds what this graph lacks
            try:
                up_to_date = source.last_change() <= seq
                graph = Index.restore(str(path), view=up_to_date and not writable)
            except Exception as exc:   # a damaged file: try an older one, else rebuild
                log.warning("%s: unreadable (%s); using an older graph or rebuilding", path, exc)
                continue
            if graph is None or graph.ndim != source.ndim:
                continue
            index = cls(source, graph, seq, path)
            index.viewed = up_to_date and not writable
            index.sync()
            return index
        return cls.build(source)

    @classmethod
    def build(cls, store) -> "VectorIndex":
        source = source_of(store)
        seq = source.last_change()
        graph = _new_graph(source.ndim)
        index = cls(source, graph, seq, None)
        for ids, blobs in source.batches():
            graph.add(np.asarray(ids, dtype=np.uint64), as_matrix(blobs, source.ndim), threads=os.cpu_count() or 1)
        index.pending = len(graph) or 0
        return index

    # -- keeping up with the index ------------------------------------------------------
    def sync(self) -> int:
        """Apply the changes logged since this graph's change number; how many files changed.
        ValueError when the log no longer holds them (another process saved a newer graph and
        dropped them): open() again."""
        changes = self.source.changes(self.seq)
        if self.source.log_floor() > self.seq:   # read after the changes: none is missed
            raise ValueError("the change log was trimmed past this graph; open the newer one")
        if not changes:
            return 0
        if self.viewed:
            from usearch.index import Index
            self.graph = Index.restore(str(self.path), view=False)
            self.viewed = False
        latest = {}
        for seq, file_id in changes:
            latest[file_id] = seq
        ids = list(latest)
        self.graph.remove(np.asarray(ids, dtype=np.uint64))
        present = self.source.by_ids(ids)
        if present:
            keys = np.asarray([i for i, _ in present], dtype=np.uint64)
            self.graph.add(keys, as_matrix([b for _, b in present], self.source.ndim), threads=os.cpu_count() or 1)
        self.seq = max(latest.values())
        self.pending += len(ids)
        return len(ids)

    def save(self) -> Path | None:
        """Write the graph as a new file, atomically; drop older files and the log it covers."""
        prefix = self.source.prefix
        if prefix is None:
            return None
        target = prefix.with_name(f"{prefix.name}.{self.source.stem}-{self.seq}.usearch")
        with _locked(prefix, self.source.stem):
            if not target.exists():
                tmp = target.with_name(target.name + f".tmp{os.getpid()}")
                try:
                    self.graph.save(str(tmp))
                    with open(tmp, "rb") as f:
                        os.fsync(f.fileno())
                    os.replace(tmp, target)
                    _fsync_dir(target.parent)
                finally:
                    if tmp.exists():
                        tmp.unlink()
            for seq, path in self.files(self.source):
                if seq < self.seq:
                    path.unlink(missing_ok=True)
            self.source.forget_changes(self.seq)
        self.path = target
        self.pending = 0
        return target

    def save_if_worth_it(self) -> Path | None:
        if self.pending >= SAVE_AFTER or (self.pending and self.path is None):
            return self.save()
        return None

    # -- queries -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.graph)

    def search(self, vector: np.ndarray, count: int) -> list[tuple[int, float]]:
        """(file id, cosine distance) of the nearest files, nearest first."""
        if len(self.graph) == 0:
            return []
        found = self.graph.search(np.asarray(vector, dtype=np.float32), min(count, len(self.graph)))
        return [(int(k), float(d)) for k, d in zip(found.keys, found.distances)]


class ExactVectors:
    """Every file vector of a small library in memory, searched by one matrix product: what a
    long-lived process (the OSC bridge) asks instead of reading the index at each query. Kept up
    to date from the same change log as the graph."""

    def __init__(self, store):
        self.store = store
        self.source = source_of(store)
        self.load()

    def load(self) -> None:
        self.seq = self.source.last_change()     # replaying a change seen already is harmless
        ids, blobs = [], []
        for batch_ids, batch in self.source.batches():
            ids += batch_ids
            blobs += batch
        self.ids = np.asarray(ids, np.int64)
        self.matrix = as_matrix(blobs, self.source.ndim)

    def sync(self) -> int:
        """Apply the changes logged since this copy was taken; how many files changed."""
        changes = self.source.changes(self.seq)
        if self.source.log_floor() > self.seq:   # read after the changes: none is missed
            self.load()                 # the log was trimmed past what this copy had seen
            return len(self.ids)
        if not changes:
            return 0
        changed = sorted({file_id for _, file_id in changes})
        keep = ~np.isin(self.ids, changed)
        present = self.source.by_ids(changed)
        self.ids = np.concatenate([self.ids[keep], np.asarray([i for i, _ in present], np.int64)])
        self.matrix = np.concatenate([self.matrix[keep], as_matrix([b for _, b in present], self.source.ndim)])
        self.seq = max(seq for seq, _ in changes)
        return len(changed)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, vector: np.ndarray, count: int) -> list[tuple[int, float]]:
        return nearest_rows(self.ids, 1.0 - self.matrix @ np.asarray(vector, np.float32), count)


def nearest_rows(ids: np.ndarray, distances: np.ndarray, count: int) -> list[tuple[int, float]]:
    """The count (id, distance) pairs of least distance, nearest first (ties by id)."""
    if len(ids) > count:
        keep = np.argpartition(distances, count)[:count]
        ids, distances = ids[keep], distances[keep]
    order = np.lexsort((ids, distances))[:count]
    return [(int(ids[i]), float(distances[i])) for i in order]


@contextmanager
def _locked(prefix: Path, stem: str = "vectors"):
    with open(prefix.with_name(f"{prefix.name}.{stem}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
