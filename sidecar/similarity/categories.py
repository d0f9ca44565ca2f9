"""Categories learned from the library itself: a classifier of CatIDs over the files' embeddings.

It learns only from categories a person chose: a CatID (or Category and
SubCategory) a person wrote into a file or its sidecar, or a UCS file name;
never from what a classifier derived. A multinomial logistic regression on
the standardised file vectors (scikit-learn), judged by stratified
cross-validation before it is fitted on everything. The AudioSet engine's
scores of the labels it heard join the vectors only where cross-validation
says they help (by SCORES_MUST_GAIN). The model is saved in
the index as plain arrays (the scaling folded into the weights) with an
increasing version, so predicting needs only numpy and loading runs no code.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from sidecar.errors import SidecarError
from sidecar.index.interfaces import StoredModel
from sidecar.metadata.record import QUALITY_FLAG_IDS

MIN_FILES = 20
MIN_PER_CATEGORY = 5
FOLDS = 5
SOURCES = ("person", "ucs_name")
#: the AudioSet scores join the vectors only when they raise cross-validated accuracy this much
SCORES_MUST_GAIN = 0.01
#: an AudioSet label heard in fewer training files is not a feature (nothing to learn from it)
MIN_FILES_PER_LABEL = 3


class NotEnoughToLearn(SidecarError):
    """Too few files carry a category a person gave."""


@dataclass
class CategoryModel:
    classes: list[str]
    coef: np.ndarray          # (classes, 512 + len(mids))
    intercept: np.ndarray     # (classes,)
    embedding_model: str
    version: int = 0
    created: str = ""
    report: dict = field(default_factory=dict)
    mids: list[str] = field(default_factory=list)   # AudioSet labels whose scores are features too

    def predict(self, vector: np.ndarray, labels=()) -> tuple[str, float]:
        """The most likely CatID of a file (its vector, and the AudioSet labels heard in it) and
        its probability."""
        x = np.asarray(vector, np.float64)
        if self.mids:
            x = np.concatenate([x, audioset_scores(labels, self.mids)])
        logits = self.coef @ x + self.intercept
        p = np.exp(logits - logits.max())
        p /= p.sum()
        best = int(p.argmax())
        return self.classes[best], float(p[best])

    def stored(self) -> StoredModel:
        return StoredModel(embedding_model=self.embedding_model, classes=list(self.classes),
                           coef=self.coef.astype("<f8").tobytes(), intercept=self.intercept.astype("<f8").tobytes(),
                           report=self.report, features=list(self.mids), created=self.created)

    @classmethod
    def from_stored(cls, kept: StoredModel) -> "CategoryModel":
        coef = np.frombuffer(kept.coef, "<f8").reshape(len(kept.classes), -1)
        return cls(classes=kept.classes, coef=coef, intercept=np.frombuffer(kept.intercept, "<f8"),
                   embedding_model=kept.embedding_model, version=kept.version, created=kept.created,
                   report=kept.report, mids=kept.features)


def audioset_scores(labels, mids: list[str]) -> np.ndarray:
    """The probabilities of these AudioSet labels among those heard (0 for one not heard)."""
    where = {mid: i for i, mid in enumerate(mids)}
    x = np.zeros(len(mids))
    for lb in labels:
        i = where.get(lb.mid)
        if i is not None:
            x[i] = max(x[i], lb.probability)
    return x


def saved_model(store, embedder) -> CategoryModel | None:
    """The newest model `sidecar learn` saved, when it speaks the embedder's language."""
    if embedder is None:
        return None
    kept = store.models.latest()
    if kept is None or kept.embedding_model != embedder.model:
        return None
    return CategoryModel.from_stored(kept)


def category_of(item, vocab) -> tuple[str, str] | None:
    """(CatID, source) when a person chose the file's category, else None."""
    rec = item.record
    source = rec.provenance.category_source
    if rec.CatID and (source in SOURCES or "CatID" in item.human_fields):
        return rec.CatID, source if source in SOURCES else "person"
    ucs = vocab.parse_ucs_filename(os.path.basename(item.path))
    if ucs is not None and "CatID" not in item.human_fields:
        return ucs.CatID, "ucs_name"
    return None


#: the index's note of the newest model whose decisions every indexed file has
APPLIED_KEY = "learned_categories_applied"


def recategorised(store, vocab, model: CategoryModel, min_confidence: float) -> set[str]:
    """Indexed files (as they are now) whose category this model changes: a file no person
    categorised gets a confident learned CatID it does not hold yet, or loses a learned CatID an
    older model gave and this one is not sure of. Empty once a scan applied this model to all."""
    if store.meta.get(APPLIED_KEY) == str(model.version):
        return set()
    changed = set()
    for item, vector in store.vectors.files_with_vectors(model.embedding_model):
        rec = item.record
        if category_of(item, vocab) is not None or set(item.human_fields) & {"CatID", "Category", "SubCategory"}:
            continue
        v = np.frombuffer(vector, "<f4")
        if not v.any():
            continue
        catid, confidence = model.predict(v, rec.provenance.labels)
        if confidence >= min_confidence:
            if rec.CatID != catid:
                changed.add(item.path)
        elif rec.provenance.category_source == "learned":
            changed.add(item.path)
    return changed


@dataclass
class TrainingSet:
    """The files a person categorised: their vectors, CatIDs and AudioSet labels, the sources
    counted, and a digest of the (file, audio, CatID) triples that changes when they change."""
    vectors: np.ndarray
    catids: list[str]
    heard: list[list]         # each file's AudioSet labels (provenance), best first
    sources: Counter
    digest: str


