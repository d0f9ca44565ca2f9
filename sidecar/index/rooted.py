"""One library, a path per machine: the index names a file by its root's id and its place inside.

The library is mounted at /Volumes/SFX on a Mac and /mnt/sfx on Linux. A
`[[roots]]` entry with an `id` says "this folder is root `sfx` here"; every
machine gives its own path for the same id. The index then keys a file under
that root as `/@sfx/Doors/door.wav`, the same on every machine, and each
machine reads it back with its own mount point: a search or an OSC answer on
the Mac says /Volumes/SFX/Doors/door.wav. Files outside every root keep their
absolute path.

`Rooted(store, roots)` is a Store that does this translation at the line
between the project and the index: the daemon, the commands and the bridge
keep speaking this machine's paths.

Two machines that disagree about a root are refused with a reason: a root
whose folder here holds none of the files the index knows under its id (the
wrong folder, or another library), or a new id whose folder holds the files
the index knows under another id (the same library named twice, which would
classify every file again).
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
from dataclasses import replace

from sidecar.errors import ConfigError
from sidecar.index.interfaces import IndexedFile, Job, JournalRow
from sidecar.index.job_policy import SettlesJobs

MARK = "/@"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: how many indexed files of a root are looked for on disk to tell whether two machines agree
SAMPLE = 20


class RootMismatch(ConfigError):
    """This machine's folder for a root is not the library the index knows under that id."""


class HostRoots:
    """This machine's folder for each root id, and the translation between paths and keys.

    paths: the path rules of this machine (os.path; ntpath gives Windows's on any machine, for
    tests). On Windows a root (a drive folder, or a share's UNC path) is matched without regard
    to case or to the kind of slash, and its keys use '/' like every other machine's."""

    def __init__(self, roots: dict[str, str], paths=os.path):
        for rid in roots:
            if not _ID.match(rid):
                raise ConfigError(f"root id {rid!r}: letters, digits, '_', '.' and '-' only, at most 64")
        self.paths = paths
        self.roots = {rid: paths.abspath(path) for rid, path in roots.items()}
        # the longest folder first: a root inside another is matched before it; a folder reached
        # through a symbolic link is also known by its real path (what Path.resolve() gives)
        named = list(self.roots.items())
        named += [(rid, paths.realpath(f)) for rid, f in self.roots.items() if paths.realpath(f) != f]
        self._by_length = sorted(((rid, paths.normcase(f).rstrip(paths.sep)) for rid, f in named),
                                 key=lambda kv: -len(kv[1]))

    def key(self, path: str) -> str:
        """The index's name for a path of this machine."""
        if path.startswith(MARK):
            return path
        p = self.paths
        full = p.abspath(path)
        compare = p.normcase(full)
        for rid, folder in self._by_length:
            if compare.rstrip(p.sep) == folder:
                return f"{MARK}{rid}"
            if compare.startswith(folder + p.sep):
                rel = full[len(folder) + 1:]
                return f"{MARK}{rid}/{rel.replace(p.sep, '/')}"
        return full

    def local(self, key: str) -> str:
        """This machine's path for an index key (a root this machine lacks keeps its key)."""
        if not key.startswith(MARK):
            return key
        rid, _, rel = key[len(MARK):].partition("/")
        folder = self.roots.get(rid)
        if folder is None:
            return key
        return self.paths.join(folder, *rel.split("/")) if rel else folder

    def check(self, store) -> None:
        """Refuse, with the reason, a root this machine names differently from the index."""
        for rid, folder in self.roots.items():
            known = store.files.paths_under(f"{MARK}{rid}")
            if known:
                sample = random.Random(0).sample(known, min(SAMPLE, len(known)))
                found = sum(os.path.exists(self.local(k)) for k in sample)
                if found == 0 and os.path.isdir(folder):
                    raise RootMismatch(
                        f"root {rid!r} at {folder} holds none of {len(sample)} files the index knows in it: "
                        f"another library, or another folder on this machine? (its other machines: "
                        f"{self._elsewhere(store, rid)})")
                continue
            for other in self._other_ids(store, rid):
                theirs = store.files.paths_under(f"{MARK}{other}")
                sample = random.Random(0).sample(theirs, min(SAMPLE, len(theirs)))
                found = sum(os.path.exists(os.path.join(folder, *k.split("/", 2)[2].split("/"))) for k in sample)
                if sample and found * 2 > len(sample):
                    raise RootMismatch(
                        f"root {rid!r} at {folder} holds the files the index knows as root {other!r} "
                        f"({found} of {len(sample)} found): give it id {other!r} in this machine's configuration")

    def register(self, store) -> None:
        """Say in the index where this machine keeps each root (what `status` and a person read)."""
        host = socket.gethostname()

        def add_mine(value: str | None) -> str:
            known = _parse_roots(value)
            for rid, folder in self.roots.items():
                known.setdefault(rid, {})[host] = folder
            return json.dumps(known, sort_keys=True)
        store.meta.update("roots", add_mine)

    def _other_ids(self, store, rid: str) -> list[str]:
        return sorted(other for other in known_roots(store) if other != rid)

    def _elsewhere(self, store, rid: str) -> str:
        hosts = known_roots(store).get(rid, {})
        return ", ".join(f"{h}: {f}" for h, f in sorted(hosts.items())) or "none registered"


