"""The OSC bridge: DAW scripts search the index over UDP (default 127.0.0.1:9310).

Replies come from the bridge's own socket, to the sender's address and port,
or to the port a client named with /sfx/reply_port (tools like liblo's oscsend
cannot hear replies on the port they sent from).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from daw_bridge import messages
from sidecar.errors import QueryError
from sidecar.index.store import Store

log = logging.getLogger(__name__)
DEFAULT_PORT = 9310
MAX_LIMIT = 200


def _port_ok(ports) -> bool:
    return all(_is_int(p) and 0 < p < 65536 for p in ports)


def _reply_to(client: tuple[str, int], ports) -> tuple[str, int]:
    return (client[0], ports[0]) if ports else client


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)    # OSC T/F arrive as bool


class Bridge:
    #: most clients whose replies go to another port; the oldest redirect is dropped past this
    MAX_REPLY_PORTS = 256

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = DEFAULT_PORT, expand=None):
        self.store = store
        self.expand = expand
        # (host, port) of a requester -> the port its replies go to
        self.reply_ports: OrderedDict[tuple[str, int], int] = OrderedDict()
        dispatcher = Dispatcher(strict_timing=False)    # a far-future bundle must not stall the server
        dispatcher.map("/sfx/ping", self.on_ping, needs_reply_address=True)
        dispatcher.map("/sfx/search", self.on_search, needs_reply_address=True)
        dispatcher.map("/sfx/reply_port", self.on_reply_port, needs_reply_address=True)
        dispatcher.set_default_handler(self.on_unknown, needs_reply_address=True)
        self.server = BlockingOSCUDPServer((host, port), dispatcher)
        self.host, self.port = self.server.server_address[:2]
        self._lock = threading.Lock()
        self._ports_lock = threading.Lock()

    def _send(self, client: tuple[str, int], dgram: bytes) -> None:
        """To the requester, or to the port it named with /sfx/reply_port."""
        key = (client[0], client[1])
        with self._ports_lock:
            port = self.reply_ports.get(key, client[1])
        self.server.socket.sendto(dgram, (client[0], port))

    def _send_direct(self, client: tuple[str, int], dgram: bytes) -> None:
        """To the requester's own address and port, whatever it asked for."""
        self.server.socket.sendto(dgram, (client[0], client[1]))

    def on_ping(self, client, address, *args):
        """/sfx/ping [id:i] [reply_port:i] -> /sfx/pong id"""
        if len(args) > 2 or not all(_is_int(a) for a in args) or not _port_ok(args[1:]):
            self._send(client, messages.error(0, "usage: /sfx/ping [id:i] [reply_port:i]"))
            return
        self._send(_reply_to(client, args[1:]), messages.message("/sfx/pong", args[0] if args else 0))

    def on_reply_port(self, client, address, *args):
        """/sfx/reply_port port:i -> /sfx/ok; later replies to this (host, port) go to `port`; 0 resets"""
        if len(args) != 1 or not _is_int(args[0]) or not 0 <= args[0] < 65536:
            self._send_direct(client, messages.error(0, "/sfx/reply_port takes one int port (0..65535)"))
            return
        key = (client[0], client[1])
        with self._ports_lock:
            self.reply_ports.pop(key, None)
            if args[0]:
                self.reply_ports[key] = args[0]
                while len(self.reply_ports) > self.MAX_REPLY_PORTS:
                    self.reply_ports.popitem(last=False)
        self._send(client, messages.message("/sfx/ok", "/sfx/reply_port"))

    def on_search(self, client, address, *args):
        """/sfx/search id:i query:s [limit:i] -> /sfx/result ... then /sfx/done id count"""
        if not args or not _is_int(args[0]):
            self._send(client, messages.error(0, "usage: /sfx/search id:i query:s [limit:i]"))
            return
        request_id = args[0]
        if len(args) < 2 or len(args) > 4:
            self._send(client, messages.error(request_id, "usage: /sfx/search id:i query:s [limit:i] [reply_port:i]"))
            return
        if len(args) == 4:
            # a reply port named in the request itself: for senders that cannot listen (oscsend)
            if not _is_int(args[3]) or not _port_ok(args[3:]):
                self._send(client, messages.error(request_id, "reply_port must be an int in 1..65535"))
                return
            client = _reply_to(client, args[3:])
        if not isinstance(args[1], str):
            self._send(client, messages.error(request_id, "query must be a string"))
            return
        if len(args) > 2 and not _is_int(args[2]):
            self._send(client, messages.error(request_id, "limit must be an int"))
            return
        query = args[1]
        limit = max(1, min(args[2] if len(args) > 2 else 20, MAX_LIMIT))
        try:
            with self._lock:
                hits = self.store.search(query, limit=limit, expand=self.expand)
        except QueryError as exc:
            self._send(client, messages.error(request_id, str(exc)))
            return
        sent = 0
        try:
            for rank, hit in enumerate(hits, 1):
                try:
                    dgram = messages.result(request_id, rank, hit)
                except messages.PathTooLong as exc:
                    self._send(client, messages.error(request_id, str(exc)))
                    continue
                except Exception as exc:                # one bad hit must not end the answer
                    log.exception("cannot send result %d of request %d", rank, request_id)
                    self._send(client, messages.error(request_id, f"result {rank}: {exc}"))
                    continue
                self._send(client, dgram)
                sent += 1
        finally:
            self._send(client, messages.message("/sfx/done", request_id, sent))

    def on_unknown(self, client, address, *args):
        log.warning("unknown OSC address %s from %s:%s", address, *client[:2])
        self._send(client, messages.error(0, f"unknown address {address}"))

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
