"""The web page's HTTP server: werkzeug's WSGI tools and its threaded server.

werkzeug is already a dependency (serve-max) and gives what this needs and no more: routing,
request parsing, cookies, and files sent with HTTP ranges (206 Partial Content, so a long file
plays at once). One person's browser asks a few requests a second; a thread a request is enough.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import threading
from importlib import resources

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.utils import redirect, send_file
from werkzeug.wrappers import Request, Response

from sidecar.web.access import TOKEN_COOKIE, Guard, Refused
from sidecar.web.api import ApiError, WebApi

log = logging.getLogger(__name__)
DEFAULT_PORT = 9320
MAX_BODY = 1 << 20
STATIC = ("index.html", "app.js", "app.css")
AUDIO_TYPES = {"wav": "audio/wav", "rf64": "audio/wav", "aiff": "audio/aiff", "flac": "audio/flac",
               "mp3": "audio/mpeg", "ogg": "audio/ogg", "opus": "audio/ogg", "m4a": "audio/mp4"}
#: the page runs its own script and style only; audio, pictures and data come from this server
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "media-src 'self'; connect-src 'self'; form-action 'none'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

#: every route served: (rule, endpoint, methods); schemas/web-api.json documents each /api one
ROUTES = [
    ("/", "page", ["GET"]),
    ("/static/<name>", "static", ["GET"]),
    ("/favicon.ico", "favicon", ["GET"]),
    ("/api/search", "search", ["GET"]),
    ("/api/files/<int:file_id>", "file", ["GET"]),
    ("/api/files/<int:file_id>/audio", "audio", ["GET"]),
    ("/api/files/<int:file_id>/picture", "picture", ["GET"]),
    ("/api/files/<int:file_id>/fields", "fields", ["POST"]),
    ("/api/files/<int:file_id>/accept", "accept", ["POST"]),
    ("/api/review", "review", ["GET"]),
    ("/api/batch", "batch", ["POST"]),
    ("/api/similar/<int:file_id>", "similar", ["GET"]),
    ("/api/undo/<int:file_id>", "undo", ["POST"]),
    ("/api/catids", "catids", ["GET"]),
    ("/api/status", "status", ["GET"]),
    ("/api/learn", "learn", ["POST"]),
]


def _json(doc, status: int = 200) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False), status=status, mimetype="application/json")


class WebApp:
    """The WSGI application: the page, its assets and /api."""

    def __init__(self, app, roots, *, host: str = "127.0.0.1", allow=(), token: str = "",
                 learn=None, status=None):
        """learn: runs `sidecar learn` where it belongs (the daemon's scheduler) and returns its
        report; status: more of the daemon's state for /api/status. None: answered here."""
        self.guard = Guard(host, allow, token)
        self.api = WebApi(app, roots)
        self.app = app
        self.learn_fn = learn
        self.status_fn = status
        self.urls = Map([Rule(rule, endpoint=ep, methods=methods) for rule, ep, methods in ROUTES])

    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = MAX_BODY
        response = self.dispatch(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        try:
            self.guard.check_client(request)
            endpoint, args = self.urls.bind_to_environ(request.environ).match()
            if endpoint == "page":
                return self.page(request)
            if endpoint == "favicon":
                return Response(status=204)
            if endpoint == "static":
                return self.static(args["name"])
            if request.method == "POST":
                self.guard.check_change(request)
            else:
                self.guard.check_read(request)
            return getattr(self, "on_" + endpoint)(request, **args)
        except Refused as exc:
            log.warning("refused %s %s from %s: %s", request.method, request.path, request.remote_addr, exc.reason)
            return _json({"error": exc.reason}, exc.status)
        except ApiError as exc:
            return _json({"error": exc.reason}, exc.status)
        except HTTPException as exc:
            return _json({"error": exc.description or exc.name}, exc.code or 500)
        except Exception as exc:      # a bug answering one request must not stop the server
            log.exception("%s %s failed", request.method, request.path)
            return _json({"error": f"internal error: {type(exc).__name__}"}, 500)

    # -- the page ---------------------------------------------------------------------
    def page(self, request: Request) -> Response:
        given = request.args.get("token")
        if given is not None:
            # the token of a link becomes a cookie the page's requests carry; the link loses it
            if not self.guard.token_matches(given):
                raise Refused(401, "wrong token")
            response = redirect("/", 303)
            response.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="Strict", path="/")
            return response
        return self.static("index.html")

    def static(self, name: str) -> Response:
        if name not in STATIC:
            raise NotFound()
        data = resources.files("sidecar.web").joinpath("static", name).read_bytes()
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = Response(data, mimetype=kind)
        response.headers["Cache-Control"] = "no-cache"
        return response

    # -- /api ----------------------------------------------------------------------------
    def on_search(self, request, **_):
        a = request.args
        meaning = a.get("meaning", "") in ("1", "true")
        return _json(self.api.search(a.get("q", ""), a.get("limit"), a.get("offset"),
                                     a.get("sort", "relevance"), meaning))

    def on_file(self, request, file_id):
        return _json(self.api.file(file_id))

    def on_audio(self, request, file_id):
        row = self.api.row(file_id)
        kind = AUDIO_TYPES.get(row.format) or mimetypes.guess_type(row.path)[0] or "application/octet-stream"
        try:
            response = send_file(row.path, request.environ, mimetype=kind, conditional=True,
                                 max_age=0, etag=True)
        except OSError as exc:
            raise ApiError(410, f"{row.path}: {exc.strerror or exc}") from None
        response.headers["Content-Disposition"] = "inline"
        return response

    def on_picture(self, request, file_id):
        from sidecar.web.pictures import picture
        row = self.api.row(file_id)
        kind = request.args.get("kind", "wave")
        try:
            data = picture(self.api.store, row, kind)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        except OSError as exc:
            raise ApiError(410, f"{row.path}: {exc.strerror or exc}") from None
        response = Response(data, mimetype="image/png")
        response.headers["Cache-Control"] = "private, max-age=86400"
        return response

    def on_review(self, request):
        return _json(self.api.review(request.args.get("limit")))

    def on_similar(self, request, file_id):
        return _json(self.api.similar(file_id, request.args.get("limit")))

    def on_catids(self, request):
        return _json({"catids": self.api.catids()})

    def on_fields(self, request, file_id):
        return _json(self.api.set_fields(file_id, _body(request)))

    def on_accept(self, request, file_id):
        body = _body(request)
        return _json(self.api.accept(file_id, body.get("fields") if isinstance(body, dict) else None))

    def on_batch(self, request):
        return _json(self.api.batch(_body(request)))

    def on_undo(self, request, file_id):
        return _json(self.api.undo(file_id))

    def on_status(self, request):
        from sidecar.web.status import status
        doc = status(self.api.store, self.app)
        if self.status_fn is not None:
            doc.update(self.status_fn())
        return _json(doc)

    def on_learn(self, request):
        from sidecar.errors import SidecarError
        from sidecar.web.status import run_learn
        if self.learn_fn is None:
            return _json(run_learn(self.app))
        try:
            return _json(self.learn_fn())
        except SidecarError as exc:             # too little to learn from, no network installed
            raise ApiError(409, str(exc)) from None
        except TimeoutError:
            raise ApiError(504, "learning goes on in the daemon; its report comes in the status") from None

    def close(self) -> None:
        self.api.close()


def _body(request: Request):
    try:
        return json.loads(request.get_data(cache=False) or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not JSON") from None


class WebServer:
    """The page on a background thread (the daemon) or in the foreground (`sidecar web`)."""

    def __init__(self, web: WebApp, host: str, port: int):
        self.web = web
        self.http = make_server(host, port, web, threaded=True)
        self.host, self.port = host, self.http.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def serve_forever(self) -> None:
        self.http.serve_forever(poll_interval=0.2)

    def start(self) -> "WebServer":
        self._thread = threading.Thread(target=self.serve_forever, name="sidecar-web", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        self.http.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.http.server_close()
        self.web.close()


def web_for(app, *, host: str | None = None, port: int | None = None, roots=None, learn=None,
            status=None) -> WebServer:
    """The page over a sidecar.app.App as its configuration describes it ([web] host, port,
    allow, token; [[roots]]); host, port and roots given here win. ConfigError (exit 2) for an
    address off loopback without an allow-list and a token; OSError when the port cannot be had."""
    web = app.config.web
    host = host or web.host
    wsgi = WebApp(app, [r.path for r in app.config.roots] if roots is None else list(roots),
                  host=host, allow=web.allow, token=web.token, learn=learn, status=status)
    try:
        return WebServer(wsgi, host, web.port if port is None else port)
    except BaseException:
        wsgi.close()
        raise
