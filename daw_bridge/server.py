"""The OSC bridge: DAW scripts search the index over UDP (default 127.0.0.1:9310).

Replies come from the bridge's own socket, to the sender's address and port,
or to the port a client named with /sfx/reply_port (tools like liblo's oscsend
cannot hear replies on the port they sent from).
"""

from __future__ import annotations

import logging
import threading

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from daw_bridge import messages
from sidecar.errors import QueryError
from sidecar.index.store import Store

log = logging.getLogger(__name__)
DEFAULT_PORT = 9310
MAX_LIMIT = 200


class Bridge:
    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = DEFAULT_PORT, expand=None):
        self.store = store
        self.expand = expand
        self.reply_ports: dict[str, int] = {}
        dispatcher = Dispatcher(strict_timing=False)    # a far-future bundle must not stall the server
        dispatcher.map("/sfx/ping", self.on_ping, needs_reply_address=True)
        dispatcher.map("/sfx/search", self.on_search, needs_reply_address=True)
        dispatcher.map("/sfx/reply_port", self.on_reply_port, needs_reply_address=True)
        dispatcher.set_default_handler(self.on_unknown, needs_reply_address=True)
        self.server = BlockingOSCUDPServer((host, port), dispatcher)
        self.host, self.port = self.server.server_address[:2]
        self._lock = threading.Lock()

    def _send(self, client: tuple[str, int], dgram: bytes) -> None:
        host = client[0]
        self.server.socket.sendto(dgram, (host, self.reply_ports.get(host, client[1])))

    def on_ping(self, client, address, *args):
        request_id = args[0] if args and isinstance(args[0], int) else 0
        self._send(client, messages.message("/sfx/pong", request_id))

    def on_reply_port(self, client, address, *args):
        if len(args) == 1 and isinstance(args[0], int) and 0 < args[0] < 65536:
            self.reply_ports[client[0]] = args[0]
            self._send(client, messages.message("/sfx/ok", "/sfx/reply_port"))
        else:
            self._send(client, messages.message("/sfx/error", 0, "/sfx/reply_port takes one int port"))

    def on_search(self, client, address, *args):
        """/sfx/search id:i query:s [limit:i] -> /sfx/result ... then /sfx/done id count"""
        if len(args) < 2 or not isinstance(args[0], int) or not isinstance(args[1], str):
            self._send(client, messages.message("/sfx/error", 0, "usage: /sfx/search id:i query:s [limit:i]"))
            return
        request_id, query = args[0], args[1]
        limit = args[2] if len(args) > 2 and isinstance(args[2], int) else 20
        limit = max(1, min(limit, MAX_LIMIT))
        try:
            with self._lock:
                hits = self.store.search(query, limit=limit, expand=self.expand)
        except QueryError as exc:
            self._send(client, messages.message("/sfx/error", request_id, str(exc)))
            return
        for rank, hit in enumerate(hits, 1):
            self._send(client, messages.result(request_id, rank, hit))
        self._send(client, messages.message("/sfx/done", request_id, len(hits)))

    def on_unknown(self, client, address, *args):
        log.warning("unknown OSC address %s from %s:%s", address, *client[:2])
        self._send(client, messages.message("/sfx/error", 0, f"unknown address {address}"))

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
