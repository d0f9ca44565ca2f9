"""One line per figure, beside its bound, that `make bench` (benchmarks/run.py) gathers into a table.

A benchmark prints its own detail as it likes and calls `figure` for each number the issues hold
it to. The line carries the machine's load at that moment: the machine is shared, so every figure
is an upper bound under that load.
"""

from __future__ import annotations

import os

#: the prefix run.py looks for; the fields are separated by " | "
MARK = "FIGURE"


def load() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


def figure(what: str, value: str, bound: str, met: bool | None = None) -> str:
    """Print and return one figure line: what was measured, the figure, the bound beside it (another
    command timed in the same run, or a target), and whether it is met (None: no target)."""
    verdict = "" if met is None else "met" if met else "MISSED"
    line = " | ".join((MARK, what, value, bound, verdict, f"load {load():.2f}"))
    print(line, flush=True)
    return line


def parse(line: str) -> dict | None:
    """The fields of a figure line, or None for any other line."""
    if not line.startswith(MARK + " | "):
        return None
    _, what, value, bound, verdict, load_ = line.rstrip("\n").split(" | ", 5)
    return {"what": what, "figure": value, "bound": bound, "verdict": verdict, "load": load_}
