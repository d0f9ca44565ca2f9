"""The OSC bridge over real UDP: ping, search, errors, datagram size."""

import socket
import threading

import pytest
from pythonosc.osc_message import OscMessage

from daw_bridge import messages
from daw_bridge.server import bridge_for
from sidecar.app import App
from sidecar.config import Config
from sidecar.index.interfaces import IndexedFile
from sidecar.index.store import open_store
from sidecar.metadata.record import Record


@pytest.fixture
def bridge(tmp_path):
    store = open_store(tmp_path / "i.db")
    store.files.upsert(IndexedFile("/lib/door creak.wav", 1, 1, "a", "wav",
                             Record(Description="Old door creaks " + "é" * 3000, Keywords=["door", "creak"],
                                    CatID="DOORWood", Duration=2.5)))
    store.files.upsert(IndexedFile("/lib/dog.wav", 1, 1, "b", "wav", Record(Description="Dog barks", Keywords=["dog"])))
    b = bridge_for(App(Config(), store=store), port=0, roots=[])
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


def serve(store):
    b = bridge_for(App(Config(), store=store), port=0, roots=[])
    threading.Thread(target=b.serve_forever, daemon=True).start()
    return b


def udp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(5)
    sock.bind(("127.0.0.1", 0))
    return sock


def receive(sock, bridge):
    data, sender = sock.recvfrom(65535)
    assert sender[1] == bridge.port and len(data) <= messages.MAX_DATAGRAM
    msg = OscMessage(data)
    return msg.address, msg.params


def nothing_on(sock):
    sock.settimeout(0.3)
    try:
        data = sock.recvfrom(65535)[0]
    except socket.timeout:
        return True
    finally:
        sock.settimeout(5)
    raise AssertionError(f"unexpected datagram {OscMessage(data).address} {OscMessage(data).params}")


def test_reply_port_redirects_only_the_requesting_host_and_port(bridge):
    setter, listener, other = udp(), udp(), udp()
    to = (bridge.host, bridge.port)
    setter.sendto(messages.message("/sfx/reply_port", listener.getsockname()[1]), to)
    assert receive(listener, bridge) == ("/sfx/ok", ["/sfx/reply_port"])
    # another client on the same host still hears its own answers
    other.sendto(messages.message("/sfx/ping", 5), to)
    assert receive(other, bridge) == ("/sfx/pong", [5])
    assert ask(bridge, messages.message("/sfx/ping", 6), {"/sfx/pong"})[-1].params == [6]
    # the setter's own requests are answered at the named port
    setter.sendto(messages.message("/sfx/ping", 7), to)
    assert receive(listener, bridge) == ("/sfx/pong", [7])
    # an invalid request is answered at the sender, and leaves the redirect alone
    for bad in (70000, -1, "9999", 12.0, True):
        setter.sendto(messages.message("/sfx/reply_port", bad), to)
        address, params = receive(setter, bridge)
        assert address == "/sfx/error" and params[0] == 0 and "reply_port" in params[1]
    setter.sendto(messages.message("/sfx/reply_port", 1, 2), to)
    assert receive(setter, bridge)[0] == "/sfx/error"
    setter.sendto(messages.message("/sfx/ping", 8), to)
    assert receive(listener, bridge) == ("/sfx/pong", [8])
    # 0 resets
    setter.sendto(messages.message("/sfx/reply_port", 0), to)
    assert receive(setter, bridge) == ("/sfx/ok", ["/sfx/reply_port"])
    setter.sendto(messages.message("/sfx/ping", 9), to)
    assert receive(setter, bridge) == ("/sfx/pong", [9])
    assert nothing_on(listener) and nothing_on(other)
    assert bridge.reply_ports == {}
    for sock in (setter, listener, other):
        sock.close()


def test_reply_port_table_is_bounded_oldest_dropped(bridge):
    bridge.MAX_REPLY_PORTS = 3
    listener = udp()
    socks = [udp() for _ in range(5)]
    for sock in socks:
        sock.sendto(messages.message("/sfx/reply_port", listener.getsockname()[1]), (bridge.host, bridge.port))
        assert receive(listener, bridge)[0] == "/sfx/ok"
    assert list(bridge.reply_ports) == [("127.0.0.1", s.getsockname()[1]) for s in socks[2:]]
    socks[0].sendto(messages.message("/sfx/ping", 1), (bridge.host, bridge.port))
    assert receive(socks[0], bridge) == ("/sfx/pong", [1])        # forgotten: back to its own port
    for sock in socks + [listener]:
        sock.close()


