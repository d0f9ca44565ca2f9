"""What the page asks of the application, in plain values: the JSON API without its HTTP.

Files are named by their index row's id; a path never comes from the client. A row's file is
answered only when it lies inside a library root (daw_bridge.access.Roots: no `..`, no symbolic
link out). Every change is the person's edit of /sfx/tag (App.edits -> pipeline.edit.person_edit),
one field at a time, each under the file's claim in the work queue, journaled first.
"""

from __future__ import annotations

import os
import threading
import time

from daw_bridge.access import OutsideRoots, Roots
from sidecar.errors import QueryError, SidecarError
from sidecar.index.interfaces import IndexedFile
from sidecar.pipeline.edit import EDITABLE, EditError, apply_edit
from sidecar.web.rows import CATEGORY_FIELDS, file_json, review_reason

MAX_LIMIT = 200
#: matches sorted or counted by category beyond relevance: the first ones only (a common word in
#: a million-file library must still answer at once)
SORT_WINDOW = 1000
MAX_BATCH = 500
#: how long the review order is kept (reading it costs a pass over the whole index)
REVIEW_SECONDS = 60.0
SORTS = {"relevance": None, "name": lambda f: os.path.basename(f.path).lower(),
         "duration": lambda f: f.record.Duration or 0.0, "catid": lambda f: f.record.CatID or "\uffff"}


