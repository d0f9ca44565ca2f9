"""Shared fixtures: an index per test, serve-max as a real subprocess, the shared reference data."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from hypothesis import settings

# a loaded 2-core CI machine must not turn a slow example into a failure: timings are never asserted
settings.register_profile("sidecar", deadline=None)
settings.load_profile("sidecar")

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
SIDECAR = str(Path(sys.executable).with_name("sidecar"))


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    path = str(tmp_path / "index.db")
    monkeypatch.setenv("SIDECAR_DB", path)
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    monkeypatch.delenv("SIDECAR_MAX_URL", raising=False)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeMax:
    """`sidecar serve-max` in its own process, stoppable and restartable on the same port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> "ServeMax":
        self.proc = subprocess.Popen([SIDECAR, "serve-max", "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:   # loading the model is slow on a loaded machine
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/model/metadata", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("serve-max did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def serve_max():
    server = ServeMax().start()
    yield server
    server.stop()


def as_plain_user(cmd: list[str]) -> list[str]:
    """cmd run without the capabilities that let root bypass file permissions.

    It stays the same user, so it still reads the checkout wherever that lives (a mode-700
    folder keeps another user such as nobody out); as an ordinary user cmd is unchanged."""
    if os.geteuid() != 0:
        return cmd
    import shutil
    if not shutil.which("setpriv"):
        pytest.skip("running as root, and setpriv (util-linux) is missing to drop the override capabilities")
    return ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search", *cmd]


def run_sidecar(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([SIDECAR, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


# -- PostgreSQL (see tests/pg_support.py) ------------------------------------------------------
from pg_support import index_store, pg_cluster, pg_server, pg_url, store_pair   # noqa: E402,F401  (fixtures)
