"""Workers sharing one PostgreSQL queue: files per second with 1, 2 and 4 worker processes, and the
queue's and index's own cost per file, which says how the work scales to N machines.

Each worker is a process with its own connection pool, doing per file what a daemon's worker
does with the shared index: claim the next job (SKIP LOCKED), classify, write the file's row
(upsert: its words, the word tally, the labels), finish the job. The engine is
`FixedCostStandInEngine`, defined here and used by nothing else: it burns a fixed CPU time per
file and returns fixed labels, so the figures measure the sharing, not a model. Reading and
writing the audio files is left out (it happens on each machine, beside the share).

Run by hand against a server of your own (it creates and drops databases there; without
SIDECAR_BENCH_POSTGRES, the tests' server or a throwaway cluster):

    SIDECAR_BENCH_POSTGRES=postgresql://127.0.0.1:5432/test .venv/bin/python benchmarks/bench_pg_workers.py \
        [--files 600] [--cost-ms 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_postgres import bench_server, scratch_database  # noqa: E402
from sidecar.index.interfaces import IndexedFile  # noqa: E402
from sidecar.index.store import open_store  # noqa: E402
from sidecar.metadata.record import Label, Provenance, Record  # noqa: E402


class FixedCostStandInEngine:
    """Benchmark only: costs `seconds` of this process's CPU per file, names the same sounds."""

    name = "stand-in"

    def __init__(self, seconds: float):
        self.seconds = seconds

    def classify(self, path: str) -> list[Label]:
        until = time.process_time() + self.seconds
        x = 0
        while time.process_time() < until:
            x += sum(range(200))
        return [Label("Door", 0.8, "/m/02dgv"), Label("Wood", 0.4, "/m/083vt")]


def work(url: str, name: str, cost: float, start, out) -> None:
    store = open_store(url)
    engine = FixedCostStandInEngine(cost)
    start.wait()
    began_cpu, done = time.process_time(), 0
    while (job := store.queue.claim(name, lease=60)) is not None:
        labels = engine.classify(job.path)
        rec = Record(Description=f"Wooden door {done}", Keywords=["door", "wood"], CatID="DOORWood",
                     provenance=Provenance(engine=engine.name, labels=labels))
        store.files.upsert(IndexedFile(job.path, 1000, 1, f"fp-{job.path}", "wav", rec))
        store.queue.finish(job.path, True)
        done += 1
    out.put((done, time.process_time() - began_cpu))
    store.close()


def run(server: str, workers: int, files: int, cost: float) -> tuple[float, float]:
    """(files per second, worker CPU seconds per file) over a fresh database."""
    url, drop = scratch_database(server)
    try:
        store = open_store(url)
        store.queue.enqueue([f"/lib/{k // 100:03d}/take {k:06d}.wav" for k in range(files)])
        ctx = multiprocessing.get_context("spawn")
        start, out = ctx.Barrier(workers + 1), ctx.Queue()
        procs = [ctx.Process(target=work, args=(url, f"w{k}", cost, start, out)) for k in range(workers)]
        for p in procs:
            p.start()
        start.wait()
        began = time.perf_counter()
        results = [out.get() for _ in procs]
        seconds = time.perf_counter() - began
        for p in procs:
            p.join()
        assert sum(n for n, _ in results) == files and store.files.count() == files
        assert store.queue.counts() == {"done": files}
        store.close()
        return files / seconds, sum(c for _, c in results) / files
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--cost-ms", type=float, default=20.0)
    args = parser.parse_args()
    server, let_go = bench_server()
    try:
        measure(server, args)
    finally:
        let_go()


def measure(server: str, args) -> None:
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="bench-cache-"))
    cost = args.cost_ms / 1000
    print(f"machine: {os.cpu_count()} cores; stand-in engine {args.cost_ms:g} ms CPU per file, {args.files} files")
    print(f"  load before: {os.getloadavg()[0]:.1f}")
    for workers in (1, 2, 4):
        rate, cpu = run(server, workers, args.files, cost)
        print(f"  {workers} worker(s): {rate:7.1f} files/s   (ideal {workers / cost:6.1f} with no overhead, "
              f"{min(workers, os.cpu_count()) / cost:6.1f} on this machine's cores); "
              f"load {os.getloadavg()[0]:.1f}")
    print("queue and index alone (engine cost 0): the part every file pays to the shared database")
    for workers in (1, 4):
        rate, cpu = run(server, workers, args.files, 0.0)
        print(f"  {workers} worker(s): {rate:7.1f} files/s = {1000 / rate * workers:5.2f} ms per file per worker "
              f"({cpu * 1000:4.2f} ms of it the worker's own CPU); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
