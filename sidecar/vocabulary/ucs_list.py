"""The official UCS list a user supplies (.xlsx, .csv or .json), kept in the index database.

Accepted shapes: a header row naming at least CatID, Category and SubCategory
(CatShort, Explanations and Synonyms are optional; "Synonyms - Comma Separated"
is fine), or for JSON a list of objects with those keys. Columns in other
languages are named by field and language: ``Category_fr``, ``SubCategory (de)``,
``Explanations - es``. The list lives in ``ucs_*`` tables of the SQLite file the
index uses (``SIDECAR_DB``).
"""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from sidecar.vocabulary.errors import VocabularyError

FIELDS = ("Category", "SubCategory", "Explanations", "Synonyms")
_BASE = {"catid": "CatID", "category": "Category", "subcategory": "SubCategory", "catshort": "CatShort",
         "explanations": "Explanations", "explanation": "Explanations", "synonyms": "Synonyms"}
_LANG_COLUMN = re.compile(r"^\s*(category|subcategory|explanations?|synonyms)\s*[-_:(\[ ]+\s*"
                          r"([A-Za-z][A-Za-z -]*?)\s*[)\]]?\s*$", re.IGNORECASE)
_CATID = re.compile(r"^[A-Za-z0-9]+$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS ucs_categories (
    catid TEXT PRIMARY KEY, category TEXT NOT NULL, subcategory TEXT NOT NULL,
    catshort TEXT NOT NULL DEFAULT '', explanations TEXT NOT NULL DEFAULT '',
    synonyms TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS ucs_translations (
    catid TEXT NOT NULL, lang TEXT NOT NULL, category TEXT NOT NULL DEFAULT '',
    subcategory TEXT NOT NULL DEFAULT '', explanations TEXT NOT NULL DEFAULT '',
    synonyms TEXT NOT NULL DEFAULT '[]', PRIMARY KEY (catid, lang));
CREATE TABLE IF NOT EXISTS ucs_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def default_db_path() -> str:
    """The official list lives in the index database, whose default the store keeps."""
    from sidecar.index.store import default_location as index_path
    return index_path()


@dataclass
class UcsEntry:
    CatID: str
    Category: str
    SubCategory: str
    CatShort: str = ""
    Explanations: str = ""
    Synonyms: list[str] = field(default_factory=list)
    names: dict[str, dict[str, object]] = field(default_factory=dict)  # lang -> {Category, SubCategory, ...}


def _synonym_list(value: object) -> list[str]:
    if isinstance(value, list):
        words = [str(v) for v in value]
    else:
        words = re.split(r"[,;]", str(value or ""))
    out: list[str] = []
    for w in words:
        w = " ".join(w.split())
        if w and w.lower() not in {o.lower() for o in out}:
            out.append(w)
    return out


def _column(header: object) -> tuple[str, str] | None:
    """(field, lang) for a header cell; lang "" for the main language; None for other columns."""
    text = str(header or "").strip()
    key = re.sub(r"[^a-z0-9]", "", text.lower())
    if key in _BASE:
        return _BASE[key], ""
    if key.startswith("synonyms") and "comma" in key:
        return "Synonyms", ""
    m = _LANG_COLUMN.match(text)
    if m:
        return _BASE[m.group(1).lower()], m.group(2).strip().lower()
    return None


class UcsList:
    """CatID -> entry of the official list; empty (and false) when none was imported."""

    def __init__(self, entries: dict[str, UcsEntry] | None = None, version: str = "", source: str = ""):
        self.entries: dict[str, UcsEntry] = dict(entries or {})
        self.version = version
        self.source = source

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __contains__(self, catid: object) -> bool:
        return catid in self.entries

    def get(self, catid: str) -> UcsEntry | None:
        return self.entries.get(catid)

    def explain(self, catid: str) -> str:
        entry = self.entries.get(catid)
        return entry.Explanations if entry else ""

    def synonyms(self, catid: str) -> list[str]:
        entry = self.entries.get(catid)
        return list(entry.Synonyms) if entry else []

    def names(self, catid: str) -> dict[str, dict[str, object]]:
        entry = self.entries.get(catid)
        return dict(entry.names) if entry else {}

    @property
    def languages(self) -> list[str]:
        return sorted({lang for e in self.entries.values() for lang in e.names})

    # -- import ------------------------------------------------------------

    @classmethod
    def import_file(cls, path: str | Path) -> "UcsList":
        path = Path(path)
        suffix = path.suffix.lower()
        readers = {".json": _read_json, ".csv": _read_csv, ".xlsx": _read_xlsx, ".xlsm": _read_xlsx}
        if suffix not in readers:
            raise VocabularyError(f"{path}: unsupported file type {suffix or '(none)'}; use .xlsx, .csv or .json")
        try:
            rows = readers[suffix](path)
        except VocabularyError:
            raise
        except OSError as exc:
            raise VocabularyError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise VocabularyError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except json.JSONDecodeError as exc:
            raise VocabularyError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from exc
        except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
            raise VocabularyError(f"{path}: not a readable spreadsheet: {exc}") from exc
        return cls._from_rows(path, rows)

    @classmethod
    def _from_rows(cls, path: Path, rows: list[tuple[int, dict[tuple[str, str], object]]]) -> "UcsList":
        entries: dict[str, UcsEntry] = {}
        version = ""
        for number, row in rows:
            text = {k: str(v).strip() if v is not None and not isinstance(v, list) else v for k, v in row.items()}
            if not any(v for v in text.values()):
                continue   # blank rows are common at the end of a spreadsheet
            catid = text.get(("CatID", "")) or ""
            category = text.get(("Category", "")) or ""
            sub = text.get(("SubCategory", "")) or ""
            missing = [n for n, v in (("CatID", catid), ("Category", category), ("SubCategory", sub)) if not v]
            if missing:
                raise VocabularyError(f"{path}: row {number}: empty {', '.join(missing)}")
            if not _CATID.match(catid):
                raise VocabularyError(f"{path}: row {number}: CatID {catid!r} is not letters and digits")
            if catid in entries:
                raise VocabularyError(f"{path}: row {number}: CatID {catid} appears twice")
            entry = UcsEntry(CatID=catid, Category=category, SubCategory=sub,
                             CatShort=text.get(("CatShort", "")) or "",
                             Explanations=text.get(("Explanations", "")) or "",
                             Synonyms=_synonym_list(row.get(("Synonyms", ""))))
            for (name, lang), value in row.items():
                if lang and value not in (None, "", []):
                    slot = entry.names.setdefault(lang, {})
                    slot[name] = _synonym_list(value) if name == "Synonyms" else str(value).strip()
            version = version or str(row.get(("version", "")) or "")
            entries[catid] = entry
        if not entries:
            raise VocabularyError(f"{path}: no UCS categories found")
        return cls(entries, version=version, source=str(path))

    # -- storage -------------------------------------------------------------

    @classmethod
    def load_from_db(cls, path: str | Path | None = None) -> "UcsList":
        """The list stored in the database; empty when the file or the tables do not exist."""
        path = str(path or default_db_path())
        if not os.path.exists(path):
            return cls()
        try:
            con = sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=ro", uri=True)
        except sqlite3.Error:
            return cls()
        try:
            rows = con.execute("SELECT catid, category, subcategory, catshort, explanations, synonyms "
                               "FROM ucs_categories ORDER BY rowid").fetchall()
            names = con.execute("SELECT catid, lang, category, subcategory, explanations, synonyms "
                                "FROM ucs_translations").fetchall()
            meta = dict(con.execute("SELECT key, value FROM ucs_meta").fetchall())
        except sqlite3.Error:
            return cls()   # no list imported into this index yet
        finally:
            con.close()
        entries = {r[0]: UcsEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows}
        for catid, lang, category, sub, expl, syn in names:
            if catid in entries:
                slot = {"Category": category, "SubCategory": sub, "Explanations": expl,
                        "Synonyms": json.loads(syn)}
                entries[catid].names[lang] = {k: v for k, v in slot.items() if v}
        return cls(entries, version=meta.get("version", ""), source=meta.get("source", ""))

    def save_to_db(self, path: str | Path | None = None) -> str:
        """Replace the stored list with this one, in one transaction; returns the database path."""
        path = str(path or default_db_path())
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)
            with con:
                con.execute("DELETE FROM ucs_categories")
                con.execute("DELETE FROM ucs_translations")
                con.execute("DELETE FROM ucs_meta")
                con.executemany(
                    "INSERT INTO ucs_categories VALUES (?, ?, ?, ?, ?, ?)",
                    [(e.CatID, e.Category, e.SubCategory, e.CatShort, e.Explanations, json.dumps(e.Synonyms))
                     for e in self.entries.values()])
                con.executemany(
                    "INSERT INTO ucs_translations VALUES (?, ?, ?, ?, ?, ?)",
                    [(e.CatID, lang, n.get("Category", ""), n.get("SubCategory", ""), n.get("Explanations", ""),
                      json.dumps(n.get("Synonyms", []))) for e in self.entries.values() for lang, n in e.names.items()])
                con.executemany("INSERT INTO ucs_meta VALUES (?, ?)",
                                [("version", self.version), ("source", self.source)])
        finally:
            con.close()
        return path