def known_roots(store) -> dict[str, dict[str, str]]:
    """Root id -> {host: folder} as each machine registered it."""
    return _parse_roots(store.meta.get("roots"))


def _parse_roots(value: str | None) -> dict[str, dict[str, str]]:
    try:
        return json.loads(value or "{}")
    except ValueError:
        return {}


class Rooted:
    """A Store whose paths are this machine's, its index keys the same on every machine."""

    def __init__(self, store, roots: HostRoots):
        self.inner = store
        self.roots = roots
        self.files = _Files(store.files, roots)
        self.queue = _Queue(store.queue, roots)
        self.vectors = _Vectors(store.vectors, roots)
        self.journal = _Journal(store.journal, roots)
        self.models, self.meta, self.ucs = store.models, store.meta, store.ucs
        self.location, self.ephemeral = store.location, store.ephemeral

    def atomic(self):
        return self.inner.atomic()

    def cache_prefix(self):
        return self.inner.cache_prefix()

    def clone(self) -> "Rooted":
        return Rooted(self.inner.clone(), self.roots)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name):        # what a backend offers beyond the interfaces (listen_for_work, db)
        return getattr(self.inner, name)


def rooted(store, roots: dict[str, str], *, check: bool = True):
    """The store with this machine's roots (id -> folder); the store itself when there are none."""
    if not roots:
        return store
    host = HostRoots(roots)
    if check:
        host.check(store)
        host.register(store)
    return Rooted(store, host)


def _file(item: IndexedFile | None, roots: HostRoots):
    if item is not None:
        item.path = roots.local(item.path)
    return item


class _Files:
    def __init__(self, inner, roots: HostRoots):
        self.inner, self.r = inner, roots

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def get(self, path):
        return _file(self.inner.get(self.r.key(path)), self.r)

    def by_ids(self, ids):
        return {i: _file(f, self.r) for i, f in self.inner.by_ids(ids).items()}

    def find_by_fingerprint(self, fingerprint):
        return [_file(f, self.r) for f in self.inner.find_by_fingerprint(fingerprint)]

    def identities(self):
        return {self.r.local(k): v for k, v in self.inner.identities().items()}

    def stamps_by_folder(self):
        # a folder's key maps to this machine's folder; the names in it stay as they are
        out = {}
        for folder, names in self.inner.stamps_by_folder().items():
            if folder.startswith(MARK):
                folder = self.r.paths.join(self.r.local(folder.rstrip("/")), "")
            out[folder] = names
        return out

    def paths_heard_by(self, wanted):
        return {self.r.local(k) for k in self.inner.paths_heard_by(wanted)}

    def paths_labelled(self, labels):
        return {self.r.local(k) for k in self.inner.paths_labelled(labels)}

    def paths_under(self, root):
        return [self.r.local(k) for k in self.inner.paths_under(self.r.key(root))]

    def has_files_under(self, root):
        return self.inner.has_files_under(self.r.key(root))

    def all(self):
        for f in self.inner.all():
            yield _file(f, self.r)

    def upsert(self, item):
        local = item.path
        item.path = self.r.key(local)
        try:
            self.inner.upsert(item)
        finally:
            item.path = self.r.local(item.path) if item.path.startswith(MARK) else local

    def touch(self, path, size, mtime_ns):
        self.inner.touch(self.r.key(path), size, mtime_ns)

    def delete(self, path):
        return self.inner.delete(self.r.key(path))

    def delete_many(self, paths):
        return self.inner.delete_many([self.r.key(p) for p in paths])

    def search(self, query, *, limit=None, expand=None):
        return [_file(f, self.r) for f in self.inner.search(query, limit=limit, expand=expand)]


