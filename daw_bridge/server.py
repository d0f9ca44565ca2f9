"""The OSC bridge: DAW scripts search, read and tag the index over UDP (default 127.0.0.1:9310).

Replies come from the bridge's own socket, to the sender's address and port,
or to the port a client named with /sfx/reply_port (tools like liblo's oscsend
cannot hear replies on the port they sent from).

One thread reads datagrams and answers the quick requests (ping, search, info);
edits and similarity searches go to one worker thread, so a slow write never
holds up a search. No datagram, however malformed, stops the bridge or prints
a traceback: each gets one log line (rate limited) and, where the address space
says so, an /sfx/error. `start()` and `shutdown()` run it inside another program.
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from pythonosc.osc_message import OscMessage

from daw_bridge import messages
from daw_bridge.access import ClientFilter, OutsideRoots, Roots, check_bind, parse_networks
from sidecar.errors import QueryError, SidecarError
from sidecar.index.interfaces import IndexedFile

log = logging.getLogger(__name__)
DEFAULT_PORT = 9310
MAX_LIMIT = 200
#: a request larger than this is refused whole (python-osc and LuaSocket read 8192 at most)
MAX_REQUEST = 8192
MAX_BUNDLE_DEPTH = 4
MAX_PENDING_JOBS = 64


def _port_ok(ports) -> bool:
    return all(_is_int(p) and 0 < p < 65536 for p in ports)


def _reply_to(client: tuple[str, int], ports) -> tuple[str, int]:
    return (client[0], ports[0]) if ports else client


def _is_int(value) -> bool:
    """An OSC int32 (T/F arrive as bool, and an int64 `h` cannot be sent back as an id)."""
    return isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31


class Malformed(ValueError):
    """A datagram that is not OSC this bridge can read."""


def osc_messages(data: bytes, depth: int = 0) -> list[OscMessage]:
    """The messages of a datagram, bundles opened (their time tags ignored: answers go at once)."""
    if data.startswith(b"#bundle\x00"):
        if depth >= MAX_BUNDLE_DEPTH:
            raise Malformed(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
        if len(data) < 16:
            raise Malformed("bundle shorter than its header")
        out, i = [], 16
        while i < len(data):
            if i + 4 > len(data):
                raise Malformed("bundle element size cut off")
            (size,) = struct.unpack(">i", data[i:i + 4])
            if size <= 0 or size % 4 or i + 4 + size > len(data):
                raise Malformed(f"bundle element of {size} bytes does not fit the datagram")
            out += osc_messages(data[i + 4:i + 4 + size], depth + 1)
            i += 4 + size
        return out
    if not data.startswith(b"/"):
        raise Malformed("not an OSC message or bundle")
    _check_type_tags(data)
    try:
        return [OscMessage(data)]
    except Exception as exc:        # python-osc raises ParseError, UnicodeDecodeError, struct.error...
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Malformed(f"cannot parse: {text}"[:200]) from None


#: the type tags python-osc reads; any other is refused here rather than skipped with a warning
KNOWN_TAGS = frozenset(b"ifsbhdtTFNmr[]")


def _check_type_tags(data: bytes) -> None:
    end = data.find(b"\x00")
    if end < 0:
        raise Malformed("address not terminated")
    start = (end // 4 + 1) * 4
    if data[start:start + 1] != b",":
        return                          # no type tags: a message without arguments
    stop = data.find(b"\x00", start)
    if stop < 0:
        raise Malformed("type tags not terminated")
    unknown = set(data[start + 1:stop]) - KNOWN_TAGS
    if unknown:
        raise Malformed(f"unknown type tag {chr(min(unknown))!r}")


class RateLimitedLog:
    """At most `burst` lines per `period` seconds; the lines held back are counted in the next one."""

    def __init__(self, logger: logging.Logger, burst: int = 10, period: float = 10.0):
        self.logger, self.burst, self.period = logger, burst, period
        self.window_start = 0.0
        self.in_window = 0
        self.suppressed = 0
        self._lock = threading.Lock()

    def warning(self, text: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self.window_start >= self.period:
                self.window_start, self.in_window = now, 0
            if self.in_window >= self.burst:
                self.suppressed += 1
                return False
            self.in_window += 1
            held, self.suppressed = self.suppressed, 0
        if held:
            text += f" ({held} similar lines held back)"
        self.logger.warning("%s", text)
        return True


class Services(Protocol):
    """What the bridge asks of the application (sidecar.app.Services): search, a file's row, a
    person's edit (None: /sfx/tag is not answered), sounds like (None: /sfx/similar is not) and
    search by meaning (None or absent: /sfx/meaning is not; its answer has .hits and .notices)."""

    edit: Callable[[str, str, str], IndexedFile] | None
    similar: Callable[[str, int], list] | None
    meaning: Callable[[str, int], object] | None

    def search(self, query: str, limit: int) -> list[IndexedFile]: ...
    def get(self, path: str) -> IndexedFile | None: ...
    def close(self) -> None: ...


class Bridge:
    #: most clients whose replies go to another port; the oldest redirect is dropped past this
    MAX_REPLY_PORTS = 256

    def __init__(self, services: Services, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *,
                 roots=(), allow=()):
        """services: the application's search, rows, edits and sounds like (closed with the bridge);
        roots: library roots that /sfx/info and /sfx/tag may name; allow: client networks answered
        besides loopback (required off loopback)."""
        networks = parse_networks(allow)
        check_bind(host, networks)
        self.services = services
        self.clients = ClientFilter(networks)
        self.roots = Roots(roots)
        self.log = RateLimitedLog(log)
        # (host, port) of a requester -> the port its replies go to
        self.reply_ports: OrderedDict[tuple[str, int], int] = OrderedDict()
        self._ports_lock = threading.Lock()
        self.handlers: dict[str, Callable] = {
            "/sfx/ping": self.on_ping, "/sfx/search": self.on_search, "/sfx/reply_port": self.on_reply_port,
            "/sfx/info": self.on_info, "/sfx/addresses": self.on_addresses,
        }
        if services.edit is not None:
            self.handlers["/sfx/tag"] = self.on_tag
        if services.similar is not None:
            self.handlers["/sfx/similar"] = self.on_similar
        if getattr(services, "meaning", None) is not None:
            self.handlers["/sfx/meaning"] = self.on_meaning
        #: answered on the worker thread, one at a time (the text model loads on the first meaning query)
        self.slow = {"/sfx/tag", "/sfx/similar", "/sfx/meaning"}
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        try:
            # room for a burst of requests while one is answered
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.socket.bind((host, port))
        except OSError:
            self.socket.close()
            raise
        self.host, self.port = self.socket.getsockname()[:2]
        self._jobs: queue.Queue = queue.Queue(MAX_PENDING_JOBS)
        self._stop = threading.Event()
        self._serving, self._stopped = threading.Event(), threading.Event()
        self._threads: list[threading.Thread] = []

    # -- running ------------------------------------------------------------

    def serve_forever(self) -> None:
        """Answer until shutdown(); the worker for edits runs beside this thread."""
        worker = threading.Thread(target=self._work, name="daw-bridge-worker", daemon=True)
        worker.start()
        self._serving.set()
        try:
            while not self._stop.is_set():
                try:
                    ready, _, _ = select.select([self.socket], [], [], 0.2)
                    if not ready:
                        continue
                    data, client = self.socket.recvfrom(65536)
                except (OSError, ValueError):       # ValueError: the socket was closed meanwhile
                    if self._stop.is_set() or self.socket.fileno() < 0:
                        break
                    continue
                self.handle_datagram(data, client)
        finally:
            self._stop.set()
            worker.join(timeout=5)
            self._serving.clear()
            self._stopped.set()

    def start(self) -> "Bridge":
        """Serve on a background thread (for a program that hosts the bridge, like the daemon)."""
        thread = threading.Thread(target=self.serve_forever, name="daw-bridge", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def shutdown(self) -> None:
        """Stop serving (whichever thread runs serve_forever) and close the socket."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._serving.is_set():
            self._stopped.wait(timeout=5)
        self.socket.close()
        self.services.close()

    # -- one datagram ---------------------------------------------------------

    def handle_datagram(self, data: bytes, client: tuple) -> None:
        """Dispatch every message of one datagram; nothing raised here leaves this method."""
        try:
            self._dispatch(data, (client[0], client[1]))
        except Exception as exc:        # a bug here must cost one datagram, never the bridge
            self.log.warning(f"datagram from {client[0]}:{client[1]} failed: {type(exc).__name__}: {exc}")

    def _dispatch(self, data: bytes, client: tuple[str, int]) -> None:
        if not self.clients.allows(client[0]):
            self.log.warning(f"datagram from {client[0]}:{client[1]} dropped: not a loopback address "
                             f"nor in osc.allow")
            return
        try:
            if len(data) > MAX_REQUEST:
                raise Malformed(f"datagram of {len(data)} bytes is larger than {MAX_REQUEST}")
            msgs = osc_messages(data)
        except Malformed as exc:
            self.log.warning(f"malformed datagram ({len(data)} bytes) from {client[0]}:{client[1]}: {exc}")
            self._reply(self._send, client, messages.error(0, f"malformed OSC datagram: {exc}"))
            return
        for msg in msgs:
            handler = self.handlers.get(msg.address)
            if handler is None:
                self.log.warning(f"unknown OSC address {msg.address[:200]} from {client[0]}:{client[1]}")
                self._reply(self._send, client, messages.error(0, f"unknown address {msg.address}"))
                continue
            if msg.address in self.slow:
                try:
                    self._jobs.put_nowait((handler, client, msg))
                except queue.Full:
                    self.log.warning(f"{msg.address} from {client[0]}:{client[1]} refused: "
                                     f"{MAX_PENDING_JOBS} requests waiting")
                    request_id = msg.params[0] if msg.params and _is_int(msg.params[0]) else 0
                    self._reply(self._send, client, messages.error(request_id, "busy: too many requests waiting"))
                continue
            self._run(handler, client, msg)

    def _run(self, handler, client, msg) -> None:
        try:
            handler(client, msg.address, *msg.params)
        except Exception as exc:        # a bug answering one request must not stop the bridge
            request_id = msg.params[0] if msg.params and _is_int(msg.params[0]) else 0
            self.log.warning(f"{msg.address} from {client[0]}:{client[1]} failed: {type(exc).__name__}: {exc}")
            try:
                self._reply(self._send, client, messages.error(request_id, f"internal error: {type(exc).__name__}"))
            except Exception:
                pass

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                handler, client, msg = self._jobs.get(timeout=0.2)
            except queue.Empty:
                continue
            self._run(handler, client, msg)

    def _reply(self, send, client, dgram: bytes) -> None:
        try:
            send(client, dgram)
        except OSError as exc:
            self.log.warning(f"cannot reply to {client[0]}:{client[1]}: {exc.strerror or exc}")

    def _send(self, client: tuple[str, int], dgram: bytes) -> None:
        """To the requester, or to the port it named with /sfx/reply_port."""
        key = (client[0], client[1])
        with self._ports_lock:
            port = self.reply_ports.get(key, client[1])
        self.socket.sendto(dgram, (client[0], port))

    def _send_direct(self, client: tuple[str, int], dgram: bytes) -> None:
        """To the requester's own address and port, whatever it asked for."""
        self.socket.sendto(dgram, (client[0], client[1]))

    # -- the addresses -------------------------------------------------------------

    def on_ping(self, client, address, *args):
        """/sfx/ping [id:i] [reply_port:i] -> /sfx/pong id"""
        if len(args) > 2 or not all(_is_int(a) for a in args) or not _port_ok(args[1:]):
            self._send(client, messages.error(0, "usage: /sfx/ping [id:i] [reply_port:i]"))
            return
        self._send(_reply_to(client, args[1:]), messages.message("/sfx/pong", args[0] if args else 0))

    def on_addresses(self, client, address, *args):
        """/sfx/addresses [id:i] -> /sfx/addresses id "space-separated addresses answered" """
        if len(args) > 1 or not all(_is_int(a) for a in args):
            self._send(client, messages.error(0, "usage: /sfx/addresses [id:i]"))
            return
        self._send(client, messages.message("/sfx/addresses", args[0] if args else 0,
                                            " ".join(sorted(self.handlers))))

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

    def _request(self, client, args, usage: str, kinds: str, optional: int):
        """(request id, reply address, arguments) after the checks every request shares, or None when
        an /sfx/error was sent. kinds: one letter per argument after the id (s string, i int); the
        last `optional` may be left out; an int after all of them is a reply port for this request."""
        if not args or not _is_int(args[0]):
            self._send(client, messages.error(0, f"usage: {usage}"))
            return None
        request_id, rest = args[0], list(args[1:])
        if not len(kinds) - optional <= len(rest) <= len(kinds) + 1:
            self._send(client, messages.error(request_id, f"usage: {usage}"))
            return None
        if len(rest) == len(kinds) + 1:
            # a reply port named in the request itself: for senders that cannot listen (oscsend)
            if not _port_ok(rest[-1:]):
                self._send(client, messages.error(request_id, "reply_port must be an int in 1..65535"))
                return None
            client = _reply_to(client, rest[-1:])
            rest = rest[:-1]
        return request_id, client, rest

    def _text_and_limit(self, client, request_id, rest, what: str) -> tuple[str, int] | None:
        """The text and the limit (default 20, at most MAX_LIMIT) of a search request; None after
        an error reply."""
        if not isinstance(rest[0], str):
            self._send(client, messages.error(request_id, f"{what} must be a string"))
            return None
        if len(rest) > 1 and not _is_int(rest[1]):
            self._send(client, messages.error(request_id, "limit must be an int"))
            return None
        return rest[0], max(1, min(rest[1] if len(rest) > 1 else 20, MAX_LIMIT))

    def on_search(self, client, address, *args):
        """/sfx/search id:i query:s [limit:i] [reply_port:i] -> /sfx/result ... then /sfx/done id count"""
        checked = self._request(client, args, "/sfx/search id:i query:s [limit:i] [reply_port:i]", "si", 1)
        if checked is None:
            return
        request_id, client, rest = checked
        asked = self._text_and_limit(client, request_id, rest, "query")
        if asked is None:
            return
        try:
            hits = self.services.search(*asked)
        except QueryError as exc:
            self._send(client, messages.error(request_id, str(exc)))
            return
        self._send_hits(client, request_id, hits)

    def _send_hits(self, client, request_id: int, hits) -> None:
        sent = 0
        try:
            for rank, hit in enumerate(hits, 1):
                try:
                    dgram = messages.result(request_id, rank, hit)
                except messages.PathTooLong as exc:
                    self._send(client, messages.error(request_id, str(exc)))
                    continue
                except Exception as exc:                # one bad hit must not end the answer
                    self.log.warning(f"cannot send result {rank} of request {request_id}: {exc}")
                    self._send(client, messages.error(request_id, f"result {rank}: {exc}"))
                    continue
                self._send(client, dgram)
                sent += 1
        finally:
            self._send(client, messages.message("/sfx/done", request_id, sent))

    def _path(self, client, request_id, path) -> str | None:
        """The request's path when it lies inside a library root; else an /sfx/error is sent."""
        try:
            return self.roots.check(path)
        except OutsideRoots as exc:
            self.log.warning(f"refused path from {client[0]}:{client[1]}: {exc}")
            self._send(client, messages.error(request_id, str(exc)))
            return None

    def on_info(self, client, address, *args):
        """/sfx/info id:i path:s [reply_port:i] -> /sfx/field id name value source ..., /sfx/done id count"""
        checked = self._request(client, args, "/sfx/info id:i path:s [reply_port:i]", "s", 0)
        if checked is None:
            return
        request_id, client, (path,) = checked
        path = self._path(client, request_id, path)
        if path is None:
            return
        row = self.services.get(path)
        if row is None:
            self._send(client, messages.error(request_id, f"not in the index: {path}"))
            return
        fields = messages.info_fields(row)
        for name, value, source in fields:
            self._send(client, messages.field(request_id, name, value, source))
        self._send(client, messages.message("/sfx/done", request_id, len(fields)))

    def on_tag(self, client, address, *args):
        """/sfx/tag id:i path:s field:s value:s [reply_port:i] -> /sfx/tagged id field value"""
        from sidecar.pipeline.edit import EditError, field_value
        checked = self._request(client, args, "/sfx/tag id:i path:s field:s value:s [reply_port:i]", "sss", 0)
        if checked is None:
            return
        request_id, client, (path, name, value) = checked
        if not isinstance(name, str) or not isinstance(value, str):
            self._send(client, messages.error(request_id, "field and value must be strings"))
            return
        path = self._path(client, request_id, path)
        if path is None:
            return
        try:
            row = self.services.edit(path, name, value)
        except EditError as exc:
            self._send(client, messages.error(request_id, str(exc)))
            return
        except SidecarError as exc:     # FileError: the safe writers left the file as it was
            self.log.warning(f"/sfx/tag {path} {name}: {exc}")
            self._send(client, messages.error(request_id, str(exc)))
            return
        log.info("%s: %s set by a person over OSC (%s:%s)", path, name, *client[:2])
        shown = "Keywords" if name.startswith("Keywords") else name
        self._send(client, messages.field(request_id, shown, field_value(row.record, name), "person",
                                          address="/sfx/tagged"))

    def on_meaning(self, client, address, *args):
        """/sfx/meaning id:i text:s [limit:i] [reply_port:i] -> /sfx/notice ..., /sfx/result ..., /sfx/done"""
        checked = self._request(client, args, "/sfx/meaning id:i text:s [limit:i] [reply_port:i]", "si", 1)
        if checked is None:
            return
        request_id, client, rest = checked
        asked = self._text_and_limit(client, request_id, rest, "text")
        if asked is None:
            return
        try:
            answer = self.services.meaning(*asked)
        except SidecarError as exc:     # a bad query, or the text model missing: one line
            self._send(client, messages.error(request_id, str(exc)))
            return
        for notice in answer.notices:
            self._send(client, messages.message("/sfx/notice", request_id, messages.cut_utf8(notice)))
        self._send_hits(client, request_id, answer.hits)

    def on_similar(self, client, address, *args):
        """/sfx/similar id:i path:s [limit:i] [reply_port:i] -> /sfx/result ... then /sfx/done id count"""
        checked = self._request(client, args, "/sfx/similar id:i path:s [limit:i] [reply_port:i]", "si", 1)
        if checked is None:
            return
        request_id, client, rest = checked
        if len(rest) > 1 and not _is_int(rest[1]):
            self._send(client, messages.error(request_id, "limit must be an int"))
            return
        path = self._path(client, request_id, rest[0])
        if path is None:
            return
        limit = max(1, min(rest[1] if len(rest) > 1 else 20, MAX_LIMIT))
        try:
            hits = self.services.similar(path, limit)
        except SidecarError as exc:
            self._send(client, messages.error(request_id, str(exc)))
            return
        self._send_hits(client, request_id, hits)


def bridge_for(app, *, host: str | None = None, port: int | None = None, roots=None,
               similar: bool = True) -> Bridge:
    """The bridge over a sidecar.app.App, as its configuration describes it ([osc] host, port,
    allow; [[roots]]); host, port and roots given here win. similar=False: no /sfx/similar.
    ConfigError (exit 2) for an address off loopback without an allow-list; OSError when the
    port cannot be had. `sidecar daemon` is handed this function and hosts the bridge on a
    thread: `bridge_for(app).start()`, then `shutdown()`."""
    osc = app.config.osc
    services = app.bridge_services(similar=similar)
    try:
        return Bridge(services, host or osc.host, osc.port if port is None else port,
                      roots=[r.path for r in app.config.roots] if roots is None else list(roots),
                      allow=osc.allow)
    except BaseException:
        services.close()
        raise
