"""`daw-bridge serve` under garbage: one log line per bad datagram (rate limited), never a traceback,
an /sfx/error where the address space says so, and the bridge answering all along."""

import random
import struct
import threading
import time

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge_support import BridgeProcess, Client, wait_for
from daw_bridge.server import RateLimitedLog
from daw_bridge import messages
from sidecar.index.interfaces import IndexedFile
from sidecar.index.store import open_store
from sidecar.metadata.record import Record


@pytest.fixture
def index(tmp_path, monkeypatch):
    path = tmp_path / "index.db"
    store = open_store(path)
    for i in range(30):
        store.files.upsert(IndexedFile(f"/lib/door {i}.wav", 1, 1, str(i), "wav",
                                 Record(Description=f"Door slam {i}", Keywords=["door", "slam"], CatID="DOORWood",
                                        Duration=1.0)))
    store.close()
    monkeypatch.setenv("SIDECAR_DB", str(path))
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    return path


def typed(address, *pairs):
    b = OscMessageBuilder(address=address)
    for value, kind in pairs:
        b.add_arg(value, kind)
    return b.build().dgram


def osc_string(text: bytes) -> bytes:
    return text + b"\x00" * (4 - len(text) % 4)


def bundle(*elements: bytes, timetag: bytes = b"\x00\x00\x00\x00\x00\x00\x00\x01") -> bytes:
    return b"#bundle\x00" + timetag + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def garbage() -> list[bytes]:
    rng = random.Random(15)
    good = messages.message("/sfx/search", 5, "door slam", 10)
    out = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(40)]
    out += [b"/" + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 100))) for _ in range(20)]
    out += [good[:n] for n in range(1, len(good))]                              # truncated OSC
    out += [osc_string(b"/sfx/search") + osc_string(b",is") + struct.pack(">i", 1) + b"\xff\xfe\x00\x00",  # bad UTF-8
            osc_string(b"/sfx/search") + osc_string(b",Z"),                    # unknown type tag
            osc_string(b"/sfx/search") + osc_string(b",s"),                    # a string that is not there
            osc_string(b"/sfx/ping") + osc_string(b",b") + struct.pack(">i", 1 << 30),   # blob past the end
            bundle(b"/sfx/ping\x00\x00\x00,i\x00\x00\x00\x00\x00\x01"[:-1]),  # element size off
            b"#bundle\x00\x00",                                                 # bundle cut short
            b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 1 << 20)]          # element past the end
    nested = messages.message("/sfx/ping", 1)
    for _ in range(10):
        nested = bundle(nested)
    out.append(nested)                                                          # nested too deep
    return out


def wrong_types() -> list[bytes]:
    return [typed("/sfx/search", (b"\x01\x02", "b"), ("door", "s")),
            typed("/sfx/search", (1, "i"), (b"door", "b")),
            typed("/sfx/search", (1 << 40, "h"), ("door", "s")),
            typed("/sfx/search", (1, "i"), ("door", "s"), (2.5, "d")),
            typed("/sfx/search", (1, "i"), (None, "N")),
            typed("/sfx/search", (1, "i"), ((1, 2, 3, 4), "m")),
            typed("/sfx/search", (1, "i"), ([1, "x"], None)),
            typed("/sfx/info", (1, "i"), (7, "i")),
            typed("/sfx/tag", (1, "i"), ("/lib/door 1.wav", "s"), (3, "i"), (True, "T")),
            typed("/sfx/reply_port", (0x11223344, "r")),
            typed("/sfx/ping", (1.5, "f"))]


