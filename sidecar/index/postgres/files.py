"""Files and search on PostgreSQL: the same rows and answers as the SQLite index.

Matching runs on a tsvector of FTS5's own tokens under one GIN index; ranking
is FTS5's bm25, computed over the same window of rows the SQLite index ranks
(see sidecar.index.fts_twin), with each word's count of rows from a tally kept on
write (word_rows, migration 0002) and each word's rows from postings kept on write
(migration 0004).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator

import time

from psycopg.types.json import Jsonb

from sidecar.errors import QueryError
from sidecar.index import fts_twin
from sidecar.index.folders import Stamps, by_folder
from sidecar.index.interfaces import Expand, IndexedFile
from sidecar.index.query import Query, parse
from sidecar.index.sqlite.files import row_to_file as _row_to_file
from sidecar.index.text import text_columns as _text_columns

#: the columns a file is read back with (never the search columns: words, tv)
FILE_COLUMNS = ("id, path, size, mtime_ns, fingerprint, format, record, written, human_fields, "
                "updated, classified")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class PgFiles:
    """The FileStore of a PostgreSQL index."""

    def __init__(self, db):
        self.db = db

    def _lock_word_totals(self) -> None:
        """Every transaction that adds or removes rows takes the totals' row first, so that two
        writers never hold a file row each while waiting for the totals (a deadlock)."""
        self.db.execute("SELECT 1 FROM word_totals FOR UPDATE")

    # -- files ------------------------------------------------------------------------
    def get(self, path: str) -> IndexedFile | None:
        row = self.db.one(f"SELECT {FILE_COLUMNS} FROM files WHERE path = %s", (os.path.abspath(path),))
        return _row_to_file(row) if row else None

    def identities(self) -> dict[str, tuple[int, int, str]]:
        rows = self.db.execute("SELECT path, size, mtime_ns, fingerprint FROM files")
        return {r["path"]: (r["size"], r["mtime_ns"], r["fingerprint"]) for r in rows}

    def stamps_by_folder(self) -> Stamps:
        rows = self.db.execute("SELECT path, size, mtime_ns FROM files ORDER BY path")
        return by_folder((r["path"], r["size"], r["mtime_ns"]) for r in rows)

    def paths_heard_by(self, wanted) -> set[str]:
        model = "(record::jsonb #>> '{provenance,model}')"
        pairs = self.db.execute(f"SELECT DISTINCT engine, {model} AS model FROM files")
        out: set[str] = set()
        for pair in pairs:
            engine, mdl = pair["engine"], pair["model"]
            if wanted(engine or "", mdl or ""):
                rows = self.db.execute(f"SELECT path FROM files WHERE engine = %s AND {model} IS NOT DISTINCT FROM %s",
                                       (engine, mdl))
                out.update(r["path"] for r in rows)
        return out

    def paths_labelled(self, labels: dict[str, str]) -> set[str]:
        """Paths of files holding any of these labels (mid -> label name) among their labels."""
        out: set[str] = set()
        for mid, name in labels.items():
            rows = self.db.execute("SELECT f.path FROM labels l JOIN files f ON f.id = l.file_id "
                                   "WHERE l.label = %s AND l.mid = %s", (name, mid))
            out.update(r["path"] for r in rows)
        return out

    def find_by_fingerprint(self, fingerprint: str) -> list[IndexedFile]:
        rows = self.db.execute(f"SELECT {FILE_COLUMNS} FROM files WHERE fingerprint = %s", (fingerprint,))
        return [_row_to_file(r) for r in rows]

    def upsert(self, item: IndexedFile) -> None:
        rec = item.record
        item.path = os.path.abspath(item.path)
        item.updated = item.updated or _now()
        prov = rec.provenance
        text = _text_columns(item.path, rec)
        words = fts_twin.tokenizer().columns(text)
        values = {
            "path": item.path, "size": item.size, "mtime_ns": item.mtime_ns,
            "fingerprint": item.fingerprint, "format": item.format,
            "duration": rec.Duration, "samplerate": rec.SampleRate, "bitdepth": rec.BitDepth,
            "channels": rec.Channels,
            "record": json.dumps(rec.to_dict(), ensure_ascii=False),
            "written": json.dumps(item.written, ensure_ascii=False),
            "human_fields": json.dumps(item.human_fields),
            "engine": prov.engine, "classified": item.classified or prov.time, "updated": item.updated,
            **text,
            "words": Jsonb(words), "word_count": sum(len(w) for w in words),
            "tv": fts_twin.tsvector_text(words),
        }
        cols = ", ".join(values)
        marks = ", ".join(f"%({k})s::tsvector" if k == "tv" else f"%({k})s" for k in values)
        updates = ", ".join(f"{k} = excluded.{k}" for k in values if k != "path")
        with self.db.atomic():
            self._lock_word_totals()
            file_id = self.db.scalar(f"INSERT INTO files ({cols}) VALUES ({marks}) "
                                     f"ON CONFLICT (path) DO UPDATE SET {updates} RETURNING id", values)
            self.db.execute("DELETE FROM labels WHERE file_id = %s", (file_id,))
            if prov.labels:
                self.db.executemany(
                    "INSERT INTO labels (file_id, label, mid, probability, source) VALUES (%s, %s, %s, %s, %s)",
                    [(file_id, l.label, l.mid, l.probability, l.source) for l in prov.labels])

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        self.db.execute("UPDATE files SET size = %s, mtime_ns = %s WHERE path = %s",
                        (size, mtime_ns, os.path.abspath(path)))

    def delete(self, path: str) -> bool:
        with self.db.atomic():
            self._lock_word_totals()
            return self.db.execute_count("DELETE FROM files WHERE path = %s", (os.path.abspath(path),)) > 0

    def delete_many(self, paths: list[str]) -> int:
        with self.db.atomic():
            self._lock_word_totals()
            return self.db.execute_count("DELETE FROM files WHERE path = ANY(%s)",
                                         ([os.path.abspath(p) for p in paths],))

    def paths_under(self, root: str) -> list[str]:
        prefix = os.path.join(os.path.abspath(root), "")
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self.db.execute("SELECT path FROM files WHERE path >= %s AND path < %s ORDER BY path",
                               (prefix, upper))
        return [r["path"] for r in rows]

    def has_files_under(self, root: str) -> bool:
        prefix = os.path.join(os.path.abspath(root), "")
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return self.db.one("SELECT 1 FROM files WHERE path >= %s AND path < %s LIMIT 1", (prefix, upper)) is not None

    def all(self) -> Iterator[IndexedFile]:
        for row in self.db.execute(f"SELECT {FILE_COLUMNS} FROM files ORDER BY path"):
            yield _row_to_file(row)

    def count(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM files"))

    def by_ids(self, ids: list[int]) -> dict[int, IndexedFile]:
        rows = self.db.execute(f"SELECT {FILE_COLUMNS} FROM files WHERE id = ANY(%s)", (list(ids),))
        return {r["id"]: _row_to_file(r) for r in rows}

    def count_by(self, column: str) -> dict[str, int]:
        """Files per format or per engine (what `sidecar status` shows)."""
        if column not in ("format", "engine"):
            raise ValueError(column)
        return {r[column]: r["n"] for r in self.db.execute(f"SELECT {column}, count(*) AS n FROM files GROUP BY {column}")}

    # -- search -----------------------------------------------------------------------
    #: a query with more matches than this is ranked over a window of its first matches (as SQLite)
    RANK_WINDOW = 100

    def search(self, query: str | Query, *, limit: int | None = None,
               expand: Expand | None = None) -> list[IndexedFile]:
        """Files matching a query in the search language, best first, as the SQLite index answers;
        expand: a synonym function (None: the words as typed)."""
        parsed = parse(query) if isinstance(query, str) else query
        if expand is not None:
            parsed = parsed.expanded(expand)
        if all(g.positives for g in parsed.groups):
            tree = fts_twin.query_tree(parsed)
            if limit is not None:
                ids = self._search_fast(parsed, tree, int(limit))
            else:
                ids = self._ranked(tree, None, None, order_by_path=True)
        else:
            # a group of negatives only: every file without them; no rank, by path (as SQLite)
            tsq = "(" + " | ".join(fts_twin.tsquery_text(fts_twin.group_tree(g)) for g in parsed.groups) + ")"
            sql = "SELECT id FROM files WHERE tv @@ %s::tsquery ORDER BY path"
            params: list = [tsq]
            if limit is not None:
                sql += " LIMIT %s"
                params.append(int(limit))
            ids = [r["id"] for r in self._query(sql, params, query)]
        if not ids:
            return []
        by_id = self.by_ids(ids)
        return [by_id[i] for i in ids if i in by_id]

    def _query(self, sql: str, params: list, query) -> list[dict]:
        import psycopg
        try:
            return self.db.execute(sql, params)
        except psycopg.errors.DataError as exc:     # a tsquery PostgreSQL will not take
            raise QueryError(f"cannot search for {query!r}: {str(exc).splitlines()[0]}") from None

    def _search_fast(self, query: Query, tree, limit: int) -> list[int]:
        """The SQLite index's _search_fast, step by step: the same window, tiers and order. The
        matches up to the last of a window's are the window itself: they are ranked from their
        ids, without matching the tree again."""
        window = max(self.RANK_WINDOW, limit * 2)
        tally = self._tally(tree)
        head = self._first(tree, window, tally)
        if len(head) < window:
            return self._ranked(tree, None, limit, ids=head)
        ids: list[int] = []
        if not any(t.column for g in query.groups for t in g.terms):
            tier1 = fts_twin.restrict(tree, fts_twin.TIER_ONE)
            top = self._first(tier1, window, tally)
            if top:
                ids = self._ranked(tier1, top[-1], limit, ids=top)
        if len(ids) < limit:
            taken = set(ids)
            more = self._ranked(tree, head[-1], limit + len(ids), ids=head)
            ids += [i for i in more if i not in taken][: limit - len(ids)]
        return ids

    #: at most this many matches (by the word tally): the first ones by id come from GIN, not key order
    FEW_MATCHES = 10_000

    def _first(self, tree, count: int, tally: dict[str, list[tuple[int, int]]] | None = None) -> list[int]:
        """The first `count` matches by id. The planner reads the files in key order until it has
        them, fast for a common query and a scan of the whole table for a rare one (it cannot tell
        a word that is nowhere from one it has no statistics for: a second over a million files).
        Where the word tally bounds the matches low, GIN finds them all and they are sorted."""
        sql = "SELECT id FROM files WHERE tv @@ %s::tsquery ORDER BY id LIMIT %s"
        if tally is not None and _at_most(tree, tally) <= self.FEW_MATCHES:
            # OFFSET 0 keeps the ORDER BY out of the subquery: a bitmap scan, then the top by id
            sql = "SELECT id FROM (SELECT id FROM files WHERE tv @@ %s::tsquery OFFSET 0) m ORDER BY id LIMIT %s"
        rows = self._query(sql, [fts_twin.tsquery_text(tree), count], tree)
        return [r["id"] for r in rows]

    def _tally(self, tree) -> dict[str, list[tuple[int, int]]]:
        """The word tally's (columns mask, rows) of every whole word of the tree, in one lookup."""
        words = sorted({t for p in fts_twin.phrases(tree) for t in _whole_words(p)})
        out: dict[str, list[tuple[int, int]]] = {w: [] for w in words}
        if words:
            for r in self.db.execute("SELECT token, mask, rows FROM word_rows WHERE token = ANY(%s)", (words,)):
                out[r["token"]].append((r["mask"], r["rows"]))
        return out

    def _ranked(self, tree, upto: int | None, limit: int | None, *, order_by_path: bool = False,
                ids: list[int] | None = None) -> list[int]:
        """Best matches by FTS5's bm25 (ties by id, or by path), among ids <= upto (None: all);
        ids: those matches, when known already."""
        if ids is not None and not ids:
            return []
        phrases = fts_twin.phrases(tree)
        counts, params = [], []
        for i, phrase in enumerate(phrases):       # one round trip for every phrase's count
            sql, values = _hit_count(phrase)
            counts.append(f"{sql} AS h{i}")
            params += values
        stats = self._query(f"SELECT {', '.join(counts)}, files AS rows, words FROM word_totals", params, tree)[0]
        rows, words = int(stats["rows"]), int(stats["words"])
        if rows == 0:
            return []
        idf = fts_twin.idf_of([int(stats[f"h{i}"]) for i in range(len(phrases))], rows)
        avgdl = float(words) / float(rows)
        if ids is not None:
            found = self._query("SELECT id, path, words FROM files WHERE id = ANY(%s)", [list(ids)], tree)
        else:
            sql = "SELECT id, path, words FROM files WHERE tv @@ %s::tsquery"
            params = [fts_twin.tsquery_text(tree)]
            if upto is not None:
                sql += " AND id <= %s"
                params.append(upto)
            found = self._query(sql, params, tree)
        lives = {}
        if found and fts_twin.needs_walk(tree):     # the walk matters up to the last match only
            lives = self._walk(tree, phrases, max(r["id"] for r in found))
        scored = [(fts_twin.bm25(tree, r["words"], idf, avgdl, lives.get(r["id"])),
                   r["path"] if order_by_path else r["id"], r["id"]) for r in found]
        scored.sort(key=lambda s: (s[0], s[1]))
        if limit is not None:
            scored = scored[:limit]
        return [s[2] for s in scored]

    def _walk(self, tree, phrases, upto: int | None) -> dict[int, list[bool]]:
        """FTS5's walk over the rows (fts_twin.walk), from each phrase's stop and match lists, read
        from the postings (migration 0004) by index-only scans, in one round trip: no row is read
        but those where a phrase of several words may match (its words' order is in the row only)."""
        # one array per phrase, its stops in id order, a stop where the phrase may match as +id,
        # another as -id (ids start at 1): each list sorted on its own, in memory, and a word's
        # stops come sorted from the key (token, file_id) with no sort at all
        columns, params = [], []
        for i, phrase in enumerate(phrases):
            sql, values = _stops(phrase, upto)
            columns.append(f"ARRAY(SELECT CASE WHEN hit THEN id ELSE -id END FROM ({sql}) s ORDER BY id) AS p{i}")
            params += values
        row = self._query(f"SELECT {', '.join(columns)}", params, tree)[0]
        stop_lists: list[list[int]] = []
        matches: list[set[int]] = []
        for i, phrase in enumerate(phrases):
            signed = row[f"p{i}"]
            stop_lists.append([abs(s) for s in signed])
            found = {s for s in signed if s > 0}
            if len(phrase.tokens) > 1 and found:     # every word in one of its columns: in order?
                found = {r["id"] for r in self._query(
                    "SELECT id FROM files WHERE id = ANY(%s) AND tv @@ %s::tsquery",
                    [sorted(found), fts_twin.tsquery_text(phrase)], tree)}
            matches.append(found)
        return fts_twin.walk(tree, stop_lists, matches, upto)


