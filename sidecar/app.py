"""The application, built in one place from the configuration.

The command line, the daemon and `daw-bridge serve` take their parts from an App:
the index, the vocabulary, the engine, the sounds-like embedder, similarity search,
the undo journal, a person's edits, and the services the OSC bridge answers from
(the bridge itself is daw_bridge.server.bridge_for(app)). Each part is made when
first asked for, so a command pays only for what it uses: a scan with nothing to
classify never loads a model, and a search never loads the engine.

No click here: errors are the project's own (a ConfigError is exit status 2 to
whichever front end reports it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cached_property

from sidecar.config import Config
from sidecar.errors import ConfigError
from sidecar.index import store as index
from sidecar.index.interfaces import IndexedFile, Store


class EngineUnavailable(ConfigError):
    """The engine asked for cannot listen: one line, exit status 2 (a configuration error)."""


def make_engine(cfg: Config, notes: list[str] | None = None):
    """The configured engine, loaded now. The AudioSet model missing: EngineUnavailable when it
    was asked for by name (or by --model); otherwise the descriptor engine, and a line in `notes`
    saying so."""
    if cfg.classifier == "max":
        from sidecar.classify.max_client import MaxClient
        return MaxClient(cfg.max_urls)
    from sidecar.classify.descriptors import DescriptorEngine
    if cfg.classifier == "descriptors":
        return DescriptorEngine()
    from sidecar.classify.audioset import AudiosetEngine
    from sidecar.classify.yamnet_model import ModelError
    try:
        return AudiosetEngine(cfg.model)
    except ModelError as exc:
        if cfg.classifier_asked:
            raise EngineUnavailable(str(exc)) from None
        if notes is not None:
            notes.append(f"{exc}; the descriptor engine listened instead (it names no sounds)")
        return DescriptorEngine()


class LazyEngine:
    """The configured engine, made on first use: an idle daemon, or a scan with nothing new,
    holds no model in memory."""

    def __init__(self, cfg: Config, notes: list[str] | None = None):
        self.cfg = cfg
        self.notes = notes
        self._engine = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The engine's name, known without loading it (the AudioSet model missing: the
        descriptor engine's, as make_engine falls back)."""
        if self._engine is not None:
            return self._engine.name
        if self.cfg.classifier != "embedded" or self.cfg.classifier_asked:
            return self.cfg.classifier
        from sidecar.classify.yamnet_model import ModelError, locate
        try:
            locate(self.cfg.model)
        except ModelError:
            return "descriptors"
        return self.cfg.classifier

    def get(self):
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.cfg, self.notes)
            return self._engine

    @property
    def built(self):
        """The engine when it was made, else None (nothing needed it)."""
        return self._engine

    def classify(self, audio):
        return self.get().classify(audio)

    @property
    def model_name(self) -> str:
        """Known without loading the installed AudioSet model (a rescan of known files compares it
        with their provenance and must not load a model for that)."""
        if self._engine is None and self.name == "embedded" and not self.cfg.model:
            from sidecar.classify.audioset_version import GENERATION
            from sidecar.classify.yamnet_model import installed_model_name
            return f"{installed_model_name()}/{GENERATION}"
        return getattr(self.get(), "model_name", "")

    @property
    def check(self):
        """MAX's health check (the only engine that has one)."""
        if self.cfg.classifier != "max":
            raise AttributeError("check")
        return self.get().check


