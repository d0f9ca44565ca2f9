"""Options and builders shared by several commands."""

from __future__ import annotations

import os

import click

from sidecar import config as config_module
from sidecar.config import Config
from sidecar.errors import ConfigError
from sidecar.index import store as index
from sidecar.index.interfaces import Store


def db_option(f):
    return click.option("--db", "db_path", type=click.Path(dir_okay=False),
                        help="Index database (default: SIDECAR_DB or ~/.local/share/sidecar/index.db).")(f)


def load_config(**overrides) -> Config:
    cfg = config_module.load()
    for key, value in overrides.items():
        if value is not None and value != ():
            setattr(cfg, key, list(value) if isinstance(value, tuple) else value)
    try:
        return cfg.check()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def open_store(db_path: str | None, cfg: Config | None = None, *, in_memory_if_missing: bool = False,
               must_exist: bool = False) -> Store:
    """The index; must_exist for commands that only read it (a typo must not create a new one)."""
    path = db_path or (cfg.db if cfg else None) or index.default_location()
    if not index.is_url(path) and not os.path.exists(path):
        if must_exist:
            raise click.UsageError(f"no index at {path}: run `sidecar scan` first, or set SIDECAR_DB / --db")
        if in_memory_if_missing:
            return index.open_store(":memory:")
    return index.open_store(path)


class EngineUnavailable(click.ClickException):
    """The engine asked for cannot listen: one line, exit status 2 (a configuration error)."""

    exit_code = 2


def make_engine(cfg: Config, notes: list[str] | None = None):
    """The configured engine. The AudioSet model missing: exit 2 when it was asked for by name
    (or by --model); otherwise the descriptor engine, and a line in `notes` saying so."""
    if cfg.classifier == "max":
        from sidecar.classify.max_client import MaxClient
        client = MaxClient(cfg.max_urls)
        client.check()
        return client
    if cfg.classifier == "descriptors":
        from sidecar.classify.descriptors import DescriptorEngine
        return DescriptorEngine()
    from sidecar.classify.audioset import AudiosetEngine
    from sidecar.classify.yamnet_model import ModelError
    from sidecar.classify.descriptors import DescriptorEngine
    try:
        return AudiosetEngine(cfg.model)
    except ModelError as exc:
        if cfg.classifier_asked:
            raise EngineUnavailable(str(exc)) from None
        if notes is not None:
            notes.append(f"{exc}; the descriptor engine listened instead (it names no sounds)")
        return DescriptorEngine()


def make_vocabulary(cfg: Config, store: Store | None = None):
    from sidecar.vocabulary import Vocabulary
    ucs_list = None
    if store is not None and not store.ephemeral:
        try:
            from sidecar.vocabulary.ucs_list import UcsList
            ucs_list = UcsList.load_from_db(store.location)
        except Exception:   # no official list imported yet
            ucs_list = None
    return Vocabulary.load(cfg.vocabulary, ucs_list)


def make_scan_embedder(on_unavailable=None):
    """The sounds-like network for a scan (or the daemon), loaded when a file first needs it; None
    when it is not installed. Not installed or damaged: said once, through on_unavailable (by
    default one line on stderr), and the work goes on without it."""
    from sidecar.cli.output import warn
    from sidecar.similarity import embedder

    def unavailable(exc) -> None:
        if on_unavailable is not None:
            on_unavailable(exc)
        else:
            warn(f"{exc} (files are scanned without sounds-like embeddings)")

    if not embedder.available():
        try:
            embedder.shared()
        except Exception as exc:      # ModelUnavailable: its line says how to install the model
            unavailable(exc)
        return None
    return embedder.LazyEmbedder(on_unavailable=unavailable)


def make_embedder(*, required: bool = False):
    """The sounds-like network. Missing or damaged: with required, one line and exit 2 (a command
    that cannot work without it); otherwise one line on stderr and None (the rest still runs)."""
    from sidecar.cli.output import warn
    from sidecar.similarity.checkpoint import ModelUnavailable
    from sidecar.similarity.embedder import shared
    try:
        return shared()
    except ModelUnavailable as exc:
        if required:
            raise ConfigError(str(exc)) from None
        warn(f"{exc} (files are scanned without sounds-like embeddings)")
        return None
