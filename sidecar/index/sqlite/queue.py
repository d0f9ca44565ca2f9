"""The work queue and its workers in SQLite.

Every file that needs work is one row, keyed by path. Claims carry a lease that the
worker renews; a claim whose worker died is taken up again. One connection's
BEGIN IMMEDIATE serialises claims here; the PostgreSQL twin claims with
FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time

from sidecar.index.interfaces import Job, Worker
from sidecar.index.job_policy import SettlesJobs
from sidecar.index.sqlite.db import SqliteDb


class SqliteQueue(SettlesJobs):
    """The WorkQueue of a SQLite index."""

    def __init__(self, db: SqliteDb):
        self.db = db

    def enqueue(self, paths: list[str], *, delay: float = 0.0,
                seen: dict[str, tuple[int, int] | None] | None = None, now: float | None = None) -> int:
        """Ask for work on these paths; `delay` seconds must pass first (the stability wait).

        A path already queued keeps its place and waits the longer of the two; one being
        worked on is queued again once that worker is done; done or set-aside work starts
        afresh. seen: path -> (size, mtime_ns) as observed now, or None for a missing file.
        """
        now = time.time() if now is None else now
        seen = seen or {}
        rows = []
        for p in paths:
            ident = seen.get(p)
            rows.append((os.path.abspath(p), now, now + delay,
                         ident[0] if ident else None, ident[1] if ident else None))
        with self.db.atomic():
            return self.db.executemany(
                "INSERT INTO jobs(path, state, queued, not_before, seen_size, seen_mtime_ns) "
                "VALUES (?, 'queued', ?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET "
                "  again = CASE WHEN state = 'claimed' THEN 1 ELSE again END, "
                "  tries = CASE WHEN state IN ('done', 'set_aside') THEN 0 ELSE tries END, "
                "  queued = CASE WHEN state IN ('done', 'set_aside') THEN excluded.queued ELSE queued END, "
                "  not_before = CASE WHEN state = 'claimed' THEN not_before "
                "                    ELSE max(not_before, excluded.not_before) END, "
                "  seen_size = CASE WHEN state = 'claimed' THEN seen_size ELSE excluded.seen_size END, "
                "  seen_mtime_ns = CASE WHEN state = 'claimed' THEN seen_mtime_ns ELSE excluded.seen_mtime_ns END, "
                "  reason = CASE WHEN state = 'claimed' THEN reason ELSE '' END, "
                "  state = CASE WHEN state = 'claimed' THEN 'claimed' ELSE 'queued' END",
                rows)

    def claim(self, worker: str, lease: float, *, now: float | None = None) -> Job | None:
        """Take the next job whose wait is over, oldest first, for `lease` seconds."""
        now = time.time() if now is None else now
        with self.db.atomic():
            row = self.db.execute(
                "SELECT * FROM jobs WHERE state = 'queued' AND not_before <= ? "
                "ORDER BY not_before, queued LIMIT 1", (now,)).fetchone()
            if row is None:
                return None
            self.db.execute("UPDATE jobs SET state = 'claimed', worker = ?, claimed = ?, lease_until = ? "
                            "WHERE path = ?", (worker, now, now + lease, row["path"]))
            return _row_to_job(row)

    def claim_path(self, path: str, worker: str, lease: float) -> bool:
        """Claim one given path (a scan beside the daemon, a person's edit); False while another
        worker holds it. Work queued for the path, or held by a worker that died, is queued again
        when this claim is finished."""
        now = time.time()
        path = os.path.abspath(path)
        with self.db.atomic():
            row = self.db.execute("SELECT state, worker, lease_until FROM jobs WHERE path = ?", (path,)).fetchone()
            if row and row[0] == "claimed" and row[1] != worker and (row[2] or 0) > now:
                return False
            # work that was waiting for the file (queued, or held by a worker that died) is queued
            # again when this claim finishes: the claimer's own write does not stand for it
            self.db.execute(
                "INSERT INTO jobs(path, state, worker, queued, claimed, lease_until) "
                "VALUES (?, 'claimed', ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET state = 'claimed', "
                "again = CASE WHEN jobs.state = 'queued' OR (jobs.state = 'claimed' AND jobs.worker != excluded.worker) "
                "THEN 1 ELSE jobs.again END, "
                "worker = excluded.worker, claimed = excluded.claimed, lease_until = excluded.lease_until",
                (path, worker, now, now, now + lease))
            return True

    def finish(self, path: str, ok: bool = True, reason: str = "", *, requeue_delay: float = 0.0) -> None:
        """Done, or set aside with its reason; a job that changed while claimed is queued again."""
        now = time.time()
        self.db.execute(
            "UPDATE jobs SET worker = '', lease_until = NULL, finished = ?, taken_over = NULL, "
            "  state = CASE WHEN again THEN 'queued' WHEN ? THEN 'done' ELSE 'set_aside' END, "
            "  reason = CASE WHEN again THEN '' ELSE ? END, "
            "  tries = CASE WHEN again THEN 0 WHEN ? THEN tries ELSE tries + 1 END, "
            "  queued = CASE WHEN again THEN ? ELSE queued END, "
            "  not_before = CASE WHEN again THEN ? ELSE not_before END, "
            "  seen_size = CASE WHEN again THEN NULL ELSE seen_size END, "
            "  again = 0 WHERE path = ?",
            (now, ok, reason, ok, now, now + requeue_delay, os.path.abspath(path)))

    def retry(self, path: str, delay: float, reason: str = "", *, count_try: bool = True,
              seen: tuple[int, int] | None = None, asked_now: bool = False) -> None:
        """Back to the queue after `delay` seconds; a counted try brings it nearer to being set aside.
        asked_now: the job counts as asked for now (jobs queued meanwhile are ahead of it)."""
        now = time.time()
        params: tuple = (now + delay, reason, 1 if count_try else 0)
        seen_sql = ""
        if asked_now:
            seen_sql = ", queued = ?"
            params += (now,)
        if seen is not None:
            seen_sql = ", seen_size = ?, seen_mtime_ns = ?"
            params += seen
        self.db.execute(
            "UPDATE jobs SET state = 'queued', worker = '', lease_until = NULL, again = 0, "
            f"not_before = ?, reason = ?, tries = tries + ?{seen_sql} WHERE path = ?",
            (*params, os.path.abspath(path)))

    def renew_leases(self, worker: str, lease: float) -> None:
        self.db.execute("UPDATE jobs SET lease_until = ? WHERE state = 'claimed' AND worker = ?",
                        (time.time() + lease, worker))

    def release_claims(self, worker: str) -> int:
        """A worker stopping puts the jobs in its hands back, with no try counted."""
        return self.db.execute("UPDATE jobs SET state = 'queued', worker = '', lease_until = NULL, again = 0 "
                               "WHERE state = 'claimed' AND worker = ?", (worker,)).rowcount

    def take_over_claims(self, dead_workers: list[str]) -> int:
        """Claims of dead workers and expired leases go back to the queue, remembering the claim
        time (the file may have been written before the worker died)."""
        now = time.time()
        with self.db.atomic():
            marks = ", ".join("?" for _ in dead_workers) or "''"
            cur = self.db.execute(
                "UPDATE jobs SET state = 'queued', taken_over = claimed, worker = '', lease_until = NULL, "
                "not_before = 0 "
                f"WHERE state = 'claimed' AND (lease_until < ? OR worker IN ({marks}))",
                (now, *dead_workers))
            if dead_workers:
                self.db.execute(f"DELETE FROM workers WHERE id IN ({marks})", tuple(dead_workers))
        return cur.rowcount

    def holder(self, path: str) -> str:
        row = self.db.execute("SELECT worker FROM jobs WHERE path = ? AND state = 'claimed' AND lease_until > ?",
                              (os.path.abspath(path), time.time())).fetchone()
        return row[0] if row else ""

    def ahead_of(self, path: str) -> int:
        """Fresh jobs asked for no later than this one and not finished: a gone file waits for
        them, since one of them may be where it moved to."""
        return self.db.execute(
            "SELECT count(*) FROM jobs, (SELECT queued AS q FROM jobs WHERE path = ?) AS me "
            "WHERE jobs.path != ? AND jobs.state IN ('queued', 'claimed') AND jobs.tries = 0 "
            "AND jobs.queued <= me.q", (os.path.abspath(path), os.path.abspath(path))).fetchone()[0]

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())

    def jobs_in(self, state: str, limit: int = 20) -> list[Job]:
        rows = self.db.execute("SELECT * FROM jobs WHERE state = ? ORDER BY finished DESC, queued DESC LIMIT ?",
                               (state, limit)).fetchall()
        return [_row_to_job(r) for r in rows]

    def recent_errors(self, limit: int = 10) -> list[Job]:
        rows = self.db.execute("SELECT * FROM jobs WHERE reason != '' AND (tries > 0 OR state = 'set_aside') "
                               "ORDER BY coalesce(finished, queued) DESC LIMIT ?", (limit,)).fetchall()
        return [_row_to_job(r) for r in rows]

    def finished_since(self, since: float) -> int:
        return self.db.execute("SELECT count(*) FROM jobs WHERE state = 'done' AND finished >= ?",
                               (since,)).fetchone()[0]

    def forget_done(self, older_than: float) -> int:
        return self.db.execute("DELETE FROM jobs WHERE state = 'done' AND finished < ?",
                               (time.time() - older_than,)).rowcount

    # -- workers (who holds claims; what a running daemon reports) ---------------
    def register_worker(self, worker: str, kind: str, host: str, pid: int, info: dict | None = None) -> None:
        now = time.time()
        self.db.execute("INSERT OR REPLACE INTO workers(id, kind, host, pid, started, heartbeat, info) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", (worker, kind, host, pid, now, now, json.dumps(info or {})))

    def heartbeat(self, worker: str, info: dict | None = None) -> None:
        if info is None:
            self.db.execute("UPDATE workers SET heartbeat = ? WHERE id = ?", (time.time(), worker))
        else:
            self.db.execute("UPDATE workers SET heartbeat = ?, info = ? WHERE id = ?",
                            (time.time(), json.dumps(info, ensure_ascii=False), worker))

    def unregister_worker(self, worker: str) -> None:
        self.db.execute("DELETE FROM workers WHERE id = ?", (worker,))

    def workers(self) -> list[Worker]:
        rows = self.db.execute("SELECT * FROM workers ORDER BY started").fetchall()
        return [Worker(r["id"], r["kind"], r["host"], r["pid"], r["started"], r["heartbeat"], json.loads(r["info"]))
                for r in rows]


def _row_to_job(row: sqlite3.Row) -> Job:
    seen = (row["seen_size"], row["seen_mtime_ns"]) if row["seen_size"] is not None else None
    return Job(row["path"], row["state"], row["tries"], row["queued"], seen, row["reason"],
               row["taken_over"], row["finished"])
