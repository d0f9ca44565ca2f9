"""What the index is to the rest of the project: a few small stores, one per concern.

A backend (SQLite in WAL mode for one machine; PostgreSQL for a team) implements
every protocol here over one database. Callers see only these methods and the
plain values they take and return: paths as text, ids as ints, times as float
seconds since the epoch, vectors as little-endian bytes. No SQL, no cursor and
no database row crosses this line; search input arrives as a parsed query tree,
never as SQL text.

    Store          the database as a whole: its stores, one transaction across them
      .files       files and full-text search
      .queue       the work queue and the workers that claim from it
      .vectors     sounds-like vectors and their change log
      .text_vectors  search by meaning: each file's words and heard vectors, a to-do list, change logs
      .models      learned category models
      .meta        small named values
      .journal     the undo journal's rows (the file work is metadata/journal.py)
      .ucs         the official UCS list a person imported
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sidecar.index.folders import Stamps
from sidecar.index.job_policy import JobEnd, RetryPolicy, Settled
from sidecar.index.query import Query
from sidecar.metadata.record import Record

#: a synonym function: a term -> the terms it also stands for
Expand = Callable[[str], list[str]]


# -- the values that cross the line ---------------------------------------------------


@dataclass
class IndexedFile:
    """One row of the index: a file, its identity and its canonical record."""

    path: str
    size: int
    mtime_ns: int
    fingerprint: str
    format: str
    record: Record
    written: dict = field(default_factory=dict)
    human_fields: list[str] = field(default_factory=list)
    updated: str = ""
    classified: str = ""
    #: the index row's id (0 until the row is stored and read back); names the file in the web API
    id: int = 0

    def record_fields(self, *names: str) -> list[Any]:
        """These fields of the record (None where it has none): a row read from the index answers
        without decoding its whole record, provenance and windows included (a search result
        sent to a DAW needs four fields)."""
        return [getattr(self.record, name, None) for name in names]

    def to_json(self) -> dict:
        """Canonical field names first, as every --json output shows a file."""
        out = {"path": self.path, "format": self.format, "size": self.size,
               "fingerprint": self.fingerprint}
        rec = self.record.to_dict()
        provenance = rec.pop("provenance")
        out.update(rec)
        out["provenance"] = provenance
        out["human_fields"] = self.human_fields
        out["written"] = self.written
        out["updated"] = self.updated
        return out


@dataclass
class StoredEmbedding:
    """A file's embeddings as the index keeps them (raw little-endian arrays)."""

    file_id: int
    model: str
    fingerprint: str
    vector: bytes
    blocks: bytes
    starts: bytes
    dim: int
    size: int = 0           # the file's size and mtime when indexed
    mtime_ns: int = 0


@dataclass
class Job:
    """One row of the work queue, as a worker claimed it."""

    path: str
    state: str              # queued | claimed | done | set_aside
    tries: int
    queued: float
    seen: tuple[int, int] | None
    reason: str = ""
    taken_over: float | None = None    # the claim time of a worker that died holding this job
    finished: float | None = None


@dataclass
class Worker:
    """A process that claims jobs, as it last reported itself."""

    id: str
    kind: str
    host: str
    pid: int
    started: float
    heartbeat: float
    info: dict = field(default_factory=dict)


@dataclass
class StoredModel:
    """A learned CatID model as kept: weights as float64 little-endian bytes (classes x dim)."""

    embedding_model: str
    classes: list[str]
    coef: bytes
    intercept: bytes
    report: dict
    features: list[str]     # AudioSet MIDs whose scores follow the vector
    created: str = ""
    version: int = 0


@dataclass
class JournalRow:
    """What the undo journal keeps of one file: everything but its audio (head, tail zlib'd)."""

    path: str
    recorded_at: float
    size: int
    audio_offset: int
    audio_length: int
    audio_sha256: str
    original_sha256: str
    span_fn: str
    head: bytes = b""
    tail: bytes = b""


@dataclass
class UcsRow:
    """One CatID of the official UCS list; names: lang -> {Category, SubCategory, Explanations, Synonyms}."""

    CatID: str
    Category: str
    SubCategory: str
    CatShort: str = ""
    Explanations: str = ""
    Synonyms: list[str] = field(default_factory=list)
    names: dict[str, dict[str, object]] = field(default_factory=dict)


# -- the stores -----------------------------------------------------------------------


