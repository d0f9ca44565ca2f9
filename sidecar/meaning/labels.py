"""What was heard, in words the text model can compare with a query: each AudioSet label's name
with its keywords, synonyms and UCS category (sidecar/vocabulary/data/labels.tsv), encoded once
and kept in the model cache under a digest of those texts."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from sidecar.meaning.text_model import CONVERSION, MODEL, TextModel
from sidecar.vocabulary import tables

#: labels heard below this probability say little about the sound and are left out of its vector
MIN_PROBABILITY = 0.05


def label_text(entry: tables.LabelEntry) -> str:
    words = list(dict.fromkeys(w for w in (*entry.terms, *entry.synonyms) if w.lower() != entry.label.lower()))
    info = tables.catids().get(entry.catid)
    parts = [entry.label, ", ".join(words)]
    if info:
        parts.append(f"{info.Category} {info.SubCategory}".lower())
    return ". ".join(p for p in parts if p)


@dataclass
class LabelVectors:
    names: list[str]          # label names, in the order of the rows
    mids: list[str]
    matrix: np.ndarray        # (labels, 384) unit rows
    key: str = ""             # digest of the model and the label texts the rows were made from

    def __post_init__(self):
        self._by_mid = {m: i for i, m in enumerate(self.mids) if m}
        self._by_name = {n.lower(): i for i, n in enumerate(self.names)}

    def row(self, mid: str, name: str) -> int | None:
        found = self._by_mid.get(mid) if mid else None
        return found if found is not None else self._by_name.get(name.lower())

    def weights(self, labels) -> dict[int, float]:
        """Label row -> the file's probability for it, the labels this table knows, confident enough."""
        out: dict[int, float] = {}
        for label in labels:
            row = self.row(label.mid, label.label)
            if row is not None and label.probability >= MIN_PROBABILITY:
                out[row] = max(out.get(row, 0.0), float(label.probability))
        return out

    def heard_vector(self, labels) -> np.ndarray | None:
        """The labels' vectors weighted by the file's probabilities, at unit length: its dot
        product with a query is the probability-weighted similarity of the query to what was heard."""
        weights = self.weights(labels)
        if not weights:
            return None
        rows = np.fromiter(weights, dtype=np.int64)
        v = np.asarray(list(weights.values()), np.float32) @ self.matrix[rows]
        norm = float(np.linalg.norm(v))
        return (v / norm).astype(np.float32) if norm > 0 else None

    def carried_by(self, labels, query: np.ndarray, count: int = 3) -> list[tuple[str, float, float]]:
        """(label, probability, similarity to the query) of the labels that carried a match, most first."""
        weights = self.weights(labels)
        scored = sorted(((p * float(self.matrix[r] @ query), r, p) for r, p in weights.items()), reverse=True)
        return [(self.names[r], p, float(self.matrix[r] @ query)) for _, r, p in scored[:count]]


def load(model: TextModel) -> LabelVectors:
    entries = tables.label_entries()
    texts = [label_text(e) for e in entries]
    key = hashlib.sha256("\n".join([MODEL, str(CONVERSION), *texts]).encode()).hexdigest()[:16]
    from sidecar.classify.yamnet_model import model_cache_dir
    path = model_cache_dir() / f"minilm-labels-{key}.npy"
    matrix = None
    try:
        kept = np.load(path)
        if kept.shape == (len(texts), model.weights.words.shape[1]) and np.isfinite(kept).all():
            matrix = kept.astype(np.float32)
    except (OSError, ValueError):
        pass                          # missing or damaged: made again below
    if matrix is None:
        matrix = model.encode(texts).vectors
        try:
            fd, tmp = tempfile.mkstemp(prefix=".labels-", suffix=".npy", dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                np.save(f, matrix)
            os.replace(tmp, path)
        except OSError:
            pass
    return LabelVectors([e.label for e in entries], [e.mid for e in entries], matrix, key)
