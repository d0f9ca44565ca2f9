"""The MAX Audio Classifier client: any supported audio in, AudioSet labels out.

MAX takes signed 16-bit PCM WAV and listens to 10 s after `start_time`, so a
longer file is classified window by window and the windows are aggregated
(and kept: a long ambience changes). Several containers are used round-robin;
one that stops answering is skipped for a while.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass

import requests

from sidecar.audio.decode import Audio
from sidecar.audio.pcm16 import prepare, wav_bytes
from sidecar.classify import max_api
from sidecar.classify.base import Classification, aggregate, window_starts
from sidecar.errors import ClassifierError
from sidecar.metadata.record import Label, Window

log = logging.getLogger(__name__)

NAME = "max"
#: above this length each window is sent as its own slice instead of the whole file
WHOLE_FILE_SECONDS = 60.0
HOW_TO_START = "start it with `docker compose up max`, or use --classifier embedded"


@dataclass
class _Endpoint:
    url: str
    down_until: float = 0.0


class MaxClient:
    """Classify through one or more MAX containers."""

    name = NAME

    def __init__(self, urls: list[str], *, timeout: float = 30.0, retries: int = 4,
                 backoff: float = 0.5, skip_seconds: float = 15.0, max_windows: int = 30):
        if not urls:
            raise ClassifierError("no MAX URL given (--max-url or SIDECAR_MAX_URL)")
        self.endpoints = [_Endpoint(u.rstrip("/")) for u in urls]
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.skip_seconds = skip_seconds
        self.max_windows = max_windows
        self._cycle = itertools.cycle(range(len(self.endpoints)))
        self._lock = threading.Lock()
        self._local = threading.local()
        self.model = ""

    # -- health -------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return self.model or "max-audio-classifier"

    def check(self) -> dict:
        """GET /model/metadata on every container; at least one must answer."""
        answers, errors = {}, []
        for ep in self.endpoints:
            try:
                resp = self._session().get(ep.url + max_api.METADATA, timeout=min(self.timeout, 10))
                resp.raise_for_status()
                doc = resp.json()
                if "id" not in doc:
                    raise ValueError("answer has no model id")
                answers[ep.url] = doc
                self.model = self.model or doc.get("id", "")
            except (requests.RequestException, ValueError) as exc:
                ep.down_until = time.monotonic() + self.skip_seconds
                errors.append(f"{ep.url} ({_reason(exc)})")
        if not answers:
            raise ClassifierError(
                f"MAX Audio Classifier not reachable at {', '.join(errors)}; {HOW_TO_START}")
        for line in errors:
            log.warning("MAX container skipped: %s", line)
        return answers

    # -- classification -------------------------------------------------------
    def classify(self, audio: Audio) -> Classification:
        clip = prepare(audio)                       # mono, 16 kHz, as MAX hears it
        starts = window_starts(clip.duration, self.max_windows)
        whole = wav_bytes(clip) if clip.duration <= WHOLE_FILE_SECONDS else None
        windows = []
        for start in starts:
            if whole is not None:
                payload, start_time = whole, start
            else:
                payload, start_time = wav_bytes(clip.slice(start, max_api.CLIP_SECONDS)), 0.0
            preds = self.predict(payload, start_time=start_time)
            length = min(max_api.CLIP_SECONDS, clip.duration - start)
            windows.append(Window(start, round(length, 3), [
                Label(p["label"], float(p["probability"]), p.get("label_id", ""), NAME) for p in preds]))
        labels = aggregate(windows)
        return Classification(NAME, self.model or "max-audio-classifier", "1.2.0", labels,
                              windows if len(windows) > 1 else [])

    def predict(self, wav: bytes, *, start_time: float = 0.0, label_filter: list[str] | None = None,
                mimetype: str = "audio/wav") -> list[dict]:
        """One POST /model/predict, with retries on connection errors and 5xx, none on 400."""
        data = {"start_time": str(start_time)}
        if label_filter:
            data["filter"] = ",".join(label_filter)
        tried: list[str] = []
        for attempt in range(self.retries + 1):
            ep = self._next_endpoint()
            try:
                resp = self._session().post(ep.url + max_api.PREDICT, data=data,
                                            files={"audio": ("clip.wav", wav, mimetype)},
                                            timeout=self.timeout)
            except requests.RequestException as exc:
                ep.down_until = time.monotonic() + self.skip_seconds
                tried.append(f"{ep.url} ({_reason(exc)})")
                self._sleep(attempt)
                continue
            if resp.status_code >= 500:
                tried.append(f"{ep.url} (HTTP {resp.status_code})")
                self._sleep(attempt)
                continue
            try:
                doc = resp.json()
            except ValueError as exc:
                raise ClassifierError(f"MAX at {ep.url} answered HTTP {resp.status_code} without JSON") from exc
            if resp.status_code != 200 or doc.get("status") != "ok":
                raise ClassifierError(f"MAX at {ep.url} refused the clip: "
                                      f"{doc.get('message') or doc.get('errors') or resp.status_code}")
            return list(doc.get("predictions", []))
        raise ClassifierError(
            f"MAX Audio Classifier not reachable at {', '.join(dict.fromkeys(tried))} after "
            f"{self.retries + 1} attempts; {HOW_TO_START}")

    # -- plumbing ---------------------------------------------------------------
    def _next_endpoint(self) -> _Endpoint:
        now = time.monotonic()
        with self._lock:
            for _ in range(len(self.endpoints)):
                ep = self.endpoints[next(self._cycle)]
                if ep.down_until <= now:
                    return ep
            # every container is resting: try the one that rested longest
            return min(self.endpoints, key=lambda e: e.down_until)

    def _sleep(self, attempt: int) -> None:
        if attempt < self.retries:
            time.sleep(min(self.backoff * (2 ** attempt), 8.0))

    def _session(self) -> requests.Session:
        # one session per worker thread keeps connections alive without sharing them
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
        return s


def _reason(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or host unreachable"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return str(exc)[:120]
