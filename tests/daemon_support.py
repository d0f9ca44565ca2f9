"""`sidecar daemon` as a real subprocess, with its log (one JSON event a line) read back."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from conftest import SIDECAR

#: quick settings so a test waits fractions of a second, not the defaults' seconds
FAST = {"stable_seconds": 0.3, "retry_seconds": 0.5, "retry_max_seconds": 2, "lease_seconds": 10,
        "poll_seconds": 0.3, "root_check_seconds": 0.3}


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


def write_config(path: Path, roots: list[dict], *, daemon: dict | None = None, scan: dict | None = None,
                 extra: str = "") -> Path:
    lines = ["[daemon]"] + [f"{k} = {toml_value(v)}" for k, v in {**FAST, **(daemon or {})}.items()]
    lines += ["[scan]"] + [f"{k} = {toml_value(v)}" for k, v in {"jobs": 2, **(scan or {})}.items()]
    for root in roots:
        lines += ["[[roots]]"] + [f"{k} = {toml_value(v)}" for k, v in root.items()]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def tiny_wav(path: Path, seed: int = 0, seconds: float = 0.25) -> Path:
    """A short tone in noise, different for each seed (so fingerprints differ)."""
    rate = 16000
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(seed)
    x = 0.3 * np.sin(2 * np.pi * (200 + 37 * seed) * t) + 0.05 * rng.standard_normal(len(t))
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x.astype(np.float32), rate, subtype="PCM_16")
    return path


class Daemon:
    def __init__(self, tmp: Path, config: Path, db: str, *, args: tuple = ("--no-osc",), name: str = "daemon"):
        self.config, self.db = config, db
        self.log_path = tmp / f"{name}-{time.monotonic_ns()}.log"
        self.args = args
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Daemon":
        self._log = open(self.log_path, "w")
        env = {**os.environ, "SIDECAR_DB": self.db}
        env.pop("SIDECAR_CONFIG", None)
        env.pop("SIDECAR_MAX_URL", None)
        self.proc = subprocess.Popen([SIDECAR, "daemon", "--config", str(self.config), *self.args],
                                     stdout=subprocess.DEVNULL, stderr=self._log, env=env)
        self.wait_for(lambda: self.events("caught_up") or self.events("watching"), what="start")
        return self

    def events(self, name: str | None = None, path: str | None = None) -> list[dict]:
        out = []
        for line in self.log_path.read_text().splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if (name is None or ev["event"] == name) and (path is None or ev.get("path") == str(path)):
                out.append(ev)
        return out

    def wait_for(self, predicate, timeout: float = 90.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = predicate()
            if got:
                return got
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}) waiting for {what}:\n"
                                     + self.log_path.read_text()[-3000:])
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n" + self.log_path.read_text()[-3000:])

    def wait_idle(self, timeout: float = 90.0) -> None:
        """Until the queue holds nothing queued or claimed."""
        self.wait_for(lambda: not any(s in ("queued", "claimed") for s in job_states(self.db).values()),
                      timeout, "an empty queue")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


def job_states(db: str) -> dict[str, str]:
    if not os.path.exists(db):
        return {}
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return dict(conn.execute("SELECT path, state FROM jobs").fetchall())
        except sqlite3.OperationalError:
            return {}


def indexed(db: str) -> dict[str, dict]:
    """path -> the stored record of every indexed file, read with plain sqlite3."""
    if not os.path.exists(db):
        return {}
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            rows = conn.execute("SELECT path, record, fingerprint FROM files").fetchall()
        except sqlite3.OperationalError:
            return {}
    return {p: {**json.loads(r), "fingerprint": f} for p, r, f in rows}


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".sidecar-tmp-")]
