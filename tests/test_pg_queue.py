"""The queue on PostgreSQL with several claimers at once: SKIP LOCKED, one claim per job, NOTIFY."""

from __future__ import annotations

import threading

import psycopg

from sidecar.index.postgres import PgStore


def test_many_claimers_take_every_job_exactly_once(pg_url):
    stores = [PgStore.open(pg_url, max_connections=2) for _ in range(6)]
    paths = [f"/lib/f{i:03d}.wav" for i in range(240)]
    stores[0].queue.enqueue(paths)
    claimed: list[list[str]] = [[] for _ in stores]

    def work(k: int) -> None:
        while True:
            job = stores[k].queue.claim(f"w{k}", lease=60)
            if job is None:
                return
            claimed[k].append(job.path)
            stores[k].queue.finish(job.path, True)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    every = [p for mine in claimed for p in mine]
    assert sorted(every) == paths                   # each once, none lost
    assert sum(1 for mine in claimed if mine) > 1   # the work was shared
    assert stores[0].queue.counts() == {"done": len(paths)}
    for s in stores:
        s.close()


def test_a_claimer_skips_a_row_another_is_locking_instead_of_waiting(pg_url):
    store = PgStore.open(pg_url)
    store.queue.enqueue(["/lib/a.wav"], now=1.0)
    store.queue.enqueue(["/lib/b.wav"], now=2.0)
    with psycopg.connect(pg_url) as other:           # another machine in the middle of its claim
        other.execute("SELECT path FROM jobs WHERE path = '/lib/a.wav' FOR UPDATE")
        with store.db.atomic():
            store.db.execute("SET LOCAL lock_timeout = '5s'")    # waiting would fail, not hang
            job = store.queue.claim("w", lease=60)
        assert job.path == "/lib/b.wav"
        other.rollback()
    assert store.queue.claim("w", lease=60).path == "/lib/a.wav"
    store.close()


def test_new_work_wakes_an_idle_worker_on_another_connection(pg_url):
    idle, busy = PgStore.open(pg_url), PgStore.open(pg_url)
    woken = threading.Event()
    listening = threading.Event()
    calls = []

    def wake():
        calls.append(1)
        (woken if len(calls) > 1 else listening).set()   # the first call says it listens

    listener = idle.listen_for_work(wake)
    try:
        assert listening.wait(30)
        busy.queue.enqueue(["/lib/new.wav"])
        assert woken.wait(30)
        assert idle.queue.claim("w", lease=60).path == "/lib/new.wav"
    finally:
        listener.stop()
        idle.close()
        busy.close()


def test_time_is_the_databases_so_machine_clocks_do_not_decide_leases(pg_url):
    store = PgStore.open(pg_url)
    store.queue.enqueue(["/lib/a.wav"])
    job = store.queue.claim("w", lease=60)
    server_now = store.db.scalar("SELECT extract(epoch from clock_timestamp())")
    assert abs(job.queued - float(server_now)) < 60
    lease_until = store.db.scalar("SELECT lease_until FROM jobs")
    assert 0 < lease_until - float(server_now) <= 60
    store.close()
