"""Who the bridge answers: loopback by default; off loopback only the networks the configuration
allows (and it refuses to start without them); a datagram from anyone else is dropped unanswered."""

import logging
import subprocess

import pytest

from bridge_support import DAW_BRIDGE, BridgeProcess, Client
from daw_bridge import messages
from daw_bridge.access import ClientFilter, Roots, OutsideRoots, parse_networks
from daw_bridge.server import Bridge, bridge_for
from sidecar.app import App, Services
from sidecar.config import Config, load
from sidecar.errors import ConfigError
from sidecar.index.store import open_store


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SIDECAR_DB", str(tmp_path / "index.db"))
    config = tmp_path / "sidecar.toml"
    monkeypatch.setenv("SIDECAR_CONFIG", str(config))
    return config


def test_off_loopback_without_an_allow_list_the_bridge_refuses_to_start(env):
    env.write_text('[osc]\nhost = "0.0.0.0"\n')
    out = subprocess.run([DAW_BRIDGE, "serve", "--port", "0"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "allow" in out.stderr and "Traceback" not in out.stderr
    env.write_text("")
    out = subprocess.run([DAW_BRIDGE, "serve", "--host", "::", "--port", "0"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "[osc] allow" in out.stderr
    env.write_text('[osc]\nallow = ["not a network"]\n')
    out = subprocess.run([DAW_BRIDGE, "serve", "--port", "0"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "'not a network' is not a network" in out.stderr
    env.write_text('[osc]\nallow = "10.0.0.0/8"\n')
    out = subprocess.run([DAW_BRIDGE, "serve", "--port", "0"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "osc.allow must be a list" in out.stderr


def test_with_an_allow_list_it_binds_everywhere_and_still_answers_loopback(env):
    env.write_text('[osc]\nhost = "0.0.0.0"\nallow = ["192.0.2.0/24", "2001:db8::/32"]\n')
    with BridgeProcess() as bridge:
        assert "listening on 0.0.0.0:" in bridge.stderr
        client = Client(bridge.port)
        assert client.ask(messages.message("/sfx/ping", 3))[-1].params == [3]
        client.close()


def test_the_client_filter():
    clients = ClientFilter(parse_networks(["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]))
    assert clients.allows("127.0.0.1") and clients.allows("127.5.5.5") and clients.allows("::1")
    assert clients.allows("192.0.2.200") and clients.allows("198.51.100.7") and clients.allows("2001:db8::5")
    assert clients.allows("::ffff:192.0.2.9")
    assert not clients.allows("192.0.3.1") and not clients.allows("198.51.100.8")
    assert not clients.allows("2001:db9::1") and not clients.allows("not an address")
    assert not ClientFilter([]).allows("10.1.1.1")


def _services(store):
    """The application's services over one index, as a bridge built by hand takes them."""
    return Services(App(Config(), store=store), store)


def test_a_datagram_from_outside_the_allow_list_is_dropped_unanswered(tmp_path, caplog):
    bridge = Bridge(_services(open_store(tmp_path / "i.db")), "127.0.0.1", 0, allow=["192.0.2.0/24"])
    sent = []
    bridge._send = lambda client, dgram: sent.append((client, dgram))      # nothing may go out
    bridge._send_direct = bridge._send
    with caplog.at_level(logging.WARNING, logger="daw_bridge.server"):
        for host in ("203.0.113.9", "198.51.100.1"):
            bridge.handle_datagram(messages.message("/sfx/ping", 1), (host, 5000))
            bridge.handle_datagram(b"garbage", (host, 5000))
    assert sent == []
    assert any("203.0.113.9:5000 dropped" in r.getMessage() for r in caplog.records)
    bridge.handle_datagram(messages.message("/sfx/ping", 2), ("127.0.0.1", 5000))
    assert sent == [(("127.0.0.1", 5000), messages.message("/sfx/pong", 2))]
    bridge.shutdown()


def test_the_configuration_names_host_port_allow_and_roots(env, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    env.write_text(f'[osc]\nport = 9399\nallow = ["192.0.2.0/24"]\n[[roots]]\npath = "{lib}"\n')
    cfg = load()
    assert (cfg.osc.host, cfg.osc.port, cfg.osc.allow) == ("127.0.0.1", 9399, ["192.0.2.0/24"])
    assert [r.path for r in cfg.roots] == [str(lib)]
    bridge = bridge_for(App(cfg, store=open_store(tmp_path / "i.db")), port=0)
    try:
        assert bridge.roots.written == [str(lib)] and bridge.port > 0
    finally:
        bridge.shutdown()
    with pytest.raises(ConfigError):
        Bridge(_services(open_store(tmp_path / "i.db")), "0.0.0.0", 0)         # no allow-list given


def test_roots_hold_paths_as_written_and_as_resolved(tmp_path):
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    (tmp_path / "secret.wav").write_bytes(b"x")
    (lib / "sub" / "a.wav").write_bytes(b"x")
    roots = Roots([str(lib)])
    assert roots.check(str(lib / "sub" / "a.wav")) == str(lib / "sub" / "a.wav")
    assert roots.check(str(lib / "sub" / ".." / "sub" / "a.wav")) == str(lib / "sub" / "a.wav")
    (lib / "escape").symlink_to(tmp_path)
    for bad in (str(tmp_path / "secret.wav"), str(lib / ".." / "secret.wav"), str(lib / "escape" / "secret.wav"),
                str(lib) + "-other/a.wav", "relative.wav", "", "/lib/\x00.wav", 5):
        with pytest.raises(OutsideRoots):
            roots.check(bad)


def test_another_program_hosts_the_bridge_on_a_thread_and_stops_it(env, tmp_path):
    """What `sidecar daemon` does: build it from the configuration, start() it, shutdown() it."""
    import socket
    import threading

    lib = tmp_path / "lib"
    lib.mkdir()
    env.write_text(f'[[roots]]\npath = "{lib}"\n')
    before = threading.active_count()
    bridge = bridge_for(App(load(), store=open_store(tmp_path / "i.db")), port=0).start()
    client = Client(bridge.port)
    assert client.ask(messages.message("/sfx/ping", 5))[-1].params == [5]
    assert "/sfx/tag" in client.ask(messages.message("/sfx/addresses", 6))[-1].params[1].split()
    port = bridge.port
    bridge.shutdown()
    assert threading.active_count() == before          # the serving and worker threads are gone
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))                 # and the port is free for the next start
    client.close()
