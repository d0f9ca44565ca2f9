"""Who may use the web page, and which requests may change files.

The OSC bridge's rules (daw_bridge.access): loopback clients always; on any other address the
client networks must be named (`[web] allow`), and here a token too (`[web] token`), which every
request then carries: the cookie set by opening `/?token=...`, or the X-Sidecar-Token header.

A request that changes files (POST) must also come from the page itself: a JSON body (a
cross-site HTML form cannot send one without a CORS preflight, which is never answered) and an
Origin naming this server. On loopback without a token, that same-origin check is the guard; the
Host header must then name a loopback address, so a DNS name rebound to 127.0.0.1 reaches nothing.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from daw_bridge.access import ClientFilter, is_loopback, parse_networks
from sidecar.errors import ConfigError

TOKEN_COOKIE = "sidecar_token"
TOKEN_HEADER = "X-Sidecar-Token"
#: a token shorter than this is guessed too easily
MIN_TOKEN = 16


class Refused(Exception):
    """A request this server does not answer: (HTTP status, the reason a person reads)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_bind(host: str, allow, token: str) -> list:
    """The networks answered besides loopback; ConfigError for an address off loopback without
    an allow-list or a token, as the OSC bridge refuses one without its allow-list."""
    networks = parse_networks(allow)
    if not is_loopback(host):
        if not networks:
            raise ConfigError(f"the web page binds to {host}, beyond loopback: name the client networks it "
                              f"may answer in the configuration ([web] allow = [\"192.168.1.0/24\"])")
        if len(token) < MIN_TOKEN:
            raise ConfigError(f"the web page binds to {host}, beyond loopback: set a token of at least "
                              f"{MIN_TOKEN} characters ([web] token = \"...\")")
    elif token and len(token) < MIN_TOKEN:
        raise ConfigError(f"web.token must be at least {MIN_TOKEN} characters")
    return networks


class Guard:
    def __init__(self, host: str, allow, token: str):
        self.loopback = is_loopback(host)
        self.clients = ClientFilter(check_bind(host, allow, token))
        self.token = token

    def check_client(self, request) -> None:
        if not self.clients.allows(request.remote_addr or ""):
            raise Refused(403, "not a loopback address nor in web.allow")
        if self.loopback and not is_loopback(_hostname(request.host)):
            raise Refused(421, f"the Host {request.host!r} is not this server's loopback address")

    def has_token(self, request) -> bool:
        """The request carries the token (always true when none is configured)."""
        if not self.token:
            return True
        given = request.headers.get(TOKEN_HEADER) or request.cookies.get(TOKEN_COOKIE) or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    def check_read(self, request) -> None:
        if not self.has_token(request):
            raise Refused(401, "the token is missing or wrong: open the page as /?token=...")

    def check_change(self, request) -> None:
        """A state-changing request: the token, a JSON body, and this server's own origin."""
        self.check_read(request)
        if request.mimetype != "application/json":
            raise Refused(415, "a change is a JSON body (Content-Type: application/json)")
        origin = request.headers.get("Origin")
        own = f"{request.scheme}://{request.host}"
        if origin is not None and origin != own:
            raise Refused(403, f"cross-site request refused (Origin {origin!r})")
        if origin is None and not self.token:
            # no token on loopback: the origin is the only proof the page sent it
            site = request.headers.get("Sec-Fetch-Site")
            if site != "same-origin":
                raise Refused(403, "a change must come from the page (Origin header missing)")

    def token_matches(self, given: str) -> bool:
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())


def _hostname(host: str) -> str:
    return urlsplit(f"//{host}").hostname or ""
