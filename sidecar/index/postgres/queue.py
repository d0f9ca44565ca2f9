"""The work queue on PostgreSQL: one row per path, claimed with FOR UPDATE SKIP LOCKED under leases.

The statements are the SQLite queue's, with two differences a team needs:
claims skip rows another machine is claiming at that moment (SKIP LOCKED)
instead of waiting for them, and time is the database's clock, not each
machine's (a machine whose clock runs a minute fast would otherwise take over
leases that are still good). New work is announced with NOTIFY, so an idle
worker on any machine wakes at once instead of at its next poll.

The project's own queue rather than procrastinate or pgqueuer: both run jobs
as registered Python tasks with their own tables, workers and async loop,
while here a job is a path whose row also carries the stability wait, the
seen size and mtime, "changed while claimed" and the taken-over claim time
that the worker needs. Those would sit beside a library's queue as a second
state to keep in step; the SQL below is short and mirrors the SQLite twin.
"""

from __future__ import annotations

import json
import os
import threading
import time

import psycopg

from sidecar.index.interfaces import Job, Worker
from sidecar.index.job_policy import SettlesJobs

CHANNEL = "sidecar_jobs"
#: the database's clock, in the epoch seconds the queue's columns hold
NOW = "extract(epoch from clock_timestamp())"


def _now(now: float | None) -> tuple[str, tuple]:
    """A SQL expression for now: the caller's time when given (tests), else the database's."""
    return ("%s::float8", (now,)) if now is not None else (NOW, ())


def _row_to_job(row: dict) -> Job:
    seen = (row["seen_size"], row["seen_mtime_ns"]) if row["seen_size"] is not None else None
    return Job(row["path"], row["state"], row["tries"], row["queued"], seen, row["reason"],
               row["taken_over"], row["finished"])


