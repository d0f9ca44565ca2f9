"""Starting the sounds-like network: built from the checkpoint (empty model cache) beside
read from the cached graph, each in a fresh process, alternated. Prints CPU seconds per
load (median of rounds) and the load average; figures are upper bounds on a loaded machine.

    .venv/bin/python benchmarks/bench_sounds_like_start.py [rounds]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile

PROGRAM = r"""
import resource, sys, time
before = resource.getrusage(resource.RUSAGE_SELF)
from sidecar.similarity.embedder import Embedder
Embedder.load()
after = resource.getrusage(resource.RUSAGE_SELF)
print(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, "onnx" in sys.modules)
"""


def load_once(cache: str) -> tuple[float, bool]:
    out = subprocess.run([sys.executable, "-c", PROGRAM], env=dict(os.environ, XDG_CACHE_HOME=cache),
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), out[1] == "True"


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    cold, warm = [], []
    for _ in range(rounds):
        cache = tempfile.mkdtemp(prefix="bench-aisfx-")
        try:
            seconds, onnx = load_once(cache)
            assert onnx, "the cold start should have built the graph"
            cold.append(seconds)
            seconds, onnx = load_once(cache)
            assert not onnx, "the warm start should not import onnx"
            warm.append(seconds)
        finally:
            shutil.rmtree(cache)
    c, w = statistics.median(cold), statistics.median(warm)
    print(f"sounds-like network load, CPU s (median of {rounds}): built {c:.2f}  cached {w:.2f}  "
          f"saves {c - w:.2f} s ({c / w:.1f}x)")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