def test_garbage_truncated_wrong_types_and_huge_datagrams_never_stop_the_bridge(index):
    with BridgeProcess() as bridge:
        client = Client(bridge.port)
        bad = garbage()
        for dgram in bad:
            client.send(dgram)
        # each malformed datagram from a client that can hear is answered with an /sfx/error (id 0)
        errors = []
        while len(errors) < len(bad):
            msg = client.receive()
            assert msg.address == "/sfx/error", (msg.address, msg.params)
            errors.append(msg.params)
        assert all(e[0] == 0 for e in errors)
        # "/sfx/search" alone, cut after its address, is a request without arguments: a usage error
        assert [e[1] for e in errors if not e[1].startswith("malformed OSC datagram")] == \
            ["usage: /sfx/search id:i query:s [limit:i] [reply_port:i]"]
        for dgram in wrong_types():
            replies = client.ask(dgram)
            assert replies[-1].address == "/sfx/error", (replies[-1].address, replies[-1].params)
        # the largest datagram UDP carries (64 KiB less the headers): refused whole, one line
        huge = messages.message("/sfx/ping", 1)[:0] + osc_string(b"/sfx/search") + osc_string(b",is") + \
            struct.pack(">i", 9) + b"d" * (65507 - 24) + b"\x00" * 4
        client.send(huge[:65507])
        err = client.receive()
        assert err.address == "/sfx/error" and "65507 bytes is larger than 8192" in err.params[1]
        # a bundle dated far ahead is answered now, not then
        ahead = bundle(messages.message("/sfx/ping", 77), timetag=b"\xff\xff\xff\xff\x00\x00\x00\x00")
        assert [m.params for m in client.ask(ahead)] == [[77]]
        replies = client.ask(messages.message("/sfx/search", 9, "door", 3))
        assert [m.address for m in replies] == ["/sfx/result"] * 3 + ["/sfx/done"]
        client.close()
        assert bridge.proc.poll() is None
    log = bridge.stderr
    assert "Traceback" not in log and "Error:" not in log
    malformed = [line for line in bridge.lines if "malformed datagram" in line]
    # rate limited: 10 lines in 10 s, while many more bad datagrams arrived
    assert 1 <= len(malformed) <= 10 < len(bad)
    assert all(line.startswith("daw-bridge") for line in bridge.lines), bridge.lines


def test_a_thousand_requests_a_second_are_all_answered(index):
    with BridgeProcess() as bridge:
        client = Client(bridge.port)
        got = {"/sfx/pong": set(), "/sfx/done": set(), "/sfx/error": 0}

        def read():
            while True:
                try:
                    msg = client.receive()
                except OSError:
                    return
                if msg.address == "/sfx/error":
                    got["/sfx/error"] += 1
                elif msg.address in ("/sfx/pong", "/sfx/done"):
                    got[msg.address].add(msg.params[0])

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        bad = garbage()
        start = time.monotonic()
        for n in range(1000):                 # paced: 1,000 in one second, in steps of 50
            if n % 4 == 0:
                client.send(messages.message("/sfx/search", n, "door slam", 2))
            elif n % 4 == 1:
                client.send(bad[n % len(bad)])
            else:
                client.send(messages.message("/sfx/ping", n))
            if n % 50 == 49:
                time.sleep(max(0.0, start + (n + 1) / 1000 - time.monotonic()))
        sent_pings = {n for n in range(1000) if n % 4 >= 2}
        sent_searches = {n for n in range(1000) if n % 4 == 0}
        wait_for(lambda: got["/sfx/pong"] >= sent_pings and got["/sfx/done"] >= sent_searches, 30)
        assert got["/sfx/pong"] == sent_pings
        assert got["/sfx/done"] == sent_searches
        assert got["/sfx/error"] == 250
        client.sock.settimeout(10)
        assert bridge.proc.poll() is None
        check = Client(bridge.port)
        assert check.ask(messages.message("/sfx/ping", 4242))[-1].params == [4242]
        check.close()
        client.close()
    assert "Traceback" not in bridge.stderr


def test_the_log_is_rate_limited_and_counts_what_it_held_back(caplog):
    import logging
    limited = RateLimitedLog(logging.getLogger("test.bridge"), burst=3, period=0.3)
    with caplog.at_level(logging.WARNING, logger="test.bridge"):
        shown = [limited.warning(f"bad {n}") for n in range(10)]
        assert shown == [True] * 3 + [False] * 7
        time.sleep(0.35)
        assert limited.warning("bad again")
    assert [r.getMessage() for r in caplog.records] == ["bad 0", "bad 1", "bad 2",
                                                        "bad again (7 similar lines held back)"]