class ApiError(Exception):
    """(HTTP status, the one line a person reads)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def _limit(value, default: int, most: int = MAX_LIMIT) -> int:
    try:
        n = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        raise ApiError(400, f"not a number: {value!r}") from None
    return max(1, min(n, most))


def _offset(value) -> int:
    try:
        n = int(value or 0)
    except (TypeError, ValueError):
        raise ApiError(400, f"not a number: {value!r}") from None
    if not 0 <= n <= 100_000:
        raise ApiError(400, "offset must be in 0..100000")
    return n


class WebApi:
    def __init__(self, app, roots):
        self.app = app
        self.store = app.search_store()       # searches never wait for the daemon's writes
        self.roots = Roots(roots)
        self.edit = app.edits(self.store)
        self._similar = None
        self._meaning = None
        self._slow = threading.Lock()
        self._review_lock = threading.Lock()
        self._review: tuple[float, list | None] = (0.0, None)          # sounds-like and meaning answerers are not thread-safe
        self.started = time.time()

    def close(self) -> None:
        self.store.close()

    # -- reading --------------------------------------------------------------------
    def row(self, file_id: int) -> IndexedFile:
        """The indexed file of an id, inside a library root; ApiError otherwise."""
        if not isinstance(file_id, int) or file_id <= 0:
            raise ApiError(404, "no such file")
        row = self.store.files.by_ids([file_id]).get(file_id)
        if row is None:
            raise ApiError(404, f"no file with id {file_id} in the index")
        row.id = file_id
        try:
            self.roots.check(row.path)
        except OutsideRoots as exc:
            raise ApiError(403, str(exc)) from None
        return row

    def _json(self, row: IndexedFile) -> dict:
        """A row for the page; `inside`: inside a root, so it may be played and pictured."""
        return {**file_json(row), "inside": self._inside(row.path)}

    def _inside(self, path: str) -> bool:
        try:
            self.roots.check(path)
        except OutsideRoots:
            return False
        return True

    def file(self, file_id: int) -> dict:
        return self._json(self.row(file_id))

    def search(self, q: str, limit, offset, sort: str = "relevance", meaning: bool = False) -> dict:
        limit, offset = _limit(limit, 50), _offset(offset)
        q = (q or "").strip()
        if sort not in SORTS:
            raise ApiError(400, f"sort must be one of {', '.join(SORTS)}")
        if not q:
            raise ApiError(400, "type a query (the search language: door wood, door -metal, category:DOORWood)")
        notices: list[str] = []
        if meaning or q.startswith("~"):
            rows, notices = self._by_meaning(q.lstrip("~").strip(), offset + limit + 1)
            window = rows
        else:
            # one more than the page tells whether there is a next one; the first page counts categories
            want = max(offset + limit + 1, SORT_WINDOW) if sort != "relevance" or offset == 0 else offset + limit + 1
            try:
                window = self.app.search(q, limit=want, store=self.store)
            except QueryError as exc:
                raise ApiError(400, str(exc)) from None
            if sort != "relevance":
                window = sorted(window, key=SORTS[sort])
        page = window[offset:offset + limit]
        facets: dict[str, int] = {}
        if offset == 0:
            for f in window:
                key = f.record.CatID or ""
                facets[key] = facets.get(key, 0) + 1
        more = len(window) > offset + limit
        return {"query": q, "offset": offset, "limit": limit, "sort": sort,
                "results": [self._json(f) for f in page], "more": more, "notices": notices,
                "facets": [{"CatID": k, "count": v, **self._names(k)}
                           for k, v in sorted(facets.items(), key=lambda kv: (-kv[1], kv[0]))][:40],
                "facets_over": len(window)}

    def _names(self, catid: str) -> dict:
        info = self.app.vocabulary.cat_info(catid) if catid else {}
        return {"Category": info.get("Category", ""), "SubCategory": info.get("SubCategory", "")}

    def _by_meaning(self, text: str, limit: int) -> tuple[list[IndexedFile], list[str]]:
        with self._slow:
            if self._meaning is None:
                self._meaning = self.app.meaning(self.store)
            try:
                answer = self._meaning(text, limit)
            except SidecarError as exc:
                raise ApiError(400, str(exc)) from None
        return [h.file for h in answer.hits], list(answer.notices)

    def review(self, limit) -> dict:
        """Files a person should look at, most uncertain first. The order comes from reading the
        whole index, kept REVIEW_SECONDS (seconds on a library of 100,000 files); each answer
        reads its rows again, so a file reviewed meanwhile, here or elsewhere, drops out."""
        limit = _limit(limit, 50, 500)
        order = self._review_order()
        results = []
        for start in range(0, len(order), limit * 2):
            chunk = order[start:start + limit * 2]
            rows = self.store.files.by_ids([file_id for file_id, _ in chunk])
            for file_id, _ in chunk:
                row = rows.get(file_id)
                why = review_reason(row, self.app.vocabulary) if row is not None else None
                if why is None:
                    continue
                row.id = file_id
                item = self._json(row)
                item["review"] = {"uncertainty": why[0], "why": why[1]}
                results.append(item)
                if len(results) == limit:
                    break
            if len(results) == limit:
                break
        return {"results": results, "waiting": len(order)}

    def _review_order(self) -> list[tuple[int, float]]:
        """(file id, uncertainty) of every file inside the roots that waits for a person."""
        with self._review_lock:
            made, order = self._review
            if order is not None and time.monotonic() - made < REVIEW_SECONDS:
                return order
            found = []
            for row in self.store.files.all():
                if not self._inside(row.path):
                    continue
                why = review_reason(row, self.app.vocabulary)
                if why is not None:
                    found.append((-why[0], row.path, row.id))
            found.sort()
            order = [(file_id, -score) for score, _, file_id in found]
            self._review = (time.monotonic(), order)
            return order

    def similar(self, file_id: int, limit) -> dict:
        row = self.row(file_id)
        limit = _limit(limit, 20)
        with self._slow:
            if self._similar is None:
                self._similar = self.app.similar(self.store)
            try:
                hits = self._similar(row.path, limit)
            except SidecarError as exc:
                raise ApiError(409, str(exc)) from None
        out = []
        for h in hits:
            item = self._json(h.file)
            item["distance"] = round(h.distance, 6)
            out.append(item)
        return {"of": self._json(row), "results": out}

    def catids(self) -> list[dict]:
        """Every CatID the picker offers, with its explanation and synonyms when the UCS list is imported."""
        from sidecar.vocabulary.tables import catids
        ucs = self.app.ucs_list
        out = []
        for catid, info in sorted(catids().items()):
            entry = ucs.get(catid) if ucs else None
            out.append({"CatID": catid, "Category": info.Category, "SubCategory": info.SubCategory,
                        "Explanations": entry.Explanations if entry else "",
                        "Synonyms": list(entry.Synonyms) if entry else []})
        return out

    # -- changing ---------------------------------------------------------------------
    def set_fields(self, file_id: int, fields) -> dict:
        """A person's values of several fields, each through the /sfx/tag edit; all are checked
        before the first is written."""
        row = self.row(file_id)
        fields = _fields(fields)
        probe = row.record.__class__.from_dict(row.record.to_dict())
        for name, value in fields.items():
            try:
                apply_edit(probe, name, value, self.app.vocabulary.cat_info)
            except EditError as exc:
                raise ApiError(422, f"{name}: {exc}") from None
        for name, value in fields.items():
            row = self._edit(row.path, name, value)
        row.id = file_id
        return self._json(row)

    def accept(self, file_id: int, names=None) -> dict:
        """The machine's values become a person's: CatID (with its names) unless others are named."""
        row = self.row(file_id)
        names = list(names or ["CatID"])
        wanted = {}
        for name in names:
            if name not in EDITABLE or name.startswith("Keywords+") or name.startswith("Keywords-"):
                raise ApiError(422, f"cannot accept {name!r}")
            value = getattr(row.record, name)
            value = ", ".join(value) if isinstance(value, list) else str(value or "")
            if not value:
                raise ApiError(422, f"{name} is empty: nothing to accept")
            wanted[name] = value
        return self.set_fields(file_id, wanted)

    def batch(self, body) -> dict:
        """One change to many files: {"ids": [...], "fields": {...}} or {"ids": [...], "accept": [...]}.
        Each file is its own edit; one refused does not stop the others."""
        if not isinstance(body, dict):
            raise ApiError(400, "a JSON object with ids and fields (or accept)")
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool)
                                                           for i in ids):
            raise ApiError(400, "ids must be a non-empty list of file ids")
        if len(ids) > MAX_BATCH:
            raise ApiError(413, f"at most {MAX_BATCH} files a batch")
        accept = body.get("accept")
        fields = None if accept is not None else _fields(body.get("fields"))
        if accept is not None and (not isinstance(accept, list) or not all(isinstance(a, str) for a in accept)):
            raise ApiError(400, "accept must be a list of field names")
        results = []
        for file_id in dict.fromkeys(ids):
            try:
                item = self.accept(file_id, accept) if fields is None else self.set_fields(file_id, fields)
                results.append({"id": file_id, "ok": True, "file": item})
            except ApiError as exc:
                results.append({"id": file_id, "ok": False, "status": exc.status, "error": exc.reason})
        return {"results": results, "ok": sum(r["ok"] for r in results), "failed": sum(not r["ok"] for r in results)}

    def undo(self, file_id: int) -> dict:
        """The file and its sidecars as they were before the service first wrote them; the index
        forgets it (a later scan tags it again), as `sidecar undo` does."""
        from sidecar.pipeline.edit import holding_claim
        from sidecar.pipeline.undo import given_back, undo_sound
        row = self.row(file_id)
        journal = self.app.journal
        try:
            with holding_claim(self.store, row.path):
                audio, results = undo_sound(journal, row.path, self.app.config)
                gone = given_back(journal, {audio: results})
                for path in gone:
                    self.store.files.delete(path)
        except EditError as exc:
            raise ApiError(409, str(exc)) from None
        failed = [r for r in results if not r.ok]
        if failed and not gone:
            raise ApiError(409, "; ".join(f"{r.status}: {r.reason}" for r in failed))
        return {"id": file_id, "path": row.path, "given_back": bool(gone),
                "results": [{"path": r.path, "status": r.status, "reason": r.reason} for r in results]}

    def _edit(self, path: str, name: str, value: str) -> IndexedFile:
        try:
            return self.edit(path, name, value)
        except EditError as exc:
            status = 409 if "changed since it was indexed" in str(exc) or "right now" in str(exc) else 422
            raise ApiError(status, str(exc)) from None
        except SidecarError as exc:         # FileError: the safe writers left the file as it was
            raise ApiError(500, str(exc)) from None


def _fields(fields) -> dict[str, str]:
    if not isinstance(fields, dict) or not fields:
        raise ApiError(400, "fields must be a JSON object of field -> value")
    out = {}
    for name, value in fields.items():
        if name not in EDITABLE:
            raise ApiError(422, f"unknown field {name!r} (known: {', '.join(EDITABLE)})")
        if not isinstance(value, str):
            raise ApiError(422, f"{name}: the value must be a string")
        out[name] = value
    # a CatID brings its names: Category and SubCategory from the person too would fight it
    if "CatID" in out:
        for name in CATEGORY_FIELDS[1:]:
            out.pop(name, None)
    return out