def training_set(store, vocab, embedding_model: str) -> TrainingSet:
    vectors, labels, heard, sources = [], [], [], Counter()
    digest = hashlib.sha256()
    for item, vector in store.vectors.files_with_vectors(embedding_model):
        found = category_of(item, vocab)
        if found is None:
            continue
        v = np.frombuffer(vector, "<f4")
        if not v.any():
            continue       # digital silence says nothing of a category
        vectors.append(v)
        labels.append(found[0])
        heard.append([lb for lb in item.record.provenance.labels if lb.mid])
        sources[found[1]] += 1
        digest.update(f"{item.path}\0{item.fingerprint}\0{found[0]}\n".encode("utf-8", "surrogateescape"))
    matrix = np.array(vectors, np.float32) if vectors else np.zeros((0, 512), np.float32)
    return TrainingSet(matrix, labels, heard, sources, digest.hexdigest())


def learn_and_save(store, vocab, embedding_model: str, *, unless_unchanged: bool = False) -> CategoryModel | None:
    """Train and keep a new model version (what `sidecar learn` and the daemon's schedule do).
    unless_unchanged: None, and nothing trained, when the files a person categorised are what
    the newest model learned from. NotEnoughToLearn as train()."""
    ts = training_set(store, vocab, embedding_model)
    if unless_unchanged:
        kept = store.models.latest()
        if (kept is not None and kept.embedding_model == embedding_model
                and kept.report.get("digest") == ts.digest
                and not QUALITY_FLAG_IDS.keys() & set(kept.features)):
            # (a model learned when quality flags sat among the labels took them for things heard)
            return None
    model = train(store, vocab, embedding_model, ts)
    model.version = store.models.save(model.stored())
    return model


def train(store, vocab, embedding_model: str, ts: TrainingSet | None = None) -> CategoryModel:
    """ts: the training set when the caller read it already (the index is read once)."""
    from sklearn.model_selection import StratifiedKFold

    ts = ts or training_set(store, vocab, embedding_model)
    counts = Counter(ts.catids)
    kept = sorted(c for c, n in counts.items() if n >= MIN_PER_CATEGORY)
    left_out = {c: n for c, n in sorted(counts.items()) if n < MIN_PER_CATEGORY}
    rows = [i for i, c in enumerate(ts.catids) if c in kept]
    X, y, heard = ts.vectors[rows], [ts.catids[i] for i in rows], [ts.heard[i] for i in rows]
    if len(kept) < 2 or len(y) < MIN_FILES:
        raise NotEnoughToLearn(
            f"too little to learn from: {len(y)} files in {len(kept)} categories with at least "
            f"{MIN_PER_CATEGORY} files each carry a category a person gave (a CatID in the file or its "
            f"sidecar, or a UCS file name); at least {MIN_FILES} files in 2 or more such categories are needed")
    folds = min(FOLDS, min(Counter(y).values()))
    folding = StratifiedKFold(folds, shuffle=True, random_state=0)
    started = time.perf_counter()
    predicted = _cross_validated(X, y, folding)
    tried = {"embeddings": _accuracy(predicted, y)}
    label_counts = Counter(lb.mid for labels in heard for lb in {lb.mid: lb for lb in labels}.values())
    mids = sorted(m for m, n in label_counts.items() if n >= MIN_FILES_PER_LABEL)
    chosen = []
    if mids:
        with_scores = np.hstack([X, np.array([audioset_scores(labels, mids) for labels in heard])])
        scored = _cross_validated(with_scores, y, folding)
        tried["embeddings+audioset"] = _accuracy(scored, y)
        if tried["embeddings+audioset"] >= tried["embeddings"] + SCORES_MUST_GAIN:
            X, predicted, chosen = with_scores, scored, mids
    coef, intercept, classes = _fit(X, y)
    right = np.array(predicted) == np.array(y)
    per_category = {c: {"files": int(sum(1 for t in y if t == c)),
                        "accuracy": round(float(right[[t == c for t in y]].mean()), 4)} for c in kept}
    report = {"files": len(y), "categories": len(kept), "folds": folds,
              "accuracy": round(float(right.mean()), 4), "per_category": per_category,
              "features": "embeddings+audioset" if chosen else "embeddings",
              "accuracy_by_features": tried,
              "left_out": left_out, "sources": dict(ts.sources), "digest": ts.digest,
              "seconds": round(time.perf_counter() - started, 3)}
    return CategoryModel(classes=classes, coef=coef, intercept=intercept, embedding_model=embedding_model,
                         created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), report=report, mids=chosen)


def _pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))


def _cross_validated(X: np.ndarray, y: list[str], folding) -> list[str]:
    from sklearn.model_selection import cross_val_predict
    return list(cross_val_predict(_pipeline(), X, y, cv=folding))


def _accuracy(predicted: list[str], y: list[str]) -> float:
    return round(float(np.mean(np.array(predicted) == np.array(y))), 4)


def _fit(X: np.ndarray, y: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Fitted on every file; the scaling folded into the weights (predicting needs numpy only)."""
    pipeline = _pipeline().fit(X, y)
    scaler, lr = pipeline[0], pipeline[1]
    coef = lr.coef_ / scaler.scale_
    intercept = lr.intercept_ - coef @ scaler.mean_
    if len(lr.classes_) == 2:      # binary: one row for the second class; softmax of (0, z) is the same
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    return coef, intercept, [str(c) for c in lr.classes_]