def _long_store(tmp_path):
    store = open_store(tmp_path / "long.db")
    big = "x" * 3000
    store.files.upsert(IndexedFile("/lib/a/" + "p" * 2000 + ".wav", 1, 1, "1", "wav",
                             Record(Description="whoosh " + "é" * 1500, Keywords=["whoosh", "k" * 3000],
                                    CatID="W" + "€" * 1000, Duration=1.0)))
    store.files.upsert(IndexedFile("/lib/b/" + "q" * 5000 + ".wav", 1, 1, "2", "wav",
                             Record(Description="whoosh too far " + big, Keywords=["whoosh"])))
    store.files.upsert(IndexedFile("/lib/c/" + "r" * 4030 + ".wav", 1, 1, "3", "wav",
                             Record(Description="whoosh " + big, Keywords=["whoosh", big], CatID=big)))
    store.files.upsert(IndexedFile("/lib/d/short whoosh.wav", 1, 1, "4", "wav",
                             Record(Description="whoosh " + big, Keywords=["whoosh", big], CatID=big)))
    return store


def test_long_results_fit_the_datagram_and_a_path_that_cannot_is_an_error(tmp_path):
    store = _long_store(tmp_path)
    paths = {f.path for f in store.files.search("whoosh")}
    b = serve(store)
    try:
        replies = ask(b, messages.message("/sfx/search", 11, "whoosh", 10), {"/sfx/done"})
    finally:
        b.shutdown()
    results = [m.params for m in replies if m.address == "/sfx/result"]
    errors = [m.params for m in replies if m.address == "/sfx/error"]
    assert replies[-1].address == "/sfx/done" and replies[-1].params == [11, len(results)]
    assert len(results) == 3 and len(errors) == 1
    too_long = [f for f in store.files.search("whoosh") if f.path.startswith("/lib/b/")]
    rank = [f.path for f in store.files.search("whoosh")].index(too_long[0].path) + 1
    assert errors[0] == [11, f"result {rank}: path too long for one datagram"]
    assert {r[2] for r in results} == paths - {too_long[0].path}        # paths whole
    assert sorted(r[1] for r in results) == sorted(set(range(1, 5)) - {rank})
    for r in results:
        hit = next(f for f in store.files.search("whoosh") if f.path == r[2]).record
        assert hit.CatID.startswith(r[3]) and hit.Description.startswith(r[4])
        assert ", ".join(hit.Keywords).startswith(r[5])
        assert all(len(t.encode()) <= messages.MAX_TEXT_BYTES for t in r[3:6])
    # a 2000-byte path leaves about 2000 bytes, shared by the three texts
    mid = next(r for r in results if r[2].startswith("/lib/a/"))
    assert mid[4].startswith("whoosh é") and 600 < len(mid[4].encode()) < 700
    assert sum(len(t.encode()) for t in mid[3:6]) > 2000 - 60
    shortest = next(r for r in results if r[2] == "/lib/d/short whoosh.wav")
    assert all(len(t.encode()) == messages.MAX_TEXT_BYTES for t in shortest[3:6])


def test_result_budget_over_many_path_lengths():
    def Hit(path, record):
        return IndexedFile(path, 0, 0, "", "wav", record)

    rec = Record(Description="é" * 3000, Keywords=["ü" * 1000, "k" * 3000], CatID="€" * 3000, Duration=1.0)
    for n in range(4000, 4100):
        path = "/" + "p" * n
        try:
            dgram = messages.result(1, 1, Hit(path, rec))
        except messages.PathTooLong:
            assert n > 4000 - 40
            continue
        assert len(dgram) <= messages.MAX_DATAGRAM
        params = OscMessage(dgram).params
        assert params[2] == path and rec.Description.startswith(params[4])
    for n in range(0, 4000, 97):
        dgram = messages.result(1, 1, Hit("/" + "p" * n, rec))
        assert len(dgram) <= messages.MAX_DATAGRAM
        assert len(dgram) > messages.MAX_DATAGRAM - 40 or n < 900   # the room left is used


def test_wrong_argument_types_are_errors_not_defaults(bridge):
    def error_to(*args):
        replies = ask(bridge, messages.message("/sfx/search", *args), {"/sfx/error", "/sfx/done"})
        assert [m.address for m in replies] == ["/sfx/error"]
        return replies[0].params

    assert error_to(21, "door", "5") == [21, "limit must be an int"]
    assert error_to(22, "door", 5.0) == [22, "limit must be an int"]
    assert error_to(23, "door", True) == [23, "limit must be an int"]
    assert error_to(24, 7) == [24, "query must be a string"]
    assert error_to(25, "door", 5, 6, 7)[0] == 25
    assert error_to(26, "door", 5, "x")[0] == 26        # a reply port that is not an int
    assert error_to(26)[0] == 26
    assert error_to(2.0, "door")[0] == 0
    err = ask(bridge, messages.message("/sfx/ping", "x"), {"/sfx/error", "/sfx/pong"})[-1]
    assert err.address == "/sfx/error" and err.params[0] == 0
    done = ask(bridge, messages.message("/sfx/search", 27, "door", 500), {"/sfx/done"})
    assert done[-1].params == [27, 1]