def _job(job: Job | None, roots: HostRoots):
    return replace(job, path=roots.local(job.path)) if job is not None else None


class _Queue(SettlesJobs):
    """settle (the retry policy) runs here, over this class's finish and retry, which key the path."""

    def __init__(self, inner, roots: HostRoots):
        self.inner, self.r = inner, roots

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def enqueue(self, paths, *, delay=0.0, seen=None, now=None):
        seen = {self.r.key(p): v for p, v in (seen or {}).items()}
        return self.inner.enqueue([self.r.key(p) for p in paths], delay=delay, seen=seen, now=now)

    def claim(self, worker, lease, *, now=None):
        return _job(self.inner.claim(worker, lease, now=now), self.r)

    def claim_path(self, path, worker, lease):
        return self.inner.claim_path(self.r.key(path), worker, lease)

    def finish(self, path, ok=True, reason="", *, requeue_delay=0.0):
        self.inner.finish(self.r.key(path), ok, reason, requeue_delay=requeue_delay)

    def retry(self, path, delay, reason="", *, count_try=True, seen=None, asked_now=False):
        self.inner.retry(self.r.key(path), delay, reason, count_try=count_try, seen=seen, asked_now=asked_now)

    def ahead_of(self, path):
        return self.inner.ahead_of(self.r.key(path))

    def holder(self, path):
        return self.inner.holder(self.r.key(path))

    def jobs_in(self, state, limit=20):
        return [_job(j, self.r) for j in self.inner.jobs_in(state, limit)]

    def recent_errors(self, limit=10):
        return [_job(j, self.r) for j in self.inner.recent_errors(limit)]


class _Vectors:
    def __init__(self, inner, roots: HostRoots):
        self.inner, self.r = inner, roots

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def put(self, path, emb):
        self.inner.put(self.r.key(path), emb)

    def get(self, path):
        return self.inner.get(self.r.key(path))

    def stale_paths(self, model):
        return {self.r.local(k) for k in self.inner.stale_paths(model)}

    def files_with_vectors(self, model):
        for f, vec in self.inner.files_with_vectors(model):
            yield _file(f, self.r), vec


class _Journal:
    def __init__(self, inner, roots: HostRoots):
        self.inner, self.r = inner, roots

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _row(self, row: JournalRow | None):
        return replace(row, path=self.r.local(row.path)) if row is not None else None

    def add(self, row):
        return self.inner.add(replace(row, path=self.r.key(row.path)))

    def get(self, path):
        return self._row(self.inner.get(self.r.key(path)))

    def has(self, path):
        return self.inner.has(self.r.key(path))

    def entries(self):
        return [self._row(r) for r in self.inner.entries()]

    def set_original_sha256(self, path, sha256_hex, *, unless=None):
        return self.inner.set_original_sha256(self.r.key(path), sha256_hex, unless=unless)

    def rename(self, old, new):
        return self.inner.rename(self.r.key(old), self.r.key(new))

    def delete(self, path):
        self.inner.delete(self.r.key(path))