class App:
    """The parts of the application for one configuration; made on first use, closed together."""

    def __init__(self, config: Config, *, store: Store | None = None):
        self.config = config
        if store is not None:
            self.__dict__["store"] = store
        self._on_embedder_unavailable: Callable[[Exception], None] | None = None

    # -- the index ------------------------------------------------------------------
    @property
    def location(self) -> str:
        """Where the index is: the configuration's db, SIDECAR_DB, or the default file."""
        return self.config.db or index.default_location()

    def index_exists(self) -> bool:
        """False for an index file that is not there yet (a server's index is always there)."""
        where = self.location
        return index.is_url(where) or where == ":memory:" or os.path.exists(os.path.expanduser(where))

    @cached_property
    def store(self) -> Store:
        # roots with an id: the index names their files by it, this machine reads its own paths back
        return index.open_store(self.location, roots=index.root_ids(self.config))

    def search_store(self) -> Store:
        """A handle of its own for a long-lived answerer (the bridge): its searches never wait
        for the writes of the daemon's workers."""
        return self.store.clone()

    # -- words ------------------------------------------------------------------------
    @cached_property
    def ucs_list(self):
        """The official UCS list imported into the index (empty when none was, or there is no index)."""
        from sidecar.vocabulary.ucs_list import UcsList
        if "store" not in self.__dict__ and not self.index_exists():
            return UcsList()        # reading must not create an index
        return UcsList.from_store(self.store.ucs)

    @cached_property
    def vocabulary(self):
        from sidecar.vocabulary import Vocabulary
        return Vocabulary.load(self.config.vocabulary, self.ucs_list)

    def expand(self, literal: bool = False) -> Callable[[str], list[str]] | None:
        """The synonym function searches use (None: the words as typed)."""
        return None if literal else self.vocabulary.expand_term

    def search(self, query: str, *, limit: int | None = None, literal: bool = False,
               store: Store | None = None) -> list[IndexedFile]:
        """Files matching a query in the search language, best first, synonyms expanded."""
        return (store or self.store).files.search(query, limit=limit, expand=self.expand(literal))

    # -- listening --------------------------------------------------------------------
    @cached_property
    def engine_notes(self) -> list[str]:
        """What a person should know of the engine (a fallback to another one)."""
        return []

    @cached_property
    def engine(self) -> LazyEngine:
        return LazyEngine(self.config, self.engine_notes)

    def check_engine(self) -> None:
        """Say now, not at the first file, that the engine asked for cannot listen: MAX
        unreachable (ClassifierError), or the AudioSet model asked for by name (or by --model)
        missing or damaged (EngineUnavailable): that one is loaded now; an unknown
        SIDECAR_NUMERICS (ConfigError). The engine of the default configuration stays unloaded
        until a file needs it."""
        if self.config.classifier == "max":
            self.engine.get().check()
        elif self.config.classifier == "embedded":
            from sidecar.classify.yamnet_model import resolve_numerics
            resolve_numerics()
            if self.config.classifier_asked:
                self.engine.get()

    def on_embedder_unavailable(self, report: Callable[[Exception], None]) -> None:
        """How to say that the sounds-like network cannot be had (before `embedder` is asked)."""
        self._on_embedder_unavailable = report

    @cached_property
    def embedder(self):
        """The sounds-like network for scanning, loaded when a file first needs it; None when it
        is not installed (said once, through on_embedder_unavailable)."""
        from sidecar.similarity import embedder

        def unavailable(exc) -> None:
            if self._on_embedder_unavailable is not None:
                self._on_embedder_unavailable(exc)

        if not embedder.available():
            try:
                embedder.shared()
            except Exception as exc:      # ModelUnavailable: its line says how to install the model
                unavailable(exc)
            return None
        return embedder.LazyEmbedder(on_unavailable=unavailable)

    def required_embedder(self):
        """The sounds-like network, now; ConfigError (exit 2) when it cannot be had."""
        from sidecar.similarity.checkpoint import ModelUnavailable
        from sidecar.similarity.embedder import shared
        try:
            return shared()
        except ModelUnavailable as exc:
            raise ConfigError(str(exc)) from None

    def categories(self):
        """The newest learned CatID model that speaks the embedder's language, or None."""
        from sidecar.similarity.categories import saved_model
        return saved_model(self.store, self.embedder)

    def similar(self, store: Store | None = None):
        """A long-lived answerer of sounds-like queries over this index."""
        from sidecar.similarity.search import Similar
        return Similar(store or self.store, embedder_factory=self.required_embedder)

    def meaning(self, store: Store | None = None, *, catch_up_all: bool = False):
        """An answerer of queries by meaning over this index (sidecar.meaning.search); the text
        model loads on its first query. catch_up_all: a one-off query first takes in every file
        changed since the last scan (the command line); a long-lived one takes in a few a query."""
        from sidecar.meaning.search import REFRESH_PER_QUERY, MeaningSearch
        return MeaningSearch(store or self.store, ucs_list=self.ucs_list,
                             refresh_per_query=None if catch_up_all else REFRESH_PER_QUERY)

    # -- writing ----------------------------------------------------------------------
    @cached_property
    def journal(self):
        from sidecar.metadata.journal import Journal
        return Journal(self.store.journal)

    def context(self, *, dry_run: bool = False, repair: bool = False, lazy_vocabulary: bool = False):
        """What the pipeline's stages need for each file."""
        from sidecar.pipeline.stages import Context
        vocabulary = _Lazy(lambda: self.vocabulary) if lazy_vocabulary else self.vocabulary
        embedder = None if dry_run else self.embedder
        return Context(self.config, self.engine, vocabulary, None if dry_run else self.journal, dry_run,
                       self.store, repair=repair, embedder=embedder,
                       categories=None if dry_run else self.categories())

    def edits(self, store: Store | None = None) -> "Edits":
        """A person's edits of indexed files, one code path for every front end."""
        return Edits(store or self.store, self.config, self.journal, lambda catid: self.vocabulary.cat_info(catid))

    # -- for the OSC bridge -----------------------------------------------------------
    def bridge_services(self, *, similar: bool = True) -> "Services":
        """What the OSC bridge answers from, over a search handle of its own (daw_bridge.server
        builds the bridge around it: bridge_for(app))."""
        return Services(self, self.search_store(), similar=similar)

    def with_config(self, config: Config) -> "App":
        """The application for a configuration read again: the same index, journal and embedder,
        and the same engine while the engine asked for is the same."""
        other = App(config, store=self.store)
        other._on_embedder_unavailable = self._on_embedder_unavailable
        kept = ["journal", "embedder"]
        if _engine_of(config) == _engine_of(self.config):
            kept += ["engine", "engine_notes"]
        for name in kept:
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    def close(self) -> None:
        store = self.__dict__.get("store")
        if store is not None:
            store.close()


