"""The undo journal's rows in the shared database, and the official UCS list.

The journal lives in the shared database rather than beside the files: undo
must work from any machine for a file another machine wrote, a machine's own
disk is not reachable from the others, and a folder on the file server beside
the sounds would need its own locking between machines. PostgreSQL commits
durably (synchronous_commit on, the server's default), as the SQLite journal's
own connection does with synchronous=FULL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sidecar.index.interfaces import JournalRow, UcsRow

_COLUMNS = "path, recorded_at, size, audio_offset, audio_length, audio_sha256, original_sha256, span_fn"


def _row(r: dict) -> JournalRow:
    return JournalRow(**{k: (bytes(v) if isinstance(v, memoryview) else v) for k, v in r.items()})


class PgJournal:
    """The JournalStore of a PostgreSQL index."""

    def __init__(self, db):
        self.db = db

    def add(self, row: JournalRow) -> bool:
        return self.db.execute_count(
            f"INSERT INTO journal ({_COLUMNS}, head, tail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (path) DO NOTHING",
            (row.path, row.recorded_at, row.size, row.audio_offset, row.audio_length, row.audio_sha256,
             row.original_sha256, row.span_fn, row.head, row.tail)) > 0

    def get(self, path: str) -> JournalRow | None:
        found = self.db.one(f"SELECT {_COLUMNS}, head, tail FROM journal WHERE path = %s", (path,))
        return _row(found) if found else None

    def has(self, path: str) -> bool:
        return self.db.one("SELECT 1 FROM journal WHERE path = %s", (path,)) is not None

    def entries(self) -> list[JournalRow]:
        return [_row(r) for r in self.db.execute(f"SELECT {_COLUMNS} FROM journal ORDER BY recorded_at")]

    def set_original_sha256(self, path: str, sha256_hex: str, *, unless: str | None = None) -> bool:
        sql, params = "UPDATE journal SET original_sha256 = %s WHERE path = %s", [sha256_hex, path]
        if unless is not None:
            sql += " AND original_sha256 != %s"
            params.append(unless)
        return self.db.execute_count(sql, params) > 0

    def rename(self, old: str, new: str) -> bool:
        with self.db.atomic():
            if self.has(new):
                self.db.execute("DELETE FROM journal WHERE path = %s", (old,))
                return False
            return self.db.execute_count("UPDATE journal SET path = %s WHERE path = %s", (new, old)) > 0

    def delete(self, path: str) -> None:
        self.db.execute("DELETE FROM journal WHERE path = %s", (path,))

    def close(self) -> None:
        pass


class PgUcs:
    """The UcsStore of a PostgreSQL index: one list for the team, replaced whole on each import."""

    def __init__(self, db):
        self.db = db

    def load(self) -> tuple[list[UcsRow], str, str] | None:
        rows = self.db.execute("SELECT catid, category, subcategory, catshort, explanations, synonyms "
                               "FROM ucs_categories ORDER BY position")
        if not rows:
            return None
        entries = {r["catid"]: UcsRow(r["catid"], r["category"], r["subcategory"], r["catshort"],
                                      r["explanations"], json.loads(r["synonyms"])) for r in rows}
        for r in self.db.execute("SELECT catid, lang, category, subcategory, explanations, synonyms "
                                 "FROM ucs_translations"):
            if r["catid"] in entries:
                slot = {"Category": r["category"], "SubCategory": r["subcategory"],
                        "Explanations": r["explanations"], "Synonyms": json.loads(r["synonyms"])}
                entries[r["catid"]].names[r["lang"]] = {k: v for k, v in slot.items() if v}
        meta = {r["key"]: r["value"] for r in self.db.execute("SELECT key, value FROM ucs_meta")}
        return list(entries.values()), meta.get("version", ""), meta.get("source", "")

    def save(self, rows: Iterable[UcsRow], version: str, source: str) -> None:
        rows = list(rows)
        with self.db.atomic():
            self.db.execute("DELETE FROM ucs_categories")
            self.db.execute("DELETE FROM ucs_translations")
            self.db.execute("DELETE FROM ucs_meta")
            if rows:
                self.db.executemany(
                    "INSERT INTO ucs_categories (position, catid, category, subcategory, catshort, explanations, "
                    "synonyms) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [(k, e.CatID, e.Category, e.SubCategory, e.CatShort, e.Explanations, json.dumps(e.Synonyms))
                     for k, e in enumerate(rows)])
            names = [(e.CatID, lang, n.get("Category", ""), n.get("SubCategory", ""), n.get("Explanations", ""),
                      json.dumps(n.get("Synonyms", []))) for e in rows for lang, n in e.names.items()]
            if names:
                self.db.executemany("INSERT INTO ucs_translations VALUES (%s, %s, %s, %s, %s, %s)", names)
            self.db.executemany("INSERT INTO ucs_meta VALUES (%s, %s)", [("version", version), ("source", source)])