def _stops(phrase: fts_twin.Phrase, upto: int | None) -> tuple[str, list]:
    """SQL for the rows where a phrase's iterator stops (every word of it in the row, in any
    column; ids <= upto) and, per row, whether it may match there: one of its columns holds all
    its words (for a phrase of one word: it matches)."""
    if not phrase.tokens or not phrase.columns:
        return "SELECT NULL::bigint AS id, NULL::boolean AS hit WHERE false", []
    below = "" if upto is None else " AND file_id <= %s"
    words, params = [], []
    for k, token in enumerate(phrase.tokens):
        if phrase.prefix and k == len(phrase.tokens) - 1:
            where, values = _prefix_range(token)
            words.append(f"SELECT file_id, bit_or(mask) AS mask FROM postings WHERE {where}{below} GROUP BY file_id")
        else:
            words.append(f"SELECT file_id, mask FROM postings WHERE token = %s{below}")
            values = [token]
        params += values + ([] if upto is None else [upto])
    mask = sum(1 << c for c in phrase.columns)
    sql = f"SELECT w0.file_id AS id, (w0.mask"
    sql += "".join(f" & w{k}.mask" for k in range(1, len(words)))
    sql += f" & {mask}) <> 0 AS hit FROM ({words[0]}) w0"
    sql += "".join(f" JOIN ({w}) w{k} USING (file_id)" for k, w in enumerate(words[1:], 1))
    return sql, params


