"""The daemon on this machine. Run by hand: `.venv/bin/python benchmarks/bench_daemon.py`.

Prints the figures issue "the always-on service" names:
  - catch-up at start over 100,000 unchanged indexed files, beside `find -printf` listing the same
    tree in the same run (target: within 3 times find)
  - idle CPU and resident memory while watching those 100,000 files (target: < 1% of a core, < 150 MB;
    at 1,000,000 files < 300 MB)
  - `sidecar status` over that index while the daemon watches (target: under 1 s)
  - time from a file appearing to its tags being written, p50 and p99, default engine
  - sustained files per second while 10,000 files arrive at once

Options: --files N (default 100000; 1000000 for the large-library figures, about 5 GB of disk),
--arrive N (default 10000), --idle SECONDS (default 30), --library DIR (make the large library
there once and use it again: it takes minutes to make).
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure  # noqa: E402

from sidecar.index.interfaces import IndexedFile, StoredEmbedding  # noqa: E402
from sidecar.index.store import open_store  # noqa: E402
from sidecar.metadata.record import Record  # noqa: E402
from sidecar.pipeline.rules_upgrade import note_rules_applied  # noqa: E402
from sidecar.vocabulary.vocabulary import RULES_VERSION  # noqa: E402
from sidecar.similarity.embedder import MODEL  # noqa: E402

SIDECAR = str(Path(sys.executable).with_name("sidecar"))
TICKS = os.sysconf("SC_CLK_TCK")
SILENT_VECTOR = np.zeros(512, "<f4").tobytes()


class Daemon:
    def __init__(self, tmp: Path, root: Path, db: Path, settings: str):
        self.log = tmp / f"daemon-{time.monotonic_ns()}.log"
        self.config = tmp / "bench.toml"
        self.config.write_text(f"[daemon]\n{settings}\n[[roots]]\npath = {json.dumps(str(root))}\n")
        self.db = db

    def start(self) -> float:
        self.started = time.time()
        self._out = open(self.log, "w")
        self.proc = subprocess.Popen([SIDECAR, "daemon", "--config", str(self.config), "--no-osc"],
                                     stderr=self._out, stdout=subprocess.DEVNULL,
                                     env={**os.environ, "SIDECAR_DB": str(self.db)})
        return self.started

    def events(self, name: str) -> list[dict]:
        """The log's events of this name. The log is read on from where the last call stopped:
        reading it whole every 50 ms took half a core from the daemon by 10,000 files."""
        if not hasattr(self, "_seen"):
            self._seen, self._offset, self._rest = [], 0, b""
        with open(self.log, "rb") as f:
            f.seek(self._offset)
            data = self._rest + f.read()
            self._offset = f.tell()
        *lines, self._rest = data.split(b"\n")
        for line in lines:
            try:
                self._seen.append(json.loads(line))
            except ValueError:
                continue
        return [ev for ev in self._seen if ev.get("event") == name]

    def wait(self, name: str, count: int = 1, timeout: float = 3600) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.events(name)
            if len(got) >= count:
                return got
            if self.proc.poll() is not None:
                raise SystemExit(f"daemon exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        raise SystemExit(f"timed out waiting for {count} {name}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self._out.close()


def epoch(stamp: str) -> float:
    base, frac = stamp.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int(frac) / 1000


def make_library(root: Path, db: Path, count: int) -> None:
    """count tiny WAVs in folders of 1,000, every one indexed as unchanged."""
    started = time.perf_counter()
    payload = _wav_bytes(np.zeros(480, dtype=np.float32))
    store = open_store(db)
    with store.atomic():
        for i in range(count):
            folder = root / f"{i // 1000:03d}"
            if i % 1000 == 0:
                folder.mkdir(parents=True)
            path = folder / f"sound {i:06d}.wav"
            path.write_bytes(payload)
            st = path.stat()
            store.files.upsert(IndexedFile(str(path), st.st_size, st.st_mtime_ns, f"pcm:{i}", "wav", Record()))
            # with its sounds-like vector (silence: zeros), or the daemon would start by hearing it
            store.vectors.put(str(path), StoredEmbedding(0, MODEL, f"pcm:{i}", SILENT_VECTOR, b"", b"", 512))
    note_rules_applied(store, RULES_VERSION)    # as a scan by this version leaves it: nothing to describe again
    store.close()
    print(f"  (made and indexed {count:,} files in {time.perf_counter() - started:.0f} s)")


def _indexed(db: Path) -> int:
    store = open_store(db)
    try:
        return store.files.count()
    finally:
        store.close()


def _wav_bytes(x: np.ndarray, rate: int = 48000) -> bytes:
    import io
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def bench_catch_up_and_idle(tmp: Path, count: int, idle_seconds: float, library: Path | None = None) -> None:
    root, db = (library or tmp) / "big", (library or tmp) / "big.db"
    if library is not None and db.exists() and _indexed(db) == count:
        print(f"  (the library made earlier in {library}: {count:,} files)")
    else:
        if library is not None:
            shutil.rmtree(root, ignore_errors=True)
            db.unlink(missing_ok=True)
        make_library(root, db, count)
    subprocess.run(["sync"])
    # warm the cache the same way for both listings, then time them side by side
    subprocess.run(["find", str(root), "-type", "f", "-printf", "%s %T@ %p\n"], stdout=subprocess.DEVNULL)
    finds, catchups, insides = [], [], []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(["find", str(root), "-type", "f", "-printf", "%s %T@ %p\n"], stdout=subprocess.DEVNULL,
                       check=True)
        finds.append(time.perf_counter() - t)
        d = Daemon(tmp, root, db, "stable_seconds = 5")
        t = time.perf_counter()
        d.start()
        ev = d.wait("caught_up")[0]
        catchups.append(time.perf_counter() - t)
        insides.append(ev["seconds"])
        assert ev["listed"] == count and ev["changed"] == 0, ev
        if _ < 2:
            d.stop()
    find_s, catch_s, inside_s = min(finds), min(catchups), min(insides)
    print(f"catch-up at start, {count:,} unchanged files (best of 3):")
    print(f"  find -printf '%s %T@ %p':       {find_s:6.2f} s")
    print(f"  sidecar daemon, start to caught_up: {catch_s:6.2f} s = {catch_s / find_s:.1f}x find (start-up included)")
    print(f"  the catch-up itself (its log):  {inside_s:6.2f} s = {inside_s / find_s:.1f}x find")
    figure(f"daemon catch-up, {count:,} unchanged files, start to caught_up", f"{catch_s:.2f} s",
           f"3x find -printf {find_s:.2f} s = {3 * find_s:.2f} s", catch_s <= 3 * find_s)
    figure(f"daemon catch-up, {count:,} unchanged files, as its log times it", f"{inside_s:.2f} s",
           f"3x find -printf {find_s:.2f} s = {3 * find_s:.2f} s", inside_s <= 3 * find_s)
    # idle: the last daemon keeps watching
    time.sleep(5)
    cpu0, t0 = d.cpu_seconds(), time.monotonic()
    rss = []
    while time.monotonic() - t0 < idle_seconds:
        rss.append(d.rss_mb())
        time.sleep(1)
    cpu = (d.cpu_seconds() - cpu0) / (time.monotonic() - t0)
    print(f"idle, watching {count:,} files ({d.events('watching')[0]['observer']} observer) for "
          f"{idle_seconds:.0f} s: {100 * cpu:.2f}% of a core, resident memory {max(rss):.0f} MB")
    memory_bound = 150 if count <= 100_000 else 300
    figure(f"daemon idle CPU, watching {count:,} files", f"{100 * cpu:.2f}% of a core", "1%", cpu < 0.01)
    figure(f"daemon resident memory, watching {count:,} files", f"{max(rss):.0f} MB", f"{memory_bound} MB",
           max(rss) < memory_bound)
    statuses = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([SIDECAR, "status", "--json"], env={**os.environ, "SIDECAR_DB": str(db)},
                       stdout=subprocess.DEVNULL, check=True)
        statuses.append(time.perf_counter() - t)
    print(f"`sidecar status` over {count:,} files while the daemon watches: best {min(statuses):.2f} s, "
          f"worst {max(statuses):.2f} s (3 runs)")
    figure(f"`sidecar status`, {count:,} files, worst of 3", f"{max(statuses):.2f} s", "1 s", max(statuses) < 1)
    d.stop()


def bench_latency(tmp: Path, files: int = 200, seconds: float = 2.0, stable: float = 1.0) -> None:
    root, db = tmp / "latency", tmp / "latency.db"
    root.mkdir()
    d = Daemon(tmp, root, db, f"stable_seconds = {stable}")
    d.start()
    d.wait("caught_up")
    # warm the engine with one file, then drop files one by one
    rng = np.random.default_rng(1)
    rate = 48000
    t = np.arange(int(rate * seconds)) / rate
    src = tmp / "latency-src"
    src.mkdir()
    for i in range(files + 1):
        x = 0.3 * np.sin(2 * np.pi * (150 + 7 * i) * t) + 0.05 * rng.standard_normal(len(t))
        sf.write(str(src / f"l{i:04d}.wav"), x.astype(np.float32), rate, subtype="PCM_24")
    shutil.copy(src / "l0000.wav", root / "warm.wav")
    d.wait("classified")
    appeared = {}
    for i in range(1, files + 1):
        name = f"l{i:04d}.wav"
        tmp_name = root / f".{name}.partial"
        shutil.copy(src / name, tmp_name)
        os.rename(tmp_name, root / name)       # appears whole, as a finished copy does
        appeared[str(root / name)] = time.time()
        time.sleep(0.15)
    got = d.wait("classified", files + 1)
    lat = sorted(epoch(e["time"]) - appeared[e["path"]] for e in got if e["path"] in appeared)
    d.stop()
    p50, p99 = statistics.median(lat), lat[int(0.99 * (len(lat) - 1))]
    print(f"appearing to tagged ({files} files of {seconds:g} s, 48 kHz/24-bit, default engine, "
          f"stable_seconds = {stable:g}): p50 {p50:.2f} s, p99 {p99:.2f} s "
          f"(of which {stable:g} s is the stability wait)")


def bench_arrival(tmp: Path, count: int, seconds: float = 1.0) -> None:
    root, db = tmp / "arrive", tmp / "arrive.db"
    root.mkdir()
    d = Daemon(tmp, root, db, "stable_seconds = 1")
    d.start()
    d.wait("caught_up")
    rate = 48000
    t = np.arange(int(rate * seconds)) / rate
    staging = tmp / "staging"
    for i in range(count):
        folder = staging / f"{i // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        x = 0.3 * np.sin(2 * np.pi * (100 + (i % 3000)) * t)
        sf.write(str(folder / f"a{i:05d}.wav"), x.astype(np.float32), rate, subtype="PCM_16")
    started = time.time()
    for folder in sorted(staging.iterdir()):
        os.rename(folder, root / folder.name)   # 10,000 files arrive within a moment
    got = d.wait("classified", count)
    last = max(epoch(e["time"]) for e in got)
    d.stop()
    elapsed = last - started
    print(f"{count:,} files of {seconds:g} s arriving at once: all tagged in {elapsed:.0f} s = "
          f"{count / elapsed:.0f} files/s sustained (default engine, {os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--arrive", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--only", choices=("catch-up", "latency", "arrival"), help="Run one part.")
    parser.add_argument("--library", type=Path, help="Keep the catch-up's generated library in this folder "
                        "and use it again when it holds --files files (the daemon's own files, its "
                        "log and settings, stay in a temporary folder).")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="sidecar-bench-daemon-") as d:
        tmp = Path(d)
        if args.only in (None, "catch-up"):
            bench_catch_up_and_idle(tmp, args.files, args.idle, args.library)
        if args.only in (None, "latency"):
            bench_latency(tmp)
        if args.only in (None, "arrival"):
            bench_arrival(tmp, args.arrive)


if __name__ == "__main__":
    main()
