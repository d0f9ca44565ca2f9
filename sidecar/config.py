"""Configuration: a TOML file (SIDECAR_CONFIG), then the environment, then the command line.

    [scan]
    classifier = "embedded"        # the AudioSet engine; or "max", or "descriptors"
    model = "~/models/yamnet.onnx" # another YAMNet ONNX export for the embedded engine
    max_url = ["http://max:5000"]  # SIDECAR_MAX_URL, comma-separated
    jobs = 2
    policy = "append"              # fill-empty | append | replace
    expand_synonyms = true
    vocabulary = "~/sfx-vocab.toml"

    [write]
    tags = true        # ID3 / Vorbis comments / MP4 atoms
    riff = true        # bext, iXML, LIST/INFO in WAV and RF64
    sidecar = true     # door.wav -> door.wav.xml

    [[roots]]          # per library root: a mirror folder for sidecars of a read-only library
    path = "/mnt/library"
    sidecar_mirror = "/srv/sidecars/library"
    read_only = true   # never write into these files: sidecars and the index only
    observer = "auto"  # auto | native | polling (auto polls remote file systems)

    [osc]              # the OSC bridge for DAW scripts (daw-bridge serve, sidecar daemon)
    host = "127.0.0.1" # another address needs `allow`
    port = 9310
    allow = ["192.168.10.0/24"]   # client networks answered besides loopback
    enabled = true     # served by `sidecar daemon` too (--no-osc turns it off)

    [web]              # the library in a browser (sidecar web, sidecar daemon)
    host = "127.0.0.1" # another address needs `allow` and `token`
    port = 9320
    allow = ["192.168.10.0/24"]   # client networks answered besides loopback
    token = "a long random string" # asked of every request when set (required off loopback)
    enabled = false    # served by `sidecar daemon` when true

    [daemon]           # `sidecar daemon`: see deploy/sidecar.toml for every key
    stable_seconds = 5
    rescan = "0 3 * * *"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field

from sidecar.errors import ConfigError

POLICIES = ("fill-empty", "append", "replace")
CLASSIFIERS = ("embedded", "max", "descriptors")
OBSERVERS = ("auto", "native", "polling")


@dataclass
class RootOptions:
    """One library root (the daemon watches it; the bridge answers for files inside it)."""

    path: str
    observer: str = "auto"             # auto: polling on a remote file system, native otherwise
    poll_seconds: float | None = None  # None: the daemon's poll_seconds
    rescan: str | None = None          # cron; None: the daemon's rescan
    id: str = ""                       # stable across machines: the index names files by it (see index/rooted.py)


@dataclass
class DaemonOptions:
    """How `sidecar daemon` watches and works its queue."""

    stable_seconds: float = 5.0        # size and mtime unchanged this long before a file is taken
    max_tries: int = 5                 # failures before a file is set aside
    retry_seconds: float = 30.0        # the first retry's wait; doubled each try
    retry_max_seconds: float = 3600.0
    lease_seconds: float = 60.0        # a claim not renewed for this long is taken up again
    poll_seconds: float = 10.0         # the polling observer's interval
    rescan: str = ""                   # cron for a full rescan of every root ("" = none)
    root_check_seconds: float = 5.0    # how often an offline root is looked for
    ignore: list[str] = field(default_factory=list)   # more name patterns never taken


@dataclass
class OscOptions:
    """The OSC bridge for DAW scripts."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9310
    allow: list[str] = field(default_factory=list)     # client networks answered besides loopback