def _whole_words(phrase: fts_twin.Phrase) -> list[str]:
    """The words of a phrase that are not a prefix (each in the tally)."""
    words = list(phrase.tokens[:-1] if phrase.prefix else phrase.tokens)
    return [w for w in words if len(w.encode()) <= fts_twin.MAX_LEXEME_BYTES]


def _at_most(node, tally: dict[str, list[tuple[int, int]]]) -> float:
    """An upper bound on the rows a tree matches, from the word tally (inf: none known): a phrase
    matches only rows holding each of its whole words in one of its columns."""
    if isinstance(node, fts_twin.Phrase):
        if not node.tokens or not node.columns:
            return 0
        mask = sum(1 << c for c in node.columns)
        words = _whole_words(node)
        if len(words) < len(node.tokens) - (1 if node.prefix else 0):
            return float("inf")         # a word too long for the tally
        counts = [sum(n for m, n in tally.get(w, []) if m & mask) for w in words]
        return min(counts) if counts else float("inf")
    if isinstance(node, fts_twin.Not):
        return float("inf") if node.left is None else _at_most(node.left, tally)
    bounds = [_at_most(c, tally) for c in node.children]
    return min(bounds) if isinstance(node, fts_twin.And) else sum(bounds)


def _prefix_range(token: str) -> tuple[str, list]:
    """SQL for the postings' words that start with token: a range of the key."""
    after = _after_prefix(token)
    if after is None:
        return "token >= %s AND starts_with(token, %s)", [token, token]
    return "token >= %s AND token < %s", [token, after]


