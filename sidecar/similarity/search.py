"""Sounds like this one: the nearest files of the library to any audio file, best first.

A library under EXACT_BELOW file vectors is searched exactly (one matrix
product); a larger one through the approximate index (vector_index). The
command line and the OSC bridge both call similar_to_file().
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from sidecar.errors import AudioError, SidecarError
from sidecar.similarity.vector_index import (SAVE_AFTER, ExactVectors, VectorIndex, as_matrix, nearest_rows,
                                             source_of)

#: below this many vectors an exact search is as fast as the graph and needs no file
EXACT_BELOW = 20_000


class SimilarityError(SidecarError):
    """A sounds-like query that cannot be answered (no such file, not audio, no model)."""


@dataclass
class Neighbour:
    path: str
    distance: float           # cosine distance: 0 is the same sound, 1 unrelated
    file: object              # its IndexedFile

    @property
    def record(self):
        """Its record: a Neighbour is answered over OSC as a search hit is."""
        return self.file.record

    def record_fields(self, *names: str) -> list:
        """Fields of its record, as its index row gives them (what an OSC result sends)."""
        return self.file.record_fields(*names)

    def to_json(self) -> dict:
        rec = self.file.record
        return {"path": self.path, "distance": round(self.distance, 6), "CatID": rec.CatID,
                "Category": rec.Category, "SubCategory": rec.SubCategory,
                "Description": rec.Description, "Keywords": rec.Keywords, "Duration": rec.Duration}


def nearest(store, vector: np.ndarray, limit: int, *, exclude: int | None = None,
            exact: bool | None = None, searcher=None) -> list[tuple[int, float]]:
    """(file id, distance) of the `limit` nearest file vectors, nearest first. searcher: vectors a
    long-lived process keeps (ExactVectors or VectorIndex); without one the index is read."""
    if not np.any(vector):
        return []
    want = limit + (1 if exclude is not None else 0)
    if searcher is not None:
        found = searcher.search(vector, want)
    else:
        if exact is None:
            exact = store.vectors.count() < EXACT_BELOW
        if exact:
            found = _exact(store, np.asarray(vector, np.float32), want)
        else:
            found = VectorIndex.open(store).search(vector, want)
    return [(i, d) for i, d in found if i != exclude][:limit]


def maintain(store) -> None:
    """After a scan: a library large enough for the graph gets it up to date, saved when worth it.
    store: the index (its sounds-like vectors), or another vector source (the text vectors)."""
    source = source_of(store)
    if source.prefix is None:
        return
    if source.count() < EXACT_BELOW:
        # searched exactly: no graph needs the log, which is only kept from growing without end
        last = source.last_change()
        if not VectorIndex.files(source) and last - source.log_floor() > SAVE_AFTER:
            source.forget_changes(last)
        return
    index = VectorIndex.open(source, writable=True)
    index.save_if_worth_it()


def _exact(store, vector: np.ndarray, count: int) -> list[tuple[int, float]]:
    """Every vector of the index read once, a batch at a time (a one-off query holds no copy)."""
    best: list[tuple[int, float]] = []
    for ids, blobs in store.vectors.batches():
        ids = np.concatenate([np.asarray(ids, np.int64), np.asarray([i for i, _ in best], np.int64)])
        dist = np.concatenate([(1.0 - as_matrix(blobs) @ vector).astype(np.float32),
                               np.asarray([d for _, d in best], np.float32)])
        best = nearest_rows(ids, dist, count)
    return best


def query_vector(store, path: str, embedder_factory) -> tuple[np.ndarray, int | None]:
    """The file's vector: the index's when it holds the file as it is now, else heard afresh.
    Returns (vector, its file id in the index or None)."""
    from sidecar.similarity.embedder import MODEL
    real = os.path.abspath(path)
    if not os.path.isfile(real):
        raise SimilarityError(f"{path}: no such file")
    stored = store.vectors.get(real)
    if stored is not None and stored.model == MODEL:
        st = os.stat(real)
        if (st.st_size, st.st_mtime_ns) == (stored.size, stored.mtime_ns):
            return np.frombuffer(stored.vector, dtype="<f4"), stored.file_id
    from sidecar.formats import NotAudioError, decode, recognise
    try:
        found = recognise(real)
    except (NotAudioError, OSError) as exc:
        raise SimilarityError(f"{path}: {exc}") from None
    if found is None:
        raise SimilarityError(f"{path}: not an audio format SFX Sidecar handles")
    try:
        audio = decode(real, found.format)
    except AudioError as exc:
        raise SimilarityError(f"{path}: {exc}") from None
    embedding = embedder_factory().embed(audio.samples, audio.samplerate)
    return embedding.vector, (stored.file_id if stored is not None else None)


def similar_to_file(store, path: str, limit: int = 10, *, exact: bool | None = None,
                    embedder_factory=None, searcher=None) -> list[Neighbour]:
    """The library's files nearest to the audio file at path (indexed or not), best first,
    the file itself left out. Raises SimilarityError or ModelUnavailable with one line."""
    if embedder_factory is None:
        from sidecar.similarity.embedder import shared as embedder_factory
    vector, own_id = query_vector(store, path, embedder_factory)
    if not np.any(vector):
        return []      # digital silence sounds like nothing in particular
    found = nearest(store, vector, limit, exclude=own_id, exact=exact, searcher=searcher)
    files = store.files.by_ids([i for i, _ in found])
    return [Neighbour(files[i].path, d, files[i]) for i, d in found if i in files]


class Similar:
    """A long-lived answerer of sounds-like queries (the OSC bridge's /sfx/similar, in
    `daw-bridge serve` and the daemon): the library's vectors stay in memory (a matrix, or the
    graph of a large library) and take in, at each query, what was scanned since. Not
    thread-safe: the bridge asks from its one worker thread."""

    def __init__(self, store, embedder_factory=None):
        self.store = store
        self.embedder_factory = embedder_factory
        self.searcher: ExactVectors | VectorIndex | None = None

    def __call__(self, path: str, limit: int) -> list[Neighbour]:
        return similar_to_file(self.store, path, limit, embedder_factory=self.embedder_factory,
                               searcher=self.up_to_date())

    def up_to_date(self):
        """The kept vectors with what was scanned since: a graph once the library is large."""
        s = self.searcher
        if s is not None:
            try:
                s.sync()
            except ValueError:          # another process saved a newer graph: take it
                s = None
        if s is None or (isinstance(s, ExactVectors) and len(s) >= EXACT_BELOW):
            large = self.store.vectors.count() >= EXACT_BELOW
            s = VectorIndex.open(self.store) if large else ExactVectors(self.store)
        self.searcher = s
        return s
