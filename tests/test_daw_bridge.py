"""The OSC bridge over real UDP: ping, search, errors, datagram size."""

import socket
import threading

import pytest
from pythonosc.osc_message import OscMessage

from daw_bridge import messages
from daw_bridge.server import Bridge
from sidecar.index.store import IndexedFile, Store
from sidecar.metadata.record import Record


@pytest.fixture
def bridge(tmp_path):
    store = Store.open(tmp_path / "i.db")
    store.upsert(IndexedFile("/lib/door creak.wav", 1, 1, "a", "wav",
                             Record(Description="Old door creaks " + "é" * 3000, Keywords=["door", "creak"],
                                    CatID="DOORWood", Duration=2.5)))
    store.upsert(IndexedFile("/lib/dog.wav", 1, 1, "b", "wav", Record(Description="Dog barks", Keywords=["dog"])))
    b = Bridge(store, port=0, expand=False)
    thread = threading.Thread(target=b.serve_forever, daemon=True)
    thread.start()
    yield b
    b.shutdown()


def ask(bridge, dgram, until, n=20):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(5)
    sock.sendto(dgram, (bridge.host, bridge.port))
    out = []
    while True:
        data, sender = sock.recvfrom(65535)
        assert sender[1] == bridge.port                     # from the port the request went to
        assert len(data) <= messages.MAX_DATAGRAM
        msg = OscMessage(data)
        out.append(msg)
        if msg.address in until:
            return out


def test_ping(bridge):
    assert [(m.address, m.params) for m in ask(bridge, messages.message("/sfx/ping", 7), {"/sfx/pong"})] == \
        [("/sfx/pong", [7])]


def test_search_results_then_done(bridge):
    replies = ask(bridge, messages.message("/sfx/search", 3, "door", 10), {"/sfx/done"})
    assert [m.address for m in replies] == ["/sfx/result", "/sfx/done"]
    res = replies[0].params
    assert res[:4] == [3, 1, "/lib/door creak.wav", "DOORWood"]
    assert len(res[4].encode()) <= messages.MAX_TEXT_BYTES and res[4].startswith("Old door creaks é")
    assert abs(res[6] - 2.5) < 1e-6
    assert replies[1].params == [3, 1]


def test_malformed_query_and_packets_get_an_error_and_the_bridge_lives_on(bridge):
    err = ask(bridge, messages.message("/sfx/search", 4, '"unbalanced'), {"/sfx/error"})
    assert err[-1].params[0] == 4 and "quote" in err[-1].params[1]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(b"\x00garbage that is not OSC", (bridge.host, bridge.port))
    sock.sendto(b"/sfx/search\x00,i", (bridge.host, bridge.port))
    assert ask(bridge, messages.message("/sfx/search", "no id"), {"/sfx/error"})[-1].address == "/sfx/error"
    assert ask(bridge, messages.message("/sfx/ping", 1), {"/sfx/pong"})[-1].params == [1]


def test_cut_utf8_never_splits_a_character():
    text = "a" + "é" * 10
    for limit in range(1, 22):
        cut = messages.cut_utf8(text, limit)
        assert len(cut.encode()) <= limit and text.startswith(cut)
