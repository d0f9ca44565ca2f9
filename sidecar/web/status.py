"""What /api/status and /api/learn answer: `sidecar status` and `sidecar learn` for the page."""

from __future__ import annotations

import threading
import time

from sidecar.errors import SidecarError

#: the category chart reads every row: a busy page asks at most this often
CHART_SECONDS = 30.0
_charts: dict[int, tuple[float, dict]] = {}
_charts_lock = threading.Lock()
_learning = threading.Lock()


def status(store, app) -> dict:
    now = time.time()
    model = store.models.latest()
    workers = []
    for w in store.queue.workers():
        workers.append({"id": w.id, "kind": w.kind, "host": w.host, "pid": w.pid,
                        "heartbeat_age": round(now - w.heartbeat, 1), "engine": (w.info or {}).get("engine"),
                        "roots": (w.info or {}).get("roots", [])})
    return {
        "files": store.files.count(),
        "jobs": store.queue.counts(),
        "throughput": _per_minute(store, now),
        "set_aside": [{"path": j.path, "reason": j.reason, "tries": j.tries}
                      for j in store.queue.jobs_in("set_aside", 50)],
        **_library_counts(store, model),
        "engine": {"classifier": app.config.classifier or "embedded", "name": app.engine.name,
                   "model": _quiet(lambda: app.engine.model_name)},
        "workers": workers,
        "learned": learned_report(model),
    }


def _per_minute(store, now: float) -> list[int]:
    """Files finished in each minute of the last hour, oldest first."""
    since = [store.queue.finished_since(now - 60 * m) for m in range(61)]     # since[m]: the last m minutes
    return [since[m + 1] - since[m] for m in reversed(range(60))]


def _quiet(fn):
    try:
        return fn()
    except Exception as exc:         # a missing model is a fact to show, not an error of the page
        return f"unavailable: {exc}"


def _library_counts(store, model) -> dict:
    """Files per CatID, and the CatIDs a person gave since the learned model was made (None: no
    model yet): one pass over the index, kept CHART_SECONDS."""
    key = (id(store), model.version if model else 0)
    with _charts_lock:
        kept = _charts.get(key)
        if kept and time.monotonic() - kept[0] < CHART_SECONDS:
            return kept[1]
    counts: dict[str, int] = {}
    since = 0
    created = model.created if model else ""
    for row in store.files.all():
        catid = row.record.CatID or ""
        counts[catid] = counts.get(catid, 0) + 1
        if model is not None and "CatID" in row.human_fields and row.updated > created:
            since += 1
    doc = {"categories": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
           "person_categories_since_learn": since if model is not None else None}
    with _charts_lock:
        _charts[key] = (time.monotonic(), doc)
    return doc


def learned_report(model) -> dict | None:
    if model is None:
        return None
    r = model.report
    return {"version": model.version, "created": model.created, "files": r.get("files"),
            "categories": r.get("categories"), "accuracy": r.get("accuracy"),
            "per_category": r.get("per_category", {})}


def run_learn(app) -> dict:
    """`sidecar learn` now, one at a time; its report."""
    from sidecar.similarity.categories import NotEnoughToLearn, learn_and_save
    from sidecar.similarity.embedder import MODEL
    from sidecar.web.api import ApiError
    if not _learning.acquire(blocking=False):
        raise ApiError(409, "learning is already running")
    try:
        model = learn_and_save(app.store, app.vocabulary, MODEL)
    except NotEnoughToLearn as exc:
        raise ApiError(409, str(exc)) from None
    except SidecarError as exc:
        raise ApiError(500, str(exc)) from None
    finally:
        _learning.release()
    return learned_report(model)
