"""`sidecar serve-max`: the MAX Audio Classifier's HTTP API, answered by the embedded AudioSet engine.

It keeps MAX's routes, request fields, JSON shapes, status codes and error
messages, so the MAX client is tested over real HTTP and a studio without
Docker can point MAX-speaking tools at it.
"""

from __future__ import annotations

import io
import json
import logging
import threading

import numpy as np
import soundfile as sf
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sidecar.audio.decode import Audio
from sidecar.audio.pcm16 import prepare
from sidecar.classify import max_api

log = logging.getLogger(__name__)
MAX_UPLOAD = 200 * 1024 * 1024


def _json(doc: dict, status: int = 200) -> Response:
    return Response(json.dumps(doc), status=status, mimetype="application/json")


class MaxApp:
    """A WSGI application with MAX's routes over the embedded engine."""

    def __init__(self, engine=None):
        if engine is None:
            from sidecar.classify.audioset import AudiosetEngine
            engine = AudiosetEngine()
        self.engine = engine
        self.urls = Map([
            Rule(max_api.METADATA, endpoint="metadata", methods=["GET"]),
            Rule(max_api.PREDICT, endpoint="predict", methods=["POST"]),
            Rule(max_api.SWAGGER, endpoint="swagger", methods=["GET"]),
            Rule("/", endpoint="root", methods=["GET"]),
        ])
        self.requests_served = 0
        self._count_lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = MAX_UPLOAD
        try:
            endpoint, _ = self.urls.bind_to_environ(environ).match()
            response = getattr(self, "on_" + endpoint)(request)
        except RequestEntityTooLarge:
            response = _json({"status": "error", "message": "Uploaded file too large"}, 413)
        except NotFound:
            response = _json({"message": "The requested URL was not found on the server."}, 404)
        except HTTPException as exc:
            response = _json({"message": exc.description}, exc.code or 500)
        with self._count_lock:
            self.requests_served += 1
        return response(environ, start_response)

    def on_root(self, request):
        return _json({"title": "MAX Audio Classifier", "docs": max_api.SWAGGER})

    def on_metadata(self, request):
        describe = getattr(self.engine, "describe_model", None)
        return _json(max_api.metadata_doc(describe() if describe else {"model": self.engine.model_name}))

    def on_swagger(self, request):
        return _json(max_api.swagger_doc())

    def on_predict(self, request):
        upload = request.files.get("audio")
        if upload is None:
            return _json({"errors": {"audio": "signed 16-bit PCM WAV audio file Missing required "
                                              "parameter in an uploaded file"},
                          "message": "Input payload validation failed"}, 400)
        if not max_api.WAV_MIMETYPE.match(upload.mimetype or ""):
            return _json(max_api.invalid_type(upload.mimetype), 400)
        raw = request.values.get("start_time", "0") or "0"
        try:
            start = float(raw)
        except ValueError:
            return _json({"errors": {"start_time": f"The number of seconds into the audio file the "
                                                   f"prediction should start at. could not convert "
                                                   f"string to float: '{raw}'"},
                          "message": "Input payload validation failed"}, 400)
        try:
            with sf.SoundFile(io.BytesIO(upload.read())) as f:
                if f.format != "WAV" or f.subtype != "PCM_16":
                    raise ValueError(f"{f.format}/{f.subtype}")
                data = f.read(dtype="float32", always_2d=True)
                rate = f.samplerate
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            return _json({"status": "error",
                          "message": f"Invalid audio: a signed 16-bit PCM WAV file is required ({exc})"}, 400)
        duration = len(data) / rate if rate else 0.0
        if start < 0 or start >= duration:
            return _json(max_api.INVALID_START, 400)
        clip = self._clip(Audio(data, rate, 16, "PCM_16"), start)
        top = getattr(self.engine, "top_labels", None)
        if top is not None:     # MAX answers its five best whatever their probability
            labels = top(clip.samples[:, 0], max_api.TOP)
        else:
            labels = self.engine.classify(clip).labels[: max_api.TOP]
        preds = [{"label_id": l.mid, "label": l.label, "probability": l.probability} for l in labels]
        wanted = max_api.parse_filter(request.values.get("filter"))
        if wanted:
            preds = [p for p in preds if p["label"] in wanted]
        return _json({"status": "ok", "predictions": preds})

    @staticmethod
    def _clip(audio: Audio, start: float) -> Audio:
        """Like MAX: mono, 16 kHz, 10 s from start, a shorter clip repeated to fill them."""
        mono = prepare(audio, rate=max_api.RATE, mono=True)
        a = int(start * mono.samplerate)
        need = int(max_api.CLIP_SECONDS * mono.samplerate)
        x = mono.samples[a: a + need]
        if 0 < len(x) < need:
            x = np.tile(x, (-(-need // len(x)), 1))[:need]
        return Audio(x, mono.samplerate, 16, "PCM_16")


class MaxServer:
    """serve-max in a thread (tests) or in the foreground (the command)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5000, app: MaxApp | None = None):
        self.app = app or MaxApp()
        self.httpd = make_server(host, port, self.app, threaded=True)
        self.host, self.port = host, self.httpd.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def start(self) -> "MaxServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