class FileStore(Protocol):
    """One row per file, keyed by its absolute path; full-text search over the rows."""

    def get(self, path: str) -> IndexedFile | None: ...
    def by_ids(self, ids: list[int]) -> dict[int, IndexedFile]: ...
    def find_by_fingerprint(self, fingerprint: str) -> list[IndexedFile]: ...
    def identities(self) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, fingerprint) of every file: the rescan's fast path."""
    def stamps_by_folder(self) -> Stamps:
        """folder (with its trailing separator) -> name -> (size, mtime_ns) of every file: what
        the daemon's catch-up compares a listing with (see index/folders.py)."""
    def paths_heard_by(self, wanted: Callable[[str, str], bool]) -> set[str]:
        """Paths whose provenance (engine, model) satisfies wanted(engine, model)."""
    def paths_labelled(self, labels: dict[str, str]) -> set[str]:
        """Paths of files holding any of these labels (mid -> label name) among their labels."""
    def paths_under(self, root: str) -> list[str]:
        """Every path inside the folder root (any depth), sorted; % and _ are plain characters."""
    def has_files_under(self, root: str) -> bool: ...
    def all(self) -> Iterator[IndexedFile]: ...
    def count(self) -> int: ...
    def count_by(self, column: str) -> dict[str, int]:
        """Files per value of `format` or `engine`."""
    def upsert(self, item: IndexedFile) -> None: ...
    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """A new size and mtime for a file whose audio is known unchanged."""
    def delete(self, path: str) -> bool: ...
    def delete_many(self, paths: list[str]) -> int: ...
    def search(self, query: str | Query, *, limit: int | None = None,
               expand: Expand | None = None) -> list[IndexedFile]:
        """Files matching a query in the search language, best first; expand: synonyms (None:
        the words as typed). QueryError for a query that cannot be searched."""


class WorkQueue(Protocol):
    """Every file that needs work is one job, keyed by path. A claim carries a lease that its
    worker renews; the claim of a worker that died goes back to the queue."""

    def enqueue(self, paths: list[str], *, delay: float = 0.0,
                seen: dict[str, tuple[int, int] | None] | None = None, now: float | None = None) -> int: ...
    def claim(self, worker: str, lease: float, *, now: float | None = None) -> Job | None: ...
    def claim_path(self, path: str, worker: str, lease: float) -> bool: ...
    def finish(self, path: str, ok: bool = True, reason: str = "", *, requeue_delay: float = 0.0) -> None:
        """Done, or set aside with its reason; a job that changed while claimed is queued again."""
    def retry(self, path: str, delay: float, reason: str = "", *, count_try: bool = True,
              seen: tuple[int, int] | None = None, asked_now: bool = False) -> None:
        """Back to the queue after `delay` seconds; a counted try brings it nearer to being set aside."""
    def settle(self, path: str, tries: int, end: JobEnd, policy: RetryPolicy) -> Settled:
        """What follows a worker's turn at a job (done, set aside, or queued again and when): the
        queue's retry policy, one decision (index/job_policy.py, shared by the backends)."""
    def renew_leases(self, worker: str, lease: float) -> None: ...
    def release_claims(self, worker: str) -> int: ...
    def take_over_claims(self, dead_workers: list[str]) -> int: ...
    def ahead_of(self, path: str) -> int: ...
    def holder(self, path: str) -> str:
        """The worker whose live claim holds the path ("" when none does)."""
    def counts(self) -> dict[str, int]: ...
    def jobs_in(self, state: str, limit: int = 20) -> list[Job]: ...
    def recent_errors(self, limit: int = 10) -> list[Job]: ...
    def finished_since(self, since: float) -> int: ...
    def forget_done(self, older_than: float) -> int: ...
    def register_worker(self, worker: str, kind: str, host: str, pid: int, info: dict | None = None) -> None: ...
    def heartbeat(self, worker: str, info: dict | None = None) -> None: ...
    def unregister_worker(self, worker: str) -> None: ...
    def workers(self) -> list[Worker]: ...


class VectorStore(Protocol):
    """Sounds-like vectors of indexed files, and a numbered log of every change to them that each
    machine's approximate index follows."""

    def put(self, path: str, emb: StoredEmbedding) -> None:
        """The embeddings of an indexed file (replacing any); ValueError for a path not indexed."""
    def get(self, path: str) -> StoredEmbedding | None: ...
    def stale_paths(self, model: str) -> set[str]:
        """Paths of files without vectors of this model for their current audio."""
    def count(self) -> int: ...
    def batches(self, size: int = 20_000) -> Iterator[tuple[list[int], list[bytes]]]:
        """Every file vector, (ids, vectors) a batch at a time, by file id."""
    def by_ids(self, ids: list[int]) -> list[tuple[int, bytes]]: ...
    def files_with_vectors(self, model: str) -> Iterator[tuple[IndexedFile, bytes]]: ...
    def changes(self, after: int) -> list[tuple[int, int]]:
        """(seq, file id) of every vector added, replaced or removed after change `after`."""
    def last_change(self) -> int: ...
    def log_floor(self) -> int:
        """Changes up to this number were dropped from the log (an older graph is rebuilt)."""
    def forget_changes(self, upto: int) -> None: ...


