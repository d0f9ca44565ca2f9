"""The official UCS list a user supplies (.xlsx, .csv or .json), kept in the index database.

Accepted shapes: a header row naming at least CatID, Category and SubCategory
(CatShort, Explanations and Synonyms are optional; "Synonyms - Comma Separated"
is fine), or for JSON a list of objects with those keys. Columns in other
languages are named by field and language: ``Category_fr``, ``SubCategory (de)``,
``Explanations - es``. The list is kept in the index, in its UCS store.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from sidecar.index.interfaces import UcsRow as UcsEntry
from sidecar.index.interfaces import UcsStore
from sidecar.vocabulary.errors import VocabularyError

FIELDS = ("Category", "SubCategory", "Explanations", "Synonyms")
_BASE = {"catid": "CatID", "category": "Category", "subcategory": "SubCategory", "catshort": "CatShort",
         "explanations": "Explanations", "explanation": "Explanations", "synonyms": "Synonyms"}
_LANG_COLUMN = re.compile(r"^\s*(category|subcategory|explanations?|synonyms)\s*[-_:(\[ ]+\s*"
                          r"([A-Za-z][A-Za-z -]*?)\s*[)\]]?\s*$", re.IGNORECASE)
_CATID = re.compile(r"^[A-Za-z0-9]+$")


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
    def from_store(cls, store: UcsStore) -> "UcsList":
        """The list kept in the index; empty when none was imported."""
        kept = store.load()
        if kept is None:
            return cls()
        rows, version, source = kept
        return cls({r.CatID: r for r in rows}, version=version, source=source)

    def save_to(self, store: UcsStore) -> None:
        """Replace the kept list with this one, in one transaction."""
        store.save(self.entries.values(), self.version, self.source)


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
