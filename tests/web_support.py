"""`sidecar web` as a real subprocess over a generated, scanned library."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from pathlib import Path

import audiogen
from conftest import SIDECAR, run_sidecar


def make_library(base: Path) -> dict:
    """Five short files inside the root sfxlib (two WAV for edits, one FLAC, two more WAV), one
    outside it, all scanned into base/index.db; env: what a `sidecar` process needs for them."""
    lib, outside = base / "sfxlib", base / "elsewhere"
    files = {
        "door": audiogen.write(str(lib / "door"), "wav16", audiogen.tone(seconds=0.5)),
        "rain": audiogen.write(str(lib / "rain"), "flac", audiogen.noise(0.5, seed=1)),
        "knock": audiogen.write(str(lib / "knock"), "wav16", audiogen.clicks(0.6)),
        "hiss": audiogen.write(str(lib / "hiss"), "wav16", audiogen.noise(0.4, seed=2)),
        "hum": audiogen.write(str(lib / "hum"), "wav16", audiogen.tone(110.0, seconds=0.4)),
    }
    stray = audiogen.write(str(outside / "stray"), "wav16", audiogen.noise(0.3, seed=3))
    originals = {p: open(p, "rb").read() for p in [*files.values(), stray]}
    config = base / "sidecar.toml"
    config.write_text(f'[[roots]]\npath = "{lib}"\n')
    env = {"SIDECAR_DB": str(base / "index.db"), "SIDECAR_CONFIG": str(config)}
    scanned = run_sidecar("scan", str(lib), str(outside), env=env)
    assert scanned.returncode == 0, scanned.stderr
    return {"base": base, "lib": lib, "files": files, "stray": stray, "originals": originals, "env": env}


class WebProcess:
    """`sidecar web --port 0 ...`; the address is read from its first line on stderr."""

    def __init__(self, *args: str, env: dict | None = None):
        self.args, self.env = list(args), {**os.environ, **(env or {})}
        self.lines: list[str] = []
        self.url = ""

    def __enter__(self) -> "WebProcess":
        self.proc = subprocess.Popen([SIDECAR, "web", "--port", "0", *self.args], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                found = re.search(r"listening on (http://\S+?)/?$", line.strip())
                if found:
                    self.url = found.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60) or not self.url:
            self.__exit__()
            raise AssertionError("sidecar web did not start: " + "\n".join(self.lines))
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)