@dataclass
class WebOptions:
    """The library in a browser (sidecar/web): the OSC bridge's rules for who may connect, and a
    token that every request must carry (required off loopback)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9320
    allow: list[str] = field(default_factory=list)     # client networks answered besides loopback
    token: str = ""


@dataclass
class Config:
    classifier: str | None = None      # None: max when a MAX URL is configured, else embedded
    classifier_asked: bool = False     # set by check(): the engine was named, so no silent fallback
    model: str | None = None           # a YAMNet ONNX export instead of the installed one
    max_urls: list[str] = field(default_factory=list)
    jobs: int = 2
    policy: str = "append"
    expand_synonyms: bool = True
    vocabulary: str | None = None
    write_tags: bool = True
    write_riff: bool = True
    write_sidecar: bool = True
    mirrors: dict[str, str] = field(default_factory=dict)   # library root -> sidecar mirror root
    read_only_roots: list[str] = field(default_factory=list)
    db: str | None = None
    roots: list[RootOptions] = field(default_factory=list)     # every [[roots]] entry
    osc: OscOptions = field(default_factory=OscOptions)
    web: WebOptions = field(default_factory=WebOptions)
    learn_min_confidence: float = 0.6  # a learned CatID less probable than this is not written
    #: cron of the daemon's retraining, done only when the files a person categorised changed ("" = never)
    learn_schedule: str = "30 3 * * *"
    daemon: DaemonOptions = field(default_factory=DaemonOptions)
    source: str = ""                   # the file this configuration came from

    def check(self) -> "Config":
        self.classifier_asked = self.classifier is not None or self.classifier_asked or bool(self.model)
        if self.classifier is None:
            self.classifier = "max" if self.max_urls else "embedded"
        for url in self.max_urls:
            if not url.startswith(("http://", "https://")) or len(url) < 10:
                raise ConfigError(f"not a MAX URL: {url!r} (expected http://host:port)")
        if self.policy not in POLICIES:
            raise ConfigError(f"policy must be one of {', '.join(POLICIES)}, not {self.policy!r}")
        if self.classifier not in CLASSIFIERS:
            raise ConfigError(f"classifier must be one of {', '.join(CLASSIFIERS)}, not {self.classifier!r}")
        if self.classifier == "max" and not self.max_urls:
            raise ConfigError("--classifier max needs --max-url or SIDECAR_MAX_URL")
        if self.jobs < 1:
            raise ConfigError("--jobs must be at least 1")
        self._check_daemon()
        return self

    def _check_daemon(self) -> None:
        where = f"{self.source}: " if self.source else ""
        d = self.daemon
        for name in ("stable_seconds", "retry_seconds", "retry_max_seconds", "lease_seconds",
                     "poll_seconds", "root_check_seconds"):
            if getattr(d, name) < 0 or (name in ("lease_seconds", "poll_seconds", "root_check_seconds")
                                        and getattr(d, name) <= 0):
                raise ConfigError(f"{where}daemon.{name} must be a positive number of seconds")
        if d.max_tries < 1:
            raise ConfigError(f"{where}daemon.max_tries must be at least 1")
        if not 0 <= self.web.port < 65536:
            raise ConfigError(f"{where}web.port must be in 0..65535 (0: any free port), not {self.web.port}")
        if not 0 <= self.osc.port < 65536:
            raise ConfigError(f"{where}osc.port must be in 0..65535 (0: any free port), not {self.osc.port}")
        crons = [("daemon.rescan", d.rescan), ("learn.schedule", self.learn_schedule)] + [
            (f"roots[{i}].rescan", r.rescan) for i, r in enumerate(self.roots)]
        for key, expr in crons:
            # the default is known good; checking it would import the scheduler into every command
            if expr and expr != Config.learn_schedule:
                try:
                    cron_trigger(expr)
                except ValueError as exc:
                    raise ConfigError(f"{where}{key}: not a cron expression {expr!r}: {exc}") from exc
        for i, r in enumerate(self.roots):
            if r.observer not in OBSERVERS:
                raise ConfigError(f"{where}roots[{i}].observer must be one of {', '.join(OBSERVERS)}, "
                                  f"not {r.observer!r}")
            if r.poll_seconds is not None and r.poll_seconds <= 0:
                raise ConfigError(f"{where}roots[{i}].poll_seconds must be a positive number of seconds")

    def add_roots(self, paths: list[str]) -> None:
        """Roots named on the command line, watched with the defaults."""
        known = {os.path.abspath(r.path) for r in self.roots}
        for p in paths:
            if os.path.abspath(p) not in known:
                self.roots.append(RootOptions(os.path.abspath(p)))
                known.add(os.path.abspath(p))

    def mirror_for(self, path: str) -> tuple[str, str] | None:
        real = os.path.abspath(path)
        for root, mirror in self.mirrors.items():
            root = os.path.abspath(root)
            if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                return root, os.path.abspath(mirror)
        return None


    def is_read_only(self, path: str) -> bool:
        real = os.path.abspath(path)
        return any(real == os.path.abspath(r) or real.startswith(os.path.abspath(r).rstrip(os.sep) + os.sep)
                   for r in self.read_only_roots)


def cron_trigger(expr: str):
    """A cron expression: 5 fields (minute hour day month weekday), or 6 with seconds first."""
    from apscheduler.triggers.cron import CronTrigger
    fields = expr.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(expr, timezone="UTC")
    if len(fields) == 6:
        second, minute, hour, day, month, dow = fields
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                           day_of_week=dow, timezone="UTC")
    raise ValueError("expected 5 fields (minute hour day month weekday) or 6 (seconds first)")


def load(path: str | None = None) -> Config:
    """Read SIDECAR_CONFIG (or path) and the environment into a Config."""
    cfg = Config()
    path = path or os.environ.get("SIDECAR_CONFIG")
    if path:
        try:
            with open(os.path.expanduser(path), "rb") as f:
                doc = tomllib.load(f)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        _apply(cfg, doc, path)
        cfg.source = path
    if os.environ.get("SIDECAR_MAX_URL"):
        cfg.max_urls = [u.strip() for u in os.environ["SIDECAR_MAX_URL"].split(",") if u.strip()]
    if os.environ.get("SIDECAR_DB"):
        cfg.db = os.environ["SIDECAR_DB"]
    if os.environ.get("SIDECAR_VOCAB"):
        cfg.vocabulary = os.path.expanduser(os.environ["SIDECAR_VOCAB"])
    return cfg


#: every key the file may hold, with its type: a typo or a wrong type is an error, never ignored
_SCAN_KEYS = {"classifier": str, "max_url": (str, list), "jobs": int, "policy": str,
              "expand_synonyms": bool, "vocabulary": str, "model": str}
_WRITE_KEYS = {"tags": bool, "riff": bool, "sidecar": bool}
_ROOT_KEYS = {"path": str, "sidecar_mirror": str, "read_only": bool, "observer": str,
              "poll_seconds": (int, float), "rescan": str, "id": str}
_DAEMON_KEYS = {"stable_seconds": (int, float), "max_tries": int, "retry_seconds": (int, float),
                "retry_max_seconds": (int, float), "lease_seconds": (int, float),
                "poll_seconds": (int, float), "rescan": str, "root_check_seconds": (int, float),
                "ignore": list}
_OSC_KEYS = {"enabled": bool, "host": str, "port": int, "allow": list}
_WEB_KEYS = {"enabled": bool, "host": str, "port": int, "allow": list, "token": str}
_LEARN_KEYS = {"min_confidence": (float, int), "schedule": str}
_TOP_KEYS = {"scan": dict, "write": dict, "roots": list, "db": str, "index": dict, "osc": dict, "learn": dict,
             "daemon": dict, "web": dict}
_INDEX_KEYS = {"url": str}
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               dict: "a table", list: "a list"}


def _checked(table: dict, keys: dict, where: str, path: str) -> dict:
    for key, value in table.items():
        if key not in keys:
            raise ConfigError(f"{path}: unknown key {where}{key!r} (known: {', '.join(sorted(keys))})")
        want = keys[key]
        kinds = want if isinstance(want, tuple) else (want,)
        # bool is an int in Python: an integer key must not take true/false, nor a string key 5
        if not any(isinstance(value, k) and not (k is int and isinstance(value, bool)) for k in kinds):
            names = " or ".join(_TYPE_NAMES[k] for k in kinds)
            raise ConfigError(f"{path}: {where}{key} must be {names}, not {value!r}")
    return table


def _apply(cfg: Config, doc: dict, path: str) -> None:
    _checked(doc, _TOP_KEYS, "", path)
    scan = _checked(doc.get("scan", {}), _SCAN_KEYS, "scan.", path)
    write = _checked(doc.get("write", {}), _WRITE_KEYS, "write.", path)
    if "classifier" in scan:
        cfg.classifier = scan["classifier"]
    urls = scan.get("max_url", [])
    if isinstance(urls, list) and not all(isinstance(u, str) for u in urls):
        raise ConfigError(f"{path}: scan.max_url must be a string or a list of strings")
    cfg.max_urls = [urls] if isinstance(urls, str) else list(urls)
    cfg.jobs = scan.get("jobs", cfg.jobs)
    cfg.policy = scan.get("policy", cfg.policy)
    cfg.expand_synonyms = scan.get("expand_synonyms", cfg.expand_synonyms)
    if "model" in scan:
        cfg.model = os.path.expanduser(scan["model"])
    if "vocabulary" in scan:
        cfg.vocabulary = os.path.expanduser(scan["vocabulary"])
    cfg.write_tags = write.get("tags", True)
    cfg.write_riff = write.get("riff", True)
    cfg.write_sidecar = write.get("sidecar", True)
    for i, root in enumerate(doc.get("roots", [])):
        if not isinstance(root, dict):
            raise ConfigError(f"{path}: each [[roots]] entry must be a table")
        _checked(root, _ROOT_KEYS, f"roots[{i}].", path)
        if "path" not in root:
            raise ConfigError(f"{path}: roots[{i}] needs a path")
        root_path = os.path.expanduser(root["path"])
        cfg.roots.append(RootOptions(os.path.abspath(root_path), root.get("observer", "auto"),
                                     root.get("poll_seconds"), root.get("rescan"), root.get("id", "")))
        if root.get("sidecar_mirror"):
            cfg.mirrors[root_path] = os.path.expanduser(root["sidecar_mirror"])
        if root.get("read_only"):
            cfg.read_only_roots.append(root_path)
    if doc.get("db"):
        cfg.db = os.path.expanduser(doc["db"])
    index = _checked(doc.get("index", {}), _INDEX_KEYS, "index.", path)
    if index.get("url"):            # a postgresql:// URL (or a SQLite path), as SIDECAR_DB and --db take
        cfg.db = os.path.expanduser(index["url"])
    for key, value in _checked(doc.get("daemon", {}), _DAEMON_KEYS, "daemon.", path).items():
        if key == "ignore" and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: daemon.ignore must be a list of strings")
        setattr(cfg.daemon, key, value)
    for key, value in _checked(doc.get("osc", {}), _OSC_KEYS, "osc.", path).items():
        if key == "allow" and not all(isinstance(a, str) for a in value):
            raise ConfigError(f"{path}: osc.allow must be a list of networks (\"192.168.1.0/24\")")
        setattr(cfg.osc, key, value)
    for key, value in _checked(doc.get("web", {}), _WEB_KEYS, "web.", path).items():
        if key == "allow" and not all(isinstance(a, str) for a in value):
            raise ConfigError(f"{path}: web.allow must be a list of networks (\"192.168.1.0/24\")")
        setattr(cfg.web, key, value)
    learn = _checked(doc.get("learn", {}), _LEARN_KEYS, "learn.", path)
    confidence = learn.get("min_confidence", cfg.learn_min_confidence)
    if not 0 <= confidence <= 1:
        raise ConfigError(f"{path}: learn.min_confidence must be between 0 and 1, not {confidence!r}")
    cfg.learn_min_confidence = float(confidence)
    cfg.learn_schedule = learn.get("schedule", cfg.learn_schedule)