class Edits:
    """A person's edit of one field of an indexed file, written where a scan writes, journaled."""

    def __init__(self, store: Store, config: Config, journal, cat_info):
        self.store = store
        self.config = config
        self.journal = journal
        self.cat_info = cat_info

    def __call__(self, path: str, field: str, value: str) -> IndexedFile:
        from sidecar.pipeline.edit import person_edit
        return person_edit(self.store, self.config, path, field, value, journal=self.journal,
                           cat_info=self.cat_info)


def _engine_of(cfg: Config) -> tuple:
    return cfg.classifier, list(cfg.max_urls or []), cfg.model


class Services:
    """What the OSC bridge asks of the application: search, a file's row, edits, sounds like,
    search by meaning."""

    def __init__(self, app: App, store: Store, *, similar: bool = True):
        self._app = app
        self.store = store
        self.similar = app.similar(store) if similar else None
        self.meaning = app.meaning(store)

    def search(self, query: str, limit: int) -> list[IndexedFile]:
        return self._app.search(query, limit=limit, store=self.store)

    def get(self, path: str) -> IndexedFile | None:
        return self.store.files.get(path)

    @cached_property
    def edit(self) -> Edits:
        return self._app.edits(self.store)

    def close(self) -> None:
        if self.store is not self._app.__dict__.get("store"):
            self.store.close()


class _Lazy:
    """An object made on first use (the vocabulary takes seconds to load; the daemon's catch-up
    goes first)."""

    def __init__(self, make):
        self._make = make
        self._made = None
        self._lock = threading.Lock()

    def __getattr__(self, name):
        with self._lock:
            if self._made is None:
                self._made = self._make()
        return getattr(self._made, name)
