"""`make bench`: every benchmarks/bench_*.py in turn, each in its own process, its output as it
comes; then one table of every figure beside its bound, with the load at the time of each.

    .venv/bin/python benchmarks/run.py [NAME ...]     # NAME: scan, daw_bridge, ... (default: all)

A benchmark that fails is reported and the others still run; the exit status is 1 if any failed.
A benchmark that needs what this machine lacks (a PostgreSQL server) says so and exits 0.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from figures import load, parse  # noqa: E402


def scripts(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if not names:
        return found
    wanted = {n.removeprefix("bench_").removesuffix(".py") for n in names}
    unknown = wanted - {p.stem.removeprefix("bench_") for p in found}
    if unknown:
        raise SystemExit(f"no benchmark named {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(p.stem.removeprefix('bench_') for p in found)}")
    return [p for p in found if p.stem.removeprefix("bench_") in wanted]


def run(script: Path) -> tuple[int, list[dict], float]:
    """Run one benchmark, echoing its output; its exit status, its figures and its seconds."""
    print(f"\n=== {script.name} (load {load():.2f})", flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, bufsize=1)
    figures = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        found = parse(line)
        if found:
            figures.append({"bench": script.stem.removeprefix("bench_"), **found})
    return proc.wait(), figures, time.perf_counter() - started


def table(rows: list[dict]) -> str:
    head = ["bench", "what", "figure", "bound beside it", "", "load"]
    keys = ["bench", "what", "figure", "bound", "verdict", "load"]
    lines = [head] + [[r[k] for k in keys] for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


def main() -> int:
    failed, rows = [], []
    for script in scripts(sys.argv[1:]):
        status, figures, seconds = run(script)
        rows += figures
        if status != 0:
            failed.append(f"{script.name} (exit {status} after {seconds:.0f} s)")
    print("\n=== figures beside their bounds (every figure an upper bound under the load shown; 2 cores shared)")
    print(table(rows) if rows else "(none)")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