# -- readers: each returns [(row number, {(field, lang): value})] ------------------


def _table(path: Path, rows: list[list[object]]) -> list[tuple[int, dict[tuple[str, str], object]]]:
    for h, header in enumerate(rows[:20]):   # the official sheet has title rows above the header
        columns = [_column(c) for c in header]
        present = {c for c in columns if c}
        if {("CatID", ""), ("Category", ""), ("SubCategory", "")} <= present:
            out = []
            for n, row in enumerate(rows[h + 1:], start=h + 2):
                out.append((n, {col: row[i] if i < len(row) else None
                                for i, col in enumerate(columns) if col}))
            return out
    raise VocabularyError(f"{path}: no header row with CatID, Category and SubCategory columns")


def _read_csv(path: Path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return _table(path, [list(r) for r in csv.reader(fh, dialect)])


def _read_xlsx(path: Path):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        last_error: VocabularyError | None = None
        for sheet in wb.worksheets:   # the list is on the first sheet that has the header
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            try:
                return _table(path, rows)
            except VocabularyError as exc:
                last_error = exc
        raise last_error or VocabularyError(f"{path}: the workbook has no sheets")
    finally:
        wb.close()


def _read_json(path: Path):
    with open(path, encoding="utf-8-sig") as fh:
        data = json.load(fh)
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise VocabularyError(f"{path}: expected a list of objects with CatID, Category and SubCategory")
    out = []
    for n, item in enumerate(data, start=1):
        row: dict[tuple[str, str], object] = {}
        for key, value in item.items():
            col = _column(key)
            if col:
                row[col] = value
            elif key.lower() == "version":
                row[("version", "")] = value
        out.append((n, row))
    if out and not any(("CatID", "") in r for _, r in out):
        raise VocabularyError(f"{path}: no CatID key in any object")
    return out
