"""Files and full-text search in SQLite: one row per file, FTS5 with bm25 ranking.

Search input never becomes SQL text: the query tree compiles to one FTS5 MATCH
string bound as a parameter.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator

from sidecar.errors import QueryError
from sidecar.index.folders import Stamps, by_folder
from sidecar.index.interfaces import Expand, IndexedFile
from sidecar.index.query import Query, parse
from sidecar.index.sqlite.db import SqliteDb
from sidecar.index.text import text_columns
from sidecar.metadata.record import Record

#: bm25 weights, in FTS column order: a category or keyword hit counts most.
_WEIGHTS = "2.0, 3.0, 2.0, 3.0, 2.0, 1.0"
#: what count_by may group by
_GROUPS = ("format", "engine")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class SqliteFiles:
    """The FileStore of a SQLite index."""

    #: a query with more matches than this is ranked over a window of its first matches
    RANK_WINDOW = 100

    def __init__(self, db: SqliteDb):
        self.db = db

    def get(self, path: str) -> IndexedFile | None:
        row = self.db.execute("SELECT * FROM files WHERE path = ?", (os.path.abspath(path),)).fetchone()
        return row_to_file(row) if row else None

    def by_ids(self, ids: list[int]) -> dict[int, IndexedFile]:
        rows = self.db.execute("SELECT * FROM files WHERE id IN (SELECT value FROM json_each(?))",
                               (json.dumps(ids),)).fetchall()
        return {r["id"]: row_to_file(r) for r in rows}

    def identities(self) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, fingerprint) for every indexed file: the rescan's fast path.
        Read from the files_identity index, not the rows (each holds a whole record), a row at a
        time: at 1,000,000 files, 2 s and 250 MB instead of 5 s and 410 MB."""
        return self.db.collect("SELECT path, size, mtime_ns, fingerprint FROM files",
                               lambda rows: {r[0]: (r[1], r[2], r[3]) for r in rows})

    def stamps_by_folder(self) -> Stamps:
        return self.db.collect("SELECT path, size, mtime_ns FROM files", by_folder)

    def paths_heard_by(self, wanted: Callable[[str, str], bool]) -> set[str]:
        """Paths whose provenance (engine, model) satisfies wanted(engine, model): the files an
        engine upgrade must hear again. The distinct pairs are few; only theirs are fetched."""
        pairs = self.db.execute("SELECT DISTINCT engine, json_extract(record, '$.provenance.model') "
                                "FROM files").fetchall()
        out: set[str] = set()
        for engine, model in pairs:
            if wanted(engine or "", model or ""):
                rows = self.db.execute("SELECT path FROM files WHERE engine = ? AND "
                                       "json_extract(record, '$.provenance.model') IS ?", (engine, model)).fetchall()
                out.update(r[0] for r in rows)
        return out

    def paths_labelled(self, labels: dict[str, str]) -> set[str]:
        """Paths of files holding any of these labels (mid -> label name) among their labels."""
        out: set[str] = set()
        for mid, name in labels.items():
            rows = self.db.execute("SELECT f.path FROM labels l JOIN files f ON f.id = l.file_id "
                                   "WHERE l.label = ? AND l.mid = ?", (name, mid)).fetchall()
            out.update(r[0] for r in rows)
        return out

    def find_by_fingerprint(self, fingerprint: str) -> list[IndexedFile]:
        rows = self.db.execute("SELECT * FROM files WHERE fingerprint = ?", (fingerprint,)).fetchall()
        return [row_to_file(r) for r in rows]

    def upsert(self, item: IndexedFile) -> None:
        rec = item.record
        item.path = os.path.abspath(item.path)
        item.updated = item.updated or _now()
        prov = rec.provenance
        values = {
            "path": item.path, "size": item.size, "mtime_ns": item.mtime_ns,
            "fingerprint": item.fingerprint, "format": item.format,
            "duration": rec.Duration, "samplerate": rec.SampleRate, "bitdepth": rec.BitDepth,
            "channels": rec.Channels,
            "record": json.dumps(rec.to_dict(), ensure_ascii=False),
            "written": json.dumps(item.written, ensure_ascii=False),
            "human_fields": json.dumps(item.human_fields),
            "engine": prov.engine, "classified": item.classified or prov.time, "updated": item.updated,
            **text_columns(item.path, rec),
        }
        cols = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        updates = ", ".join(f"{k}=excluded.{k}" for k in values if k != "path")
        with self.db.atomic():
            self.db.execute(f"INSERT INTO files ({cols}) VALUES ({marks}) "
                            f"ON CONFLICT(path) DO UPDATE SET {updates}", values)
            file_id = self.db.execute("SELECT id FROM files WHERE path = ?", (item.path,)).fetchone()[0]
            self.db.execute("DELETE FROM labels WHERE file_id = ?", (file_id,))
            self.db.executemany(
                "INSERT INTO labels(file_id, label, mid, probability, source) VALUES (?, ?, ?, ?, ?)",
                [(file_id, l.label, l.mid, l.probability, l.source) for l in prov.labels])

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """Record a new size and mtime for a file whose audio is known unchanged."""
        self.db.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                        (size, mtime_ns, os.path.abspath(path)))

    def delete(self, path: str) -> bool:
        with self.db.atomic():
            cur = self.db.execute("DELETE FROM files WHERE path = ?", (os.path.abspath(path),))
        return cur.rowcount > 0

    def delete_many(self, paths: list[str]) -> int:
        """Forget these files (labels go with them) in one transaction; how many were indexed."""
        with self.db.atomic():
            count = self.db.executemany("DELETE FROM files WHERE path = ?", [(os.path.abspath(p),) for p in paths])
        return max(count, 0)

    def paths_under(self, root: str) -> list[str]:
        """Every indexed path inside the folder root (at any depth), sorted.

        A range on the path index, not LIKE, so `%` and `_` in folder names are
        plain characters: "/lib/a" covers "/lib/a/x.wav", never "/lib/ab/x.wav".
        """
        low, high = _prefix_range(root)
        rows = self.db.execute("SELECT path FROM files WHERE path >= ? AND path < ? ORDER BY path",
                               (low, high)).fetchall()
        return [r[0] for r in rows]

    def has_files_under(self, root: str) -> bool:
        low, high = _prefix_range(root)
        return self.db.execute("SELECT 1 FROM files WHERE path >= ? AND path < ? LIMIT 1",
                               (low, high)).fetchone() is not None

    def all(self) -> Iterator[IndexedFile]:
        """Every file by path, read a page at a time: a library of a million records never sits
        in memory at once."""
        last = ""                   # sorts before every path ('' is no path)
        while True:
            rows = self.db.execute("SELECT * FROM files WHERE path > ? ORDER BY path LIMIT 1000",
                                   (last,)).fetchall()
            for row in rows:
                yield row_to_file(row)
            if len(rows) < 1000:
                return
            last = rows[-1]["path"]

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM files").fetchone()[0]

    def count_by(self, column: str) -> dict[str, int]:
        if column not in _GROUPS:
            raise ValueError(f"files are counted by {' or '.join(_GROUPS)}, not {column!r}")
        return dict(self.db.execute(f"SELECT {column}, count(*) FROM files GROUP BY {column}").fetchall())

    # -- search -----------------------------------------------------------
    def search_sql(self, query: Query, limit: int | None = None) -> tuple[str, list]:
        """The SQL and parameters for a parsed query (kept apart so tests can read it)."""
        if all(g.positives for g in query.groups):
            match = " OR ".join(_group_fts(g) for g in query.groups)
            sql = (f"SELECT files.* FROM files_fts JOIN files ON files.id = files_fts.rowid "
                   f"WHERE files_fts MATCH ? ORDER BY bm25(files_fts, {_WEIGHTS}), files.path")
            params: list = [match]
        else:
            clauses, params = [], []
            for g in query.groups:
                if g.positives:
                    clauses.append("files.id IN (SELECT rowid FROM files_fts WHERE files_fts MATCH ?)")
                    params.append(_group_fts(g))
                else:
                    clauses.append("files.id NOT IN (SELECT rowid FROM files_fts WHERE files_fts MATCH ?)")
                    params.append(" OR ".join(t.fts() for t in g.negatives))
            sql = "SELECT files.* FROM files WHERE " + " OR ".join(f"({c})" for c in clauses) + " ORDER BY files.path"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return sql, params

    def search(self, query: str | Query, *, limit: int | None = None,
               expand: Expand | None = None) -> list[IndexedFile]:
        """Files matching a query in the search language, best first; expand: a synonym function
        (None: the words as typed)."""
        parsed = parse(query) if isinstance(query, str) else query
        if expand is not None:
            parsed = parsed.expanded(expand)
        try:
            if limit is not None and all(g.positives for g in parsed.groups):
                return self._search_fast(parsed, int(limit))
            sql, params = self.search_sql(parsed, limit)
            rows = self.db.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:
            raise QueryError(f"cannot search for {query!r}: {exc}") from exc
        return [row_to_file(r) for r in rows]

    def _search_fast(self, query: Query, limit: int) -> list[IndexedFile]:
        """Best first within milliseconds on a large index.

        bm25 costs about a microsecond per matching row, too slow to rank every
        match of a common word in a million-file library while a DAW script
        waits. A query with fewer than RANK_WINDOW matches is ranked exactly.
        One with more is ranked in tiers over a window of its first matches:
        matches in category or keywords first, then the others, each by bm25
        (FTS5 serves a rowid range cheaply, a list of rowids not).
        """
        match = " OR ".join(_group_fts(g) for g in query.groups)
        window = max(self.RANK_WINDOW, limit * 2)
        head = self._first(match, window)
        if not head:
            return []                                       # ranking nothing still counts every phrase
        if len(head) < window:
            ids = self._ranked(match, None, limit)          # few matches: exact bm25
        else:
            ids = []
            if not any(t.column for g in query.groups for t in g.terms):
                tier1 = f"{{t_category t_keywords}} : ({match})"
                top = self._first(tier1, window)
                if top:
                    ids = self._ranked(tier1, top[-1], limit)
            if len(ids) < limit:
                taken = set(ids)
                more = self._ranked(match, head[-1], limit + len(ids))
                ids += [i for i in more if i not in taken][: limit - len(ids)]
        if not ids:
            return []
        by_id = self.by_ids(ids)
        return [by_id[i] for i in ids if i in by_id]

    def _first(self, match: str, count: int) -> list[int]:
        """The first `count` matching rowids, unranked: FTS5 stops as soon as it has them."""
        return [r[0] for r in self.db.execute(
            "SELECT rowid FROM files_fts WHERE files_fts MATCH ? LIMIT ?", (match, count)).fetchall()]

    def _ranked(self, match: str, upto: int | None, limit: int) -> list[int]:
        """Best `limit` matches by bm25, among those with rowid <= upto (None: all of them)."""
        order = f"ORDER BY bm25(files_fts, {_WEIGHTS}), rowid LIMIT ?"
        if upto is None:
            sql, params = f"SELECT rowid FROM files_fts WHERE files_fts MATCH ? {order}", (match, limit)
        else:
            sql = f"SELECT rowid FROM files_fts WHERE files_fts MATCH ? AND rowid <= ? {order}"
            params = (match, upto, limit)
        return [r[0] for r in self.db.execute(sql, params).fetchall()]


