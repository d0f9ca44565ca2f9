"""The web page's speed on loopback. Run by hand: `.venv/bin/python benchmarks/bench_web.py`.

`sidecar web` runs as its own process over a 100,000-file index (the OSC bridge benchmark's),
plus 100 real WAV files inside its root whose machine CatIDs wait for review. Prints, with the
machine's load (figures are upper bounds on a loaded machine):
  - /api/search, a page of 50: p50 and p99 over HTTP, the first page (which also counts the
    categories of the first 1,000 matches) beside a later page, beside the same search made
    in-process on the index (the cost of HTTP and JSON is the ratio)
  - page load to the first results rendered (Debian's chromium through Playwright)
  - the requests and bytes to review 100 files with the keyboard (j to move, a to accept)
"""

from __future__ import annotations

import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_daw_bridge import build_index  # noqa: E402
from bench_scan import WORDS  # noqa: E402
from sidecar.index.interfaces import IndexedFile  # noqa: E402
from sidecar.index.store import open_store  # noqa: E402
from sidecar.formats import audio_fingerprint  # noqa: E402
from sidecar.metadata.record import Label, Provenance, Record  # noqa: E402

SIDECAR = str(Path(sys.executable).with_name("sidecar"))
FILES = 100_000
REVIEWED = 100


def load() -> str:
    return os.getloadavg().__repr__()


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    return (f"p50 {statistics.median(times):.1f} ms, p99 {times[max(0, int(len(times) * 0.99) - 1)]:.1f} ms "
            f"({len(times)} requests)")


def add_review_files(db: Path, lib: Path) -> None:
    store = open_store(db)
    lib.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    for i in range(REVIEWED):
        path = str(lib / f"review {i:03d}.wav")
        sf.write(path, rng.standard_normal(24000).astype(np.float32) * 0.1, 48000, subtype="PCM_16")
        st = os.stat(path)
        prov = Provenance(engine="embedded", labels=[Label("White noise", 0.3)], category_source="audioset",
                          category_confidence=0.2 + i / 1000, machine_fields=["CatID", "Category", "SubCategory"])
        rec = Record(Description="Noise", CatID="AMBRoom", Category="AMBIENCE", SubCategory="ROOM TONE",
                     Duration=0.5, Channels=1, SampleRate=48000, provenance=prov)
        store.files.upsert(IndexedFile(path, st.st_size, st.st_mtime_ns, audio_fingerprint(path, "wav"), "wav", rec))
    store.close()


def start_web(db: Path, lib: Path):
    proc = subprocess.Popen([SIDECAR, "web", "--port", "0", str(lib)], env={**os.environ, "SIDECAR_DB": str(db)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found = {}
    ready = threading.Event()

    def read():
        for line in proc.stderr:
            m = re.search(r"listening on (http://\S+?)/?$", line.strip())
            if m:
                found["url"] = m.group(1)
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(60)
    return proc, found["url"]


def bench_search(url: str, db: Path) -> None:
    rnd = random.Random(3)
    queries = [rnd.choice(WORDS) for _ in range(200)]
    session = requests.Session()
    first, later, local = [], [], []
    store = open_store(db)
    from sidecar.app import App
    from sidecar.config import Config
    app = App(Config(db=str(db)), store=store)
    for q in queries[:5]:                      # warm the caches of both
        session.get(f"{url}/api/search", params={"q": q})
        app.search(q, limit=50)
    for q in queries:
        t = time.perf_counter()
        session.get(f"{url}/api/search", params={"q": q, "limit": 50}).raise_for_status()
        first.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        session.get(f"{url}/api/search", params={"q": q, "limit": 50, "offset": 50}).raise_for_status()
        later.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        [f.record.CatID for f in app.search(q, limit=50)]
        local.append((time.perf_counter() - t) * 1000)
    store.close()
    print(f"/api/search first page (with categories of 1,000 matches): {percentiles(first)}")
    print(f"/api/search later page:                                    {percentiles(later)}")
    print(f"the same search in-process, no HTTP:                       {percentiles(local)}")
    print(f"  ratio HTTP later page / in-process at p50: {statistics.median(later) / statistics.median(local):.1f}x"
          f"; load {load()}")


def bench_page(url: str) -> None:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(bypass_csp=True)
        t = time.perf_counter()
        page.goto(f"{url}/?q=door")
        page.wait_for_selector("#results tbody tr")
        loaded = (time.perf_counter() - t) * 1000
        print(f"page load to the first results rendered (q=door): {loaded:.0f} ms; load {load()}")

        counted = {"requests": 0, "bytes": 0}

        def seen(response):
            counted["requests"] += 1
            try:
                counted["bytes"] += len(response.body())
            except Exception:
                pass
        t = time.perf_counter()
        page.on("response", seen)
        page.keyboard.press("2")                   # the review queue
        page.wait_for_function("document.querySelectorAll('#results tbody tr').length >= 100")
        review_loaded = (time.perf_counter() - t) * 1000
        done = 0
        for _ in range(REVIEWED):
            with page.expect_response(lambda r: "/accept" in r.url):
                page.keyboard.press("a")
            page.keyboard.press("j")
            done += 1
        seconds = time.perf_counter() - t
        page.wait_for_load_state("networkidle")
        t = time.perf_counter()
        page.keyboard.press("1")
        with page.expect_response(lambda r: "/api/review" in r.url):
            page.keyboard.press("2")               # again: the order is kept, the rows read again
        again = (time.perf_counter() - t) * 1000
        print(f"review {done} files with the keyboard (2, then a and j each): {counted['requests']} requests, "
              f"{counted['bytes'] / 1e6:.2f} MB (thumbnails included), {seconds:.1f} s; the review list of "
              f"{FILES:,} files took {review_loaded:.0f} ms the first time, {again:.0f} ms again; load {load()}")
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db, lib = Path(tmp) / "index.db", Path(tmp) / "lib"
        t = time.perf_counter()
        build_index(db, FILES)
        add_review_files(db, lib)
        print(f"index of {FILES + REVIEWED:,} files built in {time.perf_counter() - t:.0f} s")
        proc, url = start_web(db, lib)
        try:
            bench_search(url, db)
            bench_page(url)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
