"""Audio -> aisfx embeddings: one 512-d vector per 2.3 s block, and one per file.

The file's vector is the mean of its block vectors, scaled to unit length so
that a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from sidecar.similarity import checkpoint, melspec
from sidecar.similarity import graph_cache, network
from sidecar.similarity.network import EMBEDDING_SIZE

MODEL = f"aisfx-{checkpoint.VERSION}"
#: a checkpoint kept elsewhere than the installed aisfx package
CHECKPOINT_ENV = "SIDECAR_AISFX_CHECKPOINT"
#: a long file is heard through at most this many blocks, evenly spread (about 2.5 minutes)
MAX_BLOCKS = 64
#: blocks per matrix product: larger batches gain little and cost memory
BATCH = 8


@dataclass
class Embedding:
    blocks: np.ndarray        # (n, 512) float32, one row per block
    starts: np.ndarray        # (n,) block start times, seconds
    vector: np.ndarray        # (512,) float32, unit length (all zeros for digital silence)
    model: str = MODEL


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; an all-zero row stays zero."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


class Embedder:
    """The network, loaded once; embed() is safe to call from several threads."""

    def __init__(self, net):
        self.net = net
        self.model = MODEL

    @classmethod
    def load(cls, path: str | None = None) -> "Embedder":
        """From the installed aisfx package (or path); ModelUnavailable says how to install it."""
        where = path or os.environ.get(CHECKPOINT_ENV)
        if where and not os.path.isfile(where) and not path:
            raise checkpoint.ModelUnavailable(
                f"{CHECKPOINT_ENV}={where}: no such file (unset it to use the installed aisfx package)")
        where = where or checkpoint.locate()
        def bad(exc):
            raise checkpoint.ModelUnavailable(
                f"{where}: not the aisfx embedding network ({exc}); {checkpoint.REINSTALL_HINT}") from None
        return cls(graph_cache.load_net(where, bad))

    def embed_blocks(self, blocks: np.ndarray) -> np.ndarray:
        out = np.empty((len(blocks), EMBEDDING_SIZE), dtype=np.float32)
        for i in range(0, len(blocks), BATCH):
            out[i: i + BATCH] = self.net(blocks[i: i + BATCH])
        return out

    def embed(self, samples: np.ndarray, samplerate: int, *, max_blocks: int = MAX_BLOCKS) -> Embedding:
        signal = melspec.prepare(samples, samplerate)
        spec = melspec.log_mel(signal)
        blocks, starts = melspec.blocks(spec, max_blocks)
        vectors = self.embed_blocks(blocks)
        return Embedding(blocks=vectors, starts=starts.astype(np.float32),
                         vector=unit(vectors.mean(axis=0)) if signal.any() else np.zeros(EMBEDDING_SIZE, np.float32))


def stored_form(emb: Embedding, fingerprint: str):
    """The index's form of an Embedding: the file vector in float32, the blocks in float16."""
    from sidecar.index.interfaces import StoredEmbedding
    return StoredEmbedding(file_id=0, model=emb.model, fingerprint=fingerprint,
                           vector=emb.vector.astype("<f4").tobytes(),
                           blocks=emb.blocks.astype("<f2").tobytes(),
                           starts=emb.starts.astype("<f4").tobytes(), dim=EMBEDDING_SIZE)


class LazyEmbedder:
    """The shared Embedder, loaded when a file first needs it (a rescan of a known library never
    does). A model that cannot be loaded is reported once, through on_unavailable, and every later
    embed() raises ModelUnavailable at once."""

    model = MODEL

    def __init__(self, on_unavailable=None):
        self._on_unavailable = on_unavailable
        self._failed: checkpoint.ModelUnavailable | None = None
        self._lock = threading.Lock()

    @property
    def failed(self) -> bool:
        return self._failed is not None

    def embed(self, samples: np.ndarray, samplerate: int) -> Embedding:
        with self._lock:
            if self._failed is None:
                try:
                    embedder = shared()
                except checkpoint.ModelUnavailable as exc:
                    self._failed = exc
                    if self._on_unavailable is not None:
                        self._on_unavailable(exc)
            if self._failed is not None:
                raise self._failed
        return embedder.embed(samples, samplerate)


def available() -> bool:
    """Whether a checkpoint is there to load (a cheap look: no reading, no import of aisfx)."""
    where = os.environ.get(CHECKPOINT_ENV)
    if where:
        return os.path.isfile(where)
    try:
        checkpoint.locate()
    except checkpoint.ModelUnavailable:
        return False
    return True


_shared: Embedder | None = None
_shared_lock = threading.Lock()


def shared() -> Embedder:
    """The process's one Embedder (about 25 MB of weights), loaded on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Embedder.load()
        return _shared