def _prefix_range(root: str) -> tuple[str, str]:
    """Every string that starts with the folder's prefix sorts in [prefix, prefix with its last
    character + 1)."""
    prefix = os.path.join(os.path.abspath(root), "")
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _group_fts(group) -> str:
    pos = " AND ".join(t.fts() for t in group.positives)
    if not group.negatives:
        return f"({pos})"
    neg = " OR ".join(t.fts() for t in group.negatives)
    return f"(({pos}) NOT ({neg}))"


class _StoredFile(IndexedFile):
    """A row read back: its record is decoded on first use (search pages often need only paths)."""

    _record: Record | None = None
    _record_json: str = ""

    @property
    def record(self) -> Record:
        if self._record is None:
            self._record = Record.from_dict(json.loads(self._record_json))
        return self._record

    @record.setter
    def record(self, value: Record | None) -> None:
        self._record = value

    def record_fields(self, *names: str) -> list:
        if self._record is not None:
            return super().record_fields(*names)
        stored = json.loads(self._record_json)
        return [stored.get(name) for name in names]


def row_to_file(row: sqlite3.Row) -> IndexedFile:
    item = _StoredFile(
        path=row["path"], size=row["size"], mtime_ns=row["mtime_ns"],
        fingerprint=row["fingerprint"], format=row["format"], record=None,
        written=json.loads(row["written"]), human_fields=json.loads(row["human_fields"]),
        updated=row["updated"], classified=row["classified"],
        id=row["id"] if "id" in row.keys() else 0,
    )
    item._record_json = row["record"]
    return item
