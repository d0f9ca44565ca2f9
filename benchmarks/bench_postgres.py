"""The shared index on PostgreSQL beside SQLite: queue claims per second with 1, 4 and 16 claimers,
and search latency (p50, p99) over the same generated library in both.

Run by hand against a server of your own (it creates and drops databases there):

    SIDECAR_BENCH_POSTGRES=postgresql://127.0.0.1:5432/test .venv/bin/python benchmarks/bench_postgres.py [FILES]

A claim is what a worker does per file: claim the next job (SKIP LOCKED), then finish it.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_search_backends import library, query, synonyms  # noqa: E402  (the comparison test's generators)

from sidecar.index.copy import copy_index  # noqa: E402
from sidecar.index.interfaces import IndexedFile  # noqa: E402
from sidecar.index.store import open_store  # noqa: E402


def scratch_database(server: str) -> tuple[str, callable]:
    name = "sidecar_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return server.rsplit("/", 1)[0] + "/" + name, drop


def claims_per_second(url: str, claimers: int, jobs: int) -> float:
    stores = [open_store(url) for _ in range(claimers)]
    stores[0].queue.enqueue([f"/lib/{claimers}/{k:06d}.wav" for k in range(jobs)])
    start = threading.Barrier(claimers + 1)

    def work(store, name):
        start.wait()
        while (job := store.queue.claim(name, lease=60)) is not None:
            store.queue.finish(job.path, True)

    threads = [threading.Thread(target=work, args=(s, f"w{k}")) for k, s in enumerate(stores)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    assert stores[0].queue.counts().get("done", 0) >= jobs
    for s in stores:
        s.close()
    return jobs / seconds


def latencies(store, queries: list[str], limit: int = 20) -> tuple[float, float]:
    times = []
    for q in queries:
        began = time.perf_counter()
        store.files.search(q, limit=limit, expand=synonyms)
        times.append(time.perf_counter() - began)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000


def main() -> None:
    server = os.environ.get("SIDECAR_BENCH_POSTGRES") or os.environ.get("SIDECAR_TEST_POSTGRES")
    if not server:
        sys.exit("set SIDECAR_BENCH_POSTGRES to a PostgreSQL URL whose role may create databases")
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="bench-cache-"))

    url, drop = scratch_database(server)
    try:
        print("queue: claim + finish per second")
        for claimers in (1, 4, 16):
            print(f"  {claimers:2d} claimers: {claims_per_second(url, claimers, 2000):7.0f} jobs/s")
    finally:
        drop()

    url, drop = scratch_database(server)
    with tempfile.TemporaryDirectory() as tmp:
        lite_path = os.path.join(tmp, "index.db")
        try:
            lite = open_store(lite_path)
            rng = random.Random(21)
            lib = library(rng, files)
            began = time.perf_counter()
            with lite.atomic():
                for path, rec in lib:
                    lite.files.upsert(IndexedFile(path, 100, 1, "fp-" + path, "wav", rec))
            print(f"search over {files} files (SQLite filled in {time.perf_counter() - began:.1f} s)")
            began = time.perf_counter()
            copy_index(lite_path, url)
            print(f"  copied to PostgreSQL in {time.perf_counter() - began:.1f} s")
            pg = open_store(url)
            queries = [query(random.Random(k), lib) for k in range(300)]
            for name, store in (("SQLite", lite), ("PostgreSQL", pg)):
                p50, p99 = latencies(store, queries)
                print(f"  {name:<10} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
            pg.close()
            lite.close()
        finally:
            drop()


if __name__ == "__main__":
    main()
