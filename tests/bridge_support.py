"""`daw-bridge serve` as a real subprocess, and a small UDP client for it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from pythonosc.osc_message import OscMessage

DAW_BRIDGE = str(Path(sys.executable).with_name("daw-bridge"))


class BridgeProcess:
    """`daw-bridge serve --port 0 ...`; the port is read from its first line on stderr."""

    def __init__(self, *args: str, env: dict | None = None):
        self.args = list(args)
        self.env = {**os.environ, **(env or {})}
        self.lines: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self, timeout: float = 30.0) -> "BridgeProcess":
        self.proc = subprocess.Popen([DAW_BRIDGE, "serve", "--port", "0", *self.args], env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                found = re.search(r"listening on [^ ]+:(\d+)", line)
                if found:
                    self.port = int(found.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout) or not self.port:
            self.stop()
            raise AssertionError("daw-bridge did not start: " + "\n".join(self.lines))
        return self

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "BridgeProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Client:
    """One UDP socket that sends requests and reads replies."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.to = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(timeout)

    def send(self, dgram: bytes) -> None:
        self.sock.sendto(dgram, self.to)

    def receive(self) -> OscMessage:
        data, sender = self.sock.recvfrom(65536)
        assert sender[1] == self.to[1], "replies come from the port the request went to"
        assert len(data) <= 4096
        return OscMessage(data)

    def ask(self, dgram: bytes, until=("/sfx/done", "/sfx/pong", "/sfx/tagged", "/sfx/addresses", "/sfx/error")):
        self.send(dgram)
        out = []
        while True:
            msg = self.receive()
            out.append(msg)
            if msg.address in until and not (msg.address == "/sfx/error"
                                              and str(msg.params[-1]).startswith("result ")):
                return out

    def close(self) -> None:
        self.sock.close()


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
