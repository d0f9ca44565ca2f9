"""The shared index on PostgreSQL beside SQLite: queue claims per second with 1, 4 and 16 claimers,
and search latency (p50, p99) over the same generated library in both, three ways: the store's
search in this process, `/sfx/search` over UDP to a `daw-bridge serve` process (request sent to
/sfx/done received), and the `sidecar search` command (a whole process per search). Each query is
asked of SQLite and then of PostgreSQL, so both see the same load.

Run by hand against a server of your own (it creates and drops databases there; without
SIDECAR_BENCH_POSTGRES, the tests' server or a throwaway cluster):

    SIDECAR_BENCH_POSTGRES=postgresql://127.0.0.1:5432/test .venv/bin/python benchmarks/bench_postgres.py [FILES ...] [--in-process]

FILES: one library size or several (100000 1000000), each filled, copied and measured in turn.
--in-process measures only the store's search in this process (no queue, bridge or command).
Every figure is printed with the machine's load averages over 1, 5 and 15 minutes (as `uptime`).

A claim is what a worker does per file: claim the next job (SKIP LOCKED), then finish it.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
from pythonosc.osc_message import OscMessage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_search_backends import library, query, synonyms  # noqa: E402  (the comparison test's generators)

from daw_bridge import messages  # noqa: E402
from sidecar.index.copy import copy_index  # noqa: E402
from sidecar.index.interfaces import IndexedFile  # noqa: E402
from sidecar.index.store import open_store  # noqa: E402

BIN = Path(sys.executable).parent


def bench_server() -> tuple[str, callable]:
    """The server to measure on, and how to let it go: SIDECAR_BENCH_POSTGRES, else the one the
    tests use (SIDECAR_TEST_POSTGRES, or a throwaway cluster of Debian's binaries)."""
    url = os.environ.get("SIDECAR_BENCH_POSTGRES")
    if url:
        return url, lambda: None
    from pg_support import NoPostgres, Server
    try:
        server = Server.find()
    except NoPostgres as exc:
        sys.exit(f"no PostgreSQL to measure: {exc}")
    return server.url, server.close


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


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    p99 = times[max(0, int(len(times) * 0.99) - 1)]
    return f"p50 {statistics.median(times) * 1000:8.2f} ms   p99 {p99 * 1000:8.2f} ms"


def in_process(stores: dict, queries: list[str], limit: int = 20) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in stores}
    for q in queries:
        for name, store in stores.items():
            began = time.perf_counter()
            store.files.search(q, limit=limit, expand=synonyms)
            times[name].append(time.perf_counter() - began)
    return times


class Bridge:
    """`daw-bridge serve` on an index, on a free port."""

    def __init__(self, index: str, lib: str):
        env = {**os.environ, "SIDECAR_DB": index}
        env.pop("SIDECAR_CONFIG", None)
        self.proc = subprocess.Popen([str(BIN / "daw-bridge"), "serve", "--port", "0", "--root", lib], env=env,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        port = int(line.split("listening on ")[1].split(";")[0].rsplit(":", 1)[1])
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", port))
        self.sock.settimeout(60)
        self.n = 0

    def search(self, q: str, limit: int = 20) -> None:
        self.n += 1
        self.sock.send(messages.message("/sfx/search", self.n, q, limit))
        while True:
            msg = OscMessage(self.sock.recv(65536))
            if msg.params and msg.params[0] == self.n and msg.address in ("/sfx/done", "/sfx/error"):
                return

    def stop(self) -> None:
        self.sock.close()
        self.proc.terminate()
        self.proc.wait(10)


def over_osc(indexes: dict[str, str], lib: str, queries: list[str]) -> dict[str, list[float]]:
    bridges = {name: Bridge(index, lib) for name, index in indexes.items()}
    try:
        for bridge in bridges.values():            # the first search loads the vocabulary
            bridge.search("door")
        times: dict[str, list[float]] = {name: [] for name in bridges}
        for q in queries:
            for name, bridge in bridges.items():
                began = time.perf_counter()
                bridge.search(q)
                times[name].append(time.perf_counter() - began)
        return times
    finally:
        for bridge in bridges.values():
            bridge.stop()


def by_command(indexes: dict[str, str], queries: list[str]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in indexes}
    for q in queries:
        for name, index in indexes.items():
            env = {**os.environ, "SIDECAR_DB": index}
            env.pop("SIDECAR_CONFIG", None)
            began = time.perf_counter()
            subprocess.run([str(BIN / "sidecar"), "search", "--json", "-n", "20", "--", q], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - began)
    return times


def main() -> None:
    # stopped with SIGTERM, still drop the databases made on the server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    server, let_go = bench_server()
    try:
        measure(server)
    finally:
        let_go()


def measure(server: str) -> None:
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--")] or [10_000]
    only_in_process = "--in-process" in sys.argv
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="bench-cache-"))

    if not only_in_process:
        url, drop = scratch_database(server)
        try:
            print(f"queue: claim + finish per second ({load()})")
            for claimers in (1, 4, 16):
                print(f"  {claimers:2d} claimers: {claims_per_second(url, claimers, 2000):7.0f} jobs/s   ({load()})")
        finally:
            drop()
    for files in sizes:
        search_both(server, files, only_in_process)


def search_both(server: str, files: int, only_in_process: bool) -> None:
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
            print(f"search over {files:,} files, top 20 (SQLite filled in {time.perf_counter() - began:.1f} s, "
                  f"{load()})", flush=True)
            began = time.perf_counter()
            copy_index(lite_path, url)
            print(f"  copied to PostgreSQL in {time.perf_counter() - began:.1f} s ({load()})", flush=True)
            pg = open_store(url)
            sizes = {r["t"]: r["mb"] for r in pg.db.execute(
                "SELECT t, pg_total_relation_size(t::regclass) / 1e6 AS mb FROM unnest(%s::text[]) AS t "
                "WHERE to_regclass(t) IS NOT NULL", (["files", "postings"],))}
            print("  PostgreSQL on disk: " + ", ".join(f"{t} {mb:.0f} MB" for t, mb in sizes.items()))
            queries = [query(random.Random(k), lib) for k in range(300)]
            print(f"  before searching: {load()}", flush=True)
            indexes = {"SQLite": lite_path, "PostgreSQL": url}
            ways = [("in process", lambda: in_process({"SQLite": lite, "PostgreSQL": pg}, queries))]
            if not only_in_process:
                ways += [("/sfx/search", lambda: over_osc(indexes, tmp, queries)),
                         ("sidecar search", lambda: by_command(indexes, queries[:40]))]
            for label, measure_way in ways:
                times = measure_way()
                for name, found in times.items():
                    print(f"  {label:<15} {name:<10} {percentiles(found)}   ({len(found)} queries, {load()})",
                          flush=True)
            pg.close()
            lite.close()
        finally:
            drop()

if __name__ == "__main__":
    main()