def _after_prefix(prefix: str) -> str | None:
    """The least text above every text that starts with prefix (None: no such text)."""
    while prefix:
        code = ord(prefix[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:        # no surrogate is a character of UTF-8 text
            code = 0xE000
        if code <= 0x10FFFF:
            return prefix[:-1] + chr(code)
        prefix = prefix[:-1]
    return None


def _hit_count(phrase: fts_twin.Phrase) -> tuple[str, list]:
    """SQL for the number of rows holding a phrase (bm25's IDF). A word's comes from the tally
    kept on write (word_rows); a prefix's from the postings of its range of words (an index-only
    scan, where counting the matching rows reads most of the table for a short prefix); a phrase
    of several words is counted over the rows (its words' order is in the row only)."""
    if not phrase.tokens or not phrase.columns:
        return "0", []
    token = phrase.tokens[0]
    mask = sum(1 << c for c in phrase.columns)
    if len(phrase.tokens) == 1 and not phrase.prefix and len(token.encode()) <= fts_twin.MAX_LEXEME_BYTES:
        return "(SELECT coalesce(sum(rows), 0) FROM word_rows WHERE token = %s AND mask & %s <> 0)", [token, mask]
    if len(phrase.tokens) == 1 and phrase.prefix:
        where, values = _prefix_range(token)
        return (f"(SELECT count(*) FROM (SELECT DISTINCT file_id FROM postings WHERE {where} "
                "AND mask & %s <> 0) p)"), values + [mask]
    return "(SELECT count(*) FROM files WHERE tv @@ %s::tsquery)", [fts_twin.tsquery_text(phrase)]
