"""The official UCS list in SQLite: three tables, replaced whole on each import."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sidecar.index.interfaces import UcsRow
from sidecar.index.sqlite.db import SqliteDb


class SqliteUcs:
    """The UcsStore of a SQLite index."""

    def __init__(self, db: SqliteDb):
        self.db = db

    def load(self) -> tuple[list[UcsRow], str, str] | None:
        rows = self.db.execute("SELECT catid, category, subcategory, catshort, explanations, synonyms "
                               "FROM ucs_categories ORDER BY rowid").fetchall()
        if not rows:
            return None
        names = self.db.execute("SELECT catid, lang, category, subcategory, explanations, synonyms "
                                "FROM ucs_translations").fetchall()
        meta = dict(self.db.execute("SELECT key, value FROM ucs_meta").fetchall())
        entries = {r[0]: UcsRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows}
        for catid, lang, category, sub, expl, syn in names:
            if catid in entries:
                slot = {"Category": category, "SubCategory": sub, "Explanations": expl,
                        "Synonyms": json.loads(syn)}
                entries[catid].names[lang] = {k: v for k, v in slot.items() if v}
        return list(entries.values()), meta.get("version", ""), meta.get("source", "")

    def save(self, rows: Iterable[UcsRow], version: str, source: str) -> None:
        rows = list(rows)
        with self.db.atomic():
            self.db.execute("DELETE FROM ucs_categories")
            self.db.execute("DELETE FROM ucs_translations")
            self.db.execute("DELETE FROM ucs_meta")
            self.db.executemany(
                "INSERT INTO ucs_categories VALUES (?, ?, ?, ?, ?, ?)",
                [(e.CatID, e.Category, e.SubCategory, e.CatShort, e.Explanations, json.dumps(e.Synonyms))
                 for e in rows])
            self.db.executemany(
                "INSERT INTO ucs_translations VALUES (?, ?, ?, ?, ?, ?)",
                [(e.CatID, lang, n.get("Category", ""), n.get("SubCategory", ""), n.get("Explanations", ""),
                  json.dumps(n.get("Synonyms", []))) for e in rows for lang, n in e.names.items()])
            self.db.executemany("INSERT INTO ucs_meta VALUES (?, ?)", [("version", version), ("source", source)])
