"""Search by meaning: an English query compared with each file's own words and with what was heard.

A file matches a query in two ways, each a cosine similarity of unit vectors:
  words  the vector of its Description, Keywords, FXName, file name and category (refresh.py);
  heard  the vector of the AudioSet labels it was heard as, weighted by their probabilities
         (labels.py): its dot product with the query is the probability-weighted similarity of
         the query to those labels, so a file nobody has tagged is found by what it sounds like.
The nearest files of each way are gathered and ranked together by the better of the two
similarities plus a fifth of the other (a file both ways agree on comes first). Each hit says
which words or labels carried it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np

from sidecar.errors import SidecarError
from sidecar.meaning import labels as label_vectors
from sidecar.meaning import words as file_words
from sidecar.meaning.refresh import refresh
from sidecar.meaning.text_model import MAX_TOKENS, TextModel, shared
from sidecar.index.interfaces import TEXT_VECTOR_KINDS as KINDS
from sidecar.index.interfaces import TEXT_VECTOR_SIZE
from sidecar.similarity.search import EXACT_BELOW
from sidecar.similarity.vector_index import ExactVectors, VectorIndex, as_matrix

#: how much the weaker of the two ways adds to the stronger
AGREEMENT = 0.2
#: below this a file is not shown: the query and the file have nothing in common
MIN_SCORE = 0.2
#: a query longer than this is refused before it is tokenized (the model reads 256 tokens)
MAX_QUERY_CHARS = 100_000
#: files brought up to date before a query of a long-lived process (edits made over OSC come one
#: at a time; each costs about 15 ms of encoding); the rest wait for the scan or the daemon
REFRESH_PER_QUERY = 16
ENGLISH_ONLY = "the text model is English: a query in another language finds little"


class MeaningError(SidecarError):
    """A query by meaning that cannot be answered; str() is the one line a person reads."""


def check_query(text) -> tuple[str, list[str]]:
    """The query as the model reads it, and notices for the person; MeaningError for one that
    cannot be searched (not text, empty, control characters, far too long)."""
    if not isinstance(text, str):
        raise MeaningError("the query must be text")
    if len(text) > MAX_QUERY_CHARS:
        raise MeaningError(f"the query is {len(text):,} characters long: type at most {MAX_QUERY_CHARS:,} "
                           f"(the model reads its first {MAX_TOKENS} tokens)")
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    controls = sorted({c for c in text if unicodedata.category(c) == "Cc"})
    if controls:
        shown = ", ".join(f"U+{ord(c):04X}" for c in controls[:5])
        raise MeaningError(f"the query holds control characters ({shown}): type words only")
    text = " ".join(text.split())
    if not text:
        raise MeaningError('empty query: type what you hear, e.g. "heavy rain on a tin roof"')
    notices = []
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isascii() for c in letters) < len(letters) / 2:
        notices.append(ENGLISH_ONLY)
    return text, notices


@dataclass
class MeaningHit:
    path: str
    score: float
    words_score: float | None          # None: the file has no words of its own
    heard_score: float | None          # None: nothing was heard in it
    file: object                       # its IndexedFile
    words: str = ""                    # the words its text vector was made from
    carried: list[tuple[str, float, float]] = field(default_factory=list)  # (label, probability, similarity)

    @property
    def record(self):
        """Its record: a hit is answered over OSC as a search hit is."""
        return self.file.record

    def record_fields(self, *names: str) -> list:
        """Fields of its record, as its index row gives them (what an OSC result sends)."""
        return self.file.record_fields(*names)

    def why(self) -> list[str]:
        """What carried the match, the stronger way first."""
        reasons = []
        if self.words_score is not None and self.words:
            shown = self.words if len(self.words) <= 80 else self.words[:79] + "…"
            reasons.append((self.words_score, f'its words "{shown}" ({self.words_score:.2f})'))
        if self.heard_score is not None and self.carried:
            labels = ", ".join(f"{name} {p:.0%}" for name, p, _ in self.carried)
            reasons.append((self.heard_score, f"heard as {labels} ({self.heard_score:.2f})"))
        return [text for _, text in sorted(reasons, key=lambda r: -r[0])]

    def to_json(self) -> dict:
        rec = self.file.record
        return {"path": self.path, "score": round(self.score, 4),
                "words": None if self.words_score is None else
                {"score": round(self.words_score, 4), "text": self.words},
                "heard": None if self.heard_score is None else
                {"score": round(self.heard_score, 4),
                 "labels": [{"label": n, "probability": round(p, 4), "similarity": round(s, 4)}
                            for n, p, s in self.carried]},
                "why": self.why(),
                "CatID": rec.CatID, "Category": rec.Category, "SubCategory": rec.SubCategory,
                "Description": rec.Description, "Keywords": rec.Keywords, "Duration": rec.Duration}


@dataclass
class Answer:
    hits: list[MeaningHit]
    notices: list[str]


class MeaningSearch:
    """Answers queries by meaning over one index. The text model and the label vectors load on
    the first query (a plain search never pays for them); the vectors stay in memory and take
    in, at each query, what changed since. Not thread-safe: one caller at a time."""

    def __init__(self, store, *, ucs_list=None, model: TextModel | None = None,
                 refresh_per_query: int | None = REFRESH_PER_QUERY):
        self.store = store
        self.ucs_list = ucs_list
        self.model = model
        self.refresh_per_query = refresh_per_query
        self.labels: label_vectors.LabelVectors | None = None
        self.table = None                       # the index's TextVectorStore, once prepared
        #: per kind, the vectors this process keeps: a matrix, or the graph of a large library
        self.kept: dict[str, ExactVectors | VectorIndex] = {}

    def prepare(self) -> None:
        """Load the model and label vectors (TextModelUnavailable says how to install the model)."""
        if self.model is None:
            self.model = shared()
        if self.labels is None:
            self.labels = label_vectors.load(self.model)
        if self.table is None:
            self.table = self.store.text_vectors
            self.table.ensure()

    def catch_up(self, limit: int | None) -> int:
        """Bring up to `limit` changed files up to date (None: all); how many still wait."""
        self.prepare()
        refresh(self.store, self.table, self.model, self.labels, self.ucs_list, limit=limit)
        return self.table.todo_count()

    def __call__(self, text, limit: int = 20) -> Answer:
        query_text, notices = check_query(text)
        self.prepare()
        waiting = self.catch_up(self.refresh_per_query)
        if waiting:
            notices.append(f"{waiting:,} files changed since the last scan are not searched by meaning "
                           f"yet: `sidecar scan` (or the daemon) takes them in")
        query, truncated = self.model.encode_one(query_text)
        if truncated:
            notices.append(f"the query was cut to its first {MAX_TOKENS} tokens: the model reads no more")
        for kind in KINDS:
            self.kept[kind] = self._up_to_date(kind)
        return Answer(self._rank(query, limit), notices)

    def _up_to_date(self, kind: str):
        """The kept vectors of this kind with what changed since: a graph once the library is large
        (the sounds-like machinery, its files named index.db.text-KIND-N.usearch)."""
        s = self.kept.get(kind)
        if s is not None:
            try:
                s.sync()
            except ValueError:          # another process saved a newer graph: take it
                s = None
        source = self.table.kind(kind)
        if s is None or (isinstance(s, ExactVectors) and len(s) >= EXACT_BELOW):
            s = VectorIndex.open(source) if source.count() >= EXACT_BELOW else ExactVectors(source)
        return s

    def _rank(self, query: np.ndarray, limit: int) -> list[MeaningHit]:
        want = max(limit * 3, 50)
        sims: dict[str, dict[int, float]] = {}
        for kind in KINDS:
            sims[kind] = {i: 1.0 - d for i, d in self.kept[kind].search(query, want)}
        candidates = set(sims["words"]) | set(sims["heard"])
        for kind in KINDS:              # each candidate's other similarity, from its stored vector
            missing = sorted(candidates - set(sims[kind]))
            for file_id, blob in self.table.kind(kind).by_ids(missing):
                sims[kind][file_id] = float(as_matrix([blob], TEXT_VECTOR_SIZE)[0] @ query)
        scored = []
        for file_id in candidates:
            w = sims["words"].get(file_id)
            h = sims["heard"].get(file_id)
            present = [s for s in (w, h) if s is not None]
            score = max(present) + AGREEMENT * (min(present) if len(present) == 2 else 0.0)
            if score >= MIN_SCORE:
                scored.append((score, file_id, w, h))
        scored.sort(key=lambda s: (-s[0], s[1]))
        scored = scored[:limit]
        files = self.store.files.by_ids([file_id for _, file_id, _, _ in scored])
        hits = []
        for score, file_id, w, h in scored:
            item = files.get(file_id)
            if item is None:
                continue                        # deleted since its vector was read
            rec = item.record                   # parsed from the row at each access: once here
            hits.append(MeaningHit(
                path=item.path, score=score, words_score=w, heard_score=h, file=item,
                words=file_words.file_words(item.path, rec, self.ucs_list) if w is not None else "",
                carried=self.labels.carried_by(rec.provenance.labels, query) if h is not None else []))
        return hits