#: the two ways a file matches a query by meaning: its own words, and what was heard in it
TEXT_VECTOR_KINDS = ("words", "heard")
TEXT_VECTOR_SIZE = 384


class VectorKind(Protocol):
    """One kind of vector with its own change log: what the approximate index follows
    (sidecar/similarity/vector_index.py). Its graph files are named prefix + `.STEM-N.usearch`."""

    ndim: int
    stem: str
    prefix: Path | None

    def count(self) -> int: ...
    def batches(self, size: int = 20_000) -> Iterator[tuple[list[int], list[bytes]]]: ...
    def by_ids(self, ids: list[int]) -> list[tuple[int, bytes]]: ...
    def changes(self, after: int) -> list[tuple[int, int]]: ...
    def last_change(self) -> int: ...
    def log_floor(self) -> int: ...
    def forget_changes(self, upto: int) -> None: ...


class TextVectorStore(Protocol):
    """Search by meaning's vectors (float32 little-endian, TEXT_VECTOR_SIZE values, unit length):
    per file, the vector of its words and of what was heard. Every file added, or whose record or
    path changed, is put on a to-do list (by the backend, whoever wrote the row); the list is kept
    only once ensure() made the storage (an index never searched by meaning does no work)."""

    def exists(self) -> bool: ...
    def ensure(self) -> None: ...
    def todo(self, limit: int | None = None) -> list[tuple[int, int]]:
        """(file id, change count) of files whose vectors may be out of date, by id."""
    def todo_count(self) -> int: ...
    def redo_all(self) -> None: ...
    def state(self, key: str) -> str | None: ...
    def set_state(self, key: str, value: str) -> None: ...
    def digests(self, ids: list[int]) -> dict[int, str]:
        """file id -> digest of the words its words vector was made from."""
    def write(self, rows: list[tuple[int, str | None, bytes | None, bytes | None]],
              done: list[tuple[int, int]]) -> None:
        """rows: (file id, words digest, words, heard), a None digest keeping the words; done: the
        to-do entries answered, cleared unless the file changed meanwhile. One transaction."""
    def kind(self, kind: str) -> VectorKind:
        """The words or heard vectors, for kept copies and the approximate index."""


class ModelStore(Protocol):
    """Learned CatID models, each a new version."""

    def save(self, model: StoredModel) -> int: ...
    def latest(self) -> StoredModel | None: ...


class MetaStore(Protocol):
    """Small named values (which learned model every file has, ...)."""

    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...
    def update(self, key: str, change: Callable[[str | None], str]) -> str:
        """Read, change and write one value as one step (two machines never lose each other's
        change); the value written."""


class JournalStore(Protocol):
    """The undo journal's rows, keyed by path. A row must outlive a crash once added."""

    def add(self, row: JournalRow) -> bool:
        """Keep a row unless the path has one; True when added."""
    def get(self, path: str) -> JournalRow | None: ...
    def has(self, path: str) -> bool: ...
    def entries(self) -> list[JournalRow]:
        """Every row without head and tail, oldest first."""
    def set_original_sha256(self, path: str, sha256_hex: str, *, unless: str | None = None) -> bool:
        """Change a row's recorded hash, unless it holds `unless`; True when changed."""
    def rename(self, old: str, new: str) -> bool:
        """Move a row; when `new` has one already, the row of `old` is dropped. True when moved."""
    def delete(self, path: str) -> None: ...


class UcsStore(Protocol):
    """The official UCS list a person imported (replaced whole)."""

    def load(self) -> tuple[list[UcsRow], str, str] | None:
        """(rows in their order, version, source); None when no list was imported."""
    def save(self, rows: Iterable[UcsRow], version: str, source: str) -> None: ...


@runtime_checkable
class Store(Protocol):
    """One database, seen as its stores."""

    files: FileStore
    queue: WorkQueue
    vectors: VectorStore
    text_vectors: TextVectorStore
    models: ModelStore
    meta: MetaStore
    journal: JournalStore
    ucs: UcsStore
    #: where the index is, as a person may read it (a path, or a URL without its password)
    location: str
    #: nothing is kept after close (an in-memory index)
    ephemeral: bool

    def atomic(self) -> AbstractContextManager[None]:
        """One transaction across the stores; nested calls join the outer one."""
    def cache_prefix(self) -> Path | None:
        """Where this machine keeps files derived from the index (the vector graph): a path
        prefix that names files by appending to it; None for an ephemeral index."""
    def clone(self) -> "Store":
        """Another handle on the same database (a reader that never waits for this one's writes)."""
    def close(self) -> None: ...