def test_cli_search_exit_codes(bridge):
    from click.testing import CliRunner

    from daw_bridge.cli import cli

    runner = CliRunner()
    port = ["--port", str(bridge.port), "--timeout", "5"]
    ok = runner.invoke(cli, ["search", "door", *port])
    assert ok.exit_code == 0 and ok.output.strip() == "/lib/door creak.wav"
    bad = runner.invoke(cli, ["search", '"x', *port])
    assert bad.exit_code == 2 and "quote" in bad.output
    assert runner.invoke(cli, ["search", "x" * 5000, *port]).exit_code == 2
    assert runner.invoke(cli, ["search", "door", "--limit", "0", *port]).exit_code == 2
    assert runner.invoke(cli, ["ping", *port]).output.strip() == "pong"


def test_cli_reports_a_hit_it_cannot_get_and_prints_the_rest(tmp_path):
    from click.testing import CliRunner

    from daw_bridge.cli import cli

    b = serve(_long_store(tmp_path))
    try:
        out = CliRunner().invoke(cli, ["search", "whoosh", "--json", "--port", str(b.port)])
    finally:
        b.shutdown()
    assert out.exit_code == 0
    assert "path too long for one datagram" in out.stderr
    import json
    assert len(json.loads(out.stdout)) == 3


def test_a_reply_port_in_the_request_serves_senders_that_cannot_listen(bridge):
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    port = listener.getsockname()[1]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)     # sends, never reads (like oscsend)
    sender.sendto(messages.message("/sfx/search", 9, "door", 5, port), (bridge.host, bridge.port))
    got = []
    while not got or got[-1].address != "/sfx/done":
        got.append(OscMessage(listener.recvfrom(8192)[0]))
    assert [m.address for m in got] == ["/sfx/result", "/sfx/done"] and got[-1].params == [9, 1]
    sender.sendto(messages.message("/sfx/ping", 4, port), (bridge.host, bridge.port))
    assert OscMessage(listener.recvfrom(8192)[0]).params == [4]
    # the redirect was for those requests only: the sender's next ping comes back to the sender
    assert ask(bridge, messages.message("/sfx/ping", 5), {"/sfx/pong"})[-1].params == [5]


def test_the_bridge_encodes_as_python_osc_does():
    from pythonosc.osc_message_builder import OscMessageBuilder

    cases = [("/sfx/result", 3, 1, "/lib/door é.wav", "DOORWood", "", "door, 門", 2.5),
             ("/sfx/done", -7, 0), ("/sfx/ok", "/sfx/reply_port"), ("/sfx/x", True, False, "abc", "abcd"),
             ("/a",)]
    for address, *args in cases:
        builder = OscMessageBuilder(address=address)
        for a in args:
            builder.add_arg(a, "T" if a is True else "F" if a is False else None)
        assert messages.message(address, *args) == builder.build().dgram
    with pytest.raises(ValueError):
        messages.message("/sfx/done", 1 << 31)


def test_a_result_read_from_the_index_without_its_record_decoded_is_the_same(tmp_path):
    """The bridge reads four fields of each hit's stored record, not the whole record; the datagram
    is the one the decoded record gives, with and without each field."""
    store = open_store(tmp_path / "index.db")
    full = Record(Description="Rain on a tin roof", Keywords=["rain", "roof", "tin"], CatID="RAINMetl",
                  Duration=12.5)
    store.files.upsert(IndexedFile("/lib/rain.wav", 1, 1, "pcm:1", "wav", full))
    store.files.upsert(IndexedFile("/lib/bare rain.wav", 1, 1, "pcm:2", "wav", Record()))
    hits = store.files.search("rain", limit=5)
    assert len(hits) == 2
    for hit in hits:
        sent = messages.result(7, 1, hit)                     # from the stored text
        decoded = IndexedFile(hit.path, 1, 1, "", "wav", hit.record)
        assert sent == messages.result(7, 1, decoded)
    params = OscMessage(messages.result(7, 1, next(h for h in hits if h.path == "/lib/rain.wav"))).params
    assert params[3:] == ["RAINMetl", "Rain on a tin roof", "rain, roof, tin", 12.5]
    store.close()