class PgQueue(SettlesJobs):
    """The WorkQueue of a PostgreSQL index."""

    def __init__(self, db):
        self.db = db

    def enqueue(self, paths: list[str], *, delay: float = 0.0,
                seen: dict[str, tuple[int, int] | None] | None = None, now: float | None = None) -> int:
        seen = seen or {}
        if not paths:
            return 0
        rows = []
        for p in paths:
            ident = seen.get(p)
            rows.append((os.path.abspath(p), ident[0] if ident else None, ident[1] if ident else None))
        now_sql, now_params = _now(now)
        with self.db.atomic():
            count = self.db.execute_count(
                "INSERT INTO jobs AS j (path, state, queued, not_before, seen_size, seen_mtime_ns) "
                f"SELECT p.path, 'queued', t.now, t.now + %s, p.size, p.mtime FROM (SELECT {now_sql} AS now) t, "
                "unnest(%s::text[], %s::bigint[], %s::bigint[]) AS p(path, size, mtime) "
                "ON CONFLICT (path) DO UPDATE SET "
                "  again = CASE WHEN j.state = 'claimed' THEN 1 ELSE j.again END, "
                "  tries = CASE WHEN j.state IN ('done', 'set_aside') THEN 0 ELSE j.tries END, "
                "  queued = CASE WHEN j.state IN ('done', 'set_aside') THEN excluded.queued ELSE j.queued END, "
                "  not_before = CASE WHEN j.state = 'claimed' THEN j.not_before "
                "                    ELSE greatest(j.not_before, excluded.not_before) END, "
                "  seen_size = CASE WHEN j.state = 'claimed' THEN j.seen_size ELSE excluded.seen_size END, "
                "  seen_mtime_ns = CASE WHEN j.state = 'claimed' THEN j.seen_mtime_ns ELSE excluded.seen_mtime_ns END, "
                "  reason = CASE WHEN j.state = 'claimed' THEN j.reason ELSE '' END, "
                "  state = CASE WHEN j.state = 'claimed' THEN 'claimed' ELSE 'queued' END",
                (float(delay), *now_params, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]))
            self.db.execute(f"NOTIFY {CHANNEL}")
        return count

    def claim(self, worker: str, lease: float, *, now: float | None = None) -> Job | None:
        now_sql, now_params = _now(now)
        row = self.db.one(
            f"WITH t AS (SELECT {now_sql} AS now), "
            "next AS (SELECT path FROM jobs, t WHERE state = 'queued' AND not_before <= t.now "
            "         ORDER BY not_before, queued LIMIT 1 FOR UPDATE OF jobs SKIP LOCKED) "
            "UPDATE jobs SET state = 'claimed', worker = %s, claimed = t.now, lease_until = t.now + %s "
            "FROM next, t WHERE jobs.path = next.path RETURNING jobs.*",
            (*now_params, worker, float(lease)))
        return _row_to_job(row) if row else None

    def claim_path(self, path: str, worker: str, lease: float) -> bool:
        path = os.path.abspath(path)
        with self.db.atomic():
            # the row may not exist yet: insert it unclaimed, then lock it like any other
            self.db.execute(f"INSERT INTO jobs (path, state, queued, not_before) VALUES (%s, 'done', {NOW}, 0) "
                            "ON CONFLICT (path) DO NOTHING", (path,))
            row = self.db.one(f"SELECT state, worker, lease_until, {NOW} AS now FROM jobs WHERE path = %s FOR UPDATE",
                              (path,))
            if row["state"] == "claimed" and row["worker"] != worker and (row["lease_until"] or 0) > row["now"]:
                return False
            # work that was waiting for the file (queued, or held by a worker that died) is queued
            # again when this claim finishes: the claimer's own write does not stand for it
            waiting = row["state"] == "queued" or (row["state"] == "claimed" and row["worker"] != worker)
            self.db.execute(f"UPDATE jobs SET state = 'claimed', worker = %s, claimed = {NOW}, "
                            f"lease_until = {NOW} + %s, again = CASE WHEN %s THEN 1 ELSE again END "
                            "WHERE path = %s", (worker, float(lease), waiting, path))
            return True

    def finish(self, path: str, ok: bool = True, reason: str = "", *, requeue_delay: float = 0.0) -> None:
        with self.db.atomic():
            again = self.db.one(
                f"UPDATE jobs SET worker = '', lease_until = NULL, finished = {NOW}, taken_over = NULL, "
                "  state = CASE WHEN again = 1 THEN 'queued' WHEN %(ok)s THEN 'done' ELSE 'set_aside' END, "
                "  reason = CASE WHEN again = 1 THEN '' ELSE %(reason)s END, "
                "  tries = CASE WHEN again = 1 THEN 0 WHEN %(ok)s THEN tries ELSE tries + 1 END, "
                f"  queued = CASE WHEN again = 1 THEN {NOW} ELSE queued END, "
                f"  not_before = CASE WHEN again = 1 THEN {NOW} + %(delay)s ELSE not_before END, "
                "  seen_size = CASE WHEN again = 1 THEN NULL ELSE seen_size END, "
                "  again = 0 WHERE path = %(path)s RETURNING state",
                {"ok": bool(ok), "reason": reason, "delay": float(requeue_delay), "path": os.path.abspath(path)})
            if again and again["state"] == "queued":
                self.db.execute(f"NOTIFY {CHANNEL}")

    def retry(self, path: str, delay: float, reason: str = "", *, count_try: bool = True,
                  seen: tuple[int, int] | None = None, asked_now: bool = False) -> None:
        sets = ""
        params: dict = {"delay": float(delay), "reason": reason, "try": 1 if count_try else 0,
                        "path": os.path.abspath(path)}
        if asked_now:
            sets += f", queued = {NOW}"
        if seen is not None:
            sets += ", seen_size = %(size)s, seen_mtime_ns = %(mtime)s"
            params.update(size=seen[0], mtime=seen[1])
        with self.db.atomic():
            self.db.execute(
                "UPDATE jobs SET state = 'queued', worker = '', lease_until = NULL, again = 0, "
                f"not_before = {NOW} + %(delay)s, reason = %(reason)s, tries = tries + %(try)s{sets} "
                "WHERE path = %(path)s", params)
            if delay <= 0:
                self.db.execute(f"NOTIFY {CHANNEL}")

    def renew_leases(self, worker: str, lease: float) -> None:
        self.db.execute(f"UPDATE jobs SET lease_until = {NOW} + %s WHERE state = 'claimed' AND worker = %s",
                        (float(lease), worker))

    def release_claims(self, worker: str) -> int:
        with self.db.atomic():
            count = self.db.execute_count(
                "UPDATE jobs SET state = 'queued', worker = '', lease_until = NULL, again = 0 "
                "WHERE state = 'claimed' AND worker = %s", (worker,))
            if count:
                self.db.execute(f"NOTIFY {CHANNEL}")
        return count

    def take_over_claims(self, dead_workers: list[str]) -> int:
        with self.db.atomic():
            count = self.db.execute_count(
                "UPDATE jobs SET state = 'queued', taken_over = claimed, worker = '', lease_until = NULL, "
                f"not_before = 0 WHERE state = 'claimed' AND (lease_until < {NOW} OR worker = ANY(%s))",
                (list(dead_workers),))
            if dead_workers:
                self.db.execute("DELETE FROM workers WHERE id = ANY(%s)", (list(dead_workers),))
            if count:
                self.db.execute(f"NOTIFY {CHANNEL}")
        return count

    def holder(self, path: str) -> str:
        return self.db.scalar(f"SELECT worker FROM jobs WHERE path = %s AND state = 'claimed' AND lease_until > {NOW}",
                              (os.path.abspath(path),)) or ""

    def ahead_of(self, path: str) -> int:
        path = os.path.abspath(path)
        return int(self.db.scalar(
            "SELECT count(*) FROM jobs, (SELECT queued AS q FROM jobs WHERE path = %s) AS me "
            "WHERE jobs.path != %s AND jobs.state IN ('queued', 'claimed') AND jobs.tries = 0 "
            "AND jobs.queued <= me.q", (path, path)))

    def counts(self) -> dict[str, int]:
        return {r["state"]: r["n"] for r in self.db.execute("SELECT state, count(*) AS n FROM jobs GROUP BY state")}

    def jobs_in(self, state: str, limit: int = 20) -> list[Job]:
        rows = self.db.execute("SELECT * FROM jobs WHERE state = %s "
                               "ORDER BY finished DESC NULLS LAST, queued DESC LIMIT %s", (state, limit))
        return [_row_to_job(r) for r in rows]

    def recent_errors(self, limit: int = 10) -> list[Job]:
        rows = self.db.execute("SELECT * FROM jobs WHERE reason != '' AND (tries > 0 OR state = 'set_aside') "
                               "ORDER BY coalesce(finished, queued) DESC LIMIT %s", (limit,))
        return [_row_to_job(r) for r in rows]

    def finished_since(self, since: float) -> int:
        return int(self.db.scalar("SELECT count(*) FROM jobs WHERE state = 'done' AND finished >= %s", (since,)))

    def forget_done(self, older_than: float) -> int:
        return self.db.execute_count(f"DELETE FROM jobs WHERE state = 'done' AND finished < {NOW} - %s",
                                     (float(older_than),))

    # -- workers ------------------------------------------------------------------------
    def register_worker(self, worker: str, kind: str, host: str, pid: int, info: dict | None = None) -> None:
        self.db.execute(
            "INSERT INTO workers (id, kind, host, pid, started, heartbeat, info) "
            f"VALUES (%s, %s, %s, %s, {NOW}, {NOW}, %s) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, "
            "host = excluded.host, pid = excluded.pid, started = excluded.started, "
            "heartbeat = excluded.heartbeat, info = excluded.info",
            (worker, kind, host, pid, json.dumps(info or {})))

    def heartbeat(self, worker: str, info: dict | None = None) -> None:
        if info is None:
            self.db.execute(f"UPDATE workers SET heartbeat = {NOW} WHERE id = %s", (worker,))
        else:
            self.db.execute(f"UPDATE workers SET heartbeat = {NOW}, info = %s WHERE id = %s",
                            (json.dumps(info, ensure_ascii=False), worker))

    def unregister_worker(self, worker: str) -> None:
        self.db.execute("DELETE FROM workers WHERE id = %s", (worker,))

    def workers(self) -> list[Worker]:
        rows = self.db.execute("SELECT * FROM workers ORDER BY started")
        return [Worker(r["id"], r["kind"], r["host"], r["pid"], r["started"], r["heartbeat"], json.loads(r["info"]))
                for r in rows]


class WorkListener:
    """A thread on its own connection that LISTENs for new work and calls `wake` on each NOTIFY.

    A lost connection is opened again after a pause, and `wake` is called then too: work may
    have been queued while this machine could not hear it.
    """

    def __init__(self, url: str, wake, *, retry_seconds: float = 2.0):
        self.url = url
        self.wake = wake
        self.retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._conn: psycopg.Connection | None = None
        self.thread = threading.Thread(target=self._run, name="sidecar-listen", daemon=True)

    def start(self) -> "WorkListener":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.wake()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake()
            except psycopg.Error:
                self._stop.wait(self.retry_seconds)
