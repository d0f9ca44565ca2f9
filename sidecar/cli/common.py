"""Options and the application, as the commands get them."""

from __future__ import annotations

import click

from sidecar import config as config_module
from sidecar.app import App
from sidecar.config import Config
from sidecar.errors import ConfigError


DB_HELP = "Index database (default: SIDECAR_DB or ~/.local/share/sidecar/index.db)."


def db_option(f=None, *, help: str = DB_HELP):
    """--db, as db_path; `@db_option` or `@db_option(help=...)` where the index holds something particular."""
    option = click.option("--db", "db_path", type=click.Path(dir_okay=False), help=help)
    return option(f) if f is not None else option


def load_config(**overrides) -> Config:
    cfg = config_module.load()
    for key, value in overrides.items():
        if value is not None and value != ():
            setattr(cfg, key, list(value) if isinstance(value, tuple) else value)
    try:
        return cfg.check()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


class ConfigProblem(click.ClickException):
    """The configuration asks for something that cannot be had: one line, exit status 2."""

    exit_code = 2


def make_app(db_path: str | None, cfg: Config | None = None, *, in_memory_if_missing: bool = False,
             must_exist: bool = False) -> App:
    """The application over the index --db names (else the configuration's); must_exist for commands
    that only read it (a typo must not create a new one); in_memory_if_missing: an empty index
    that is never written (a dry run)."""
    cfg = cfg or load_config()
    if db_path:
        cfg.db = db_path
    app = App(cfg)
    if not app.index_exists():
        if must_exist:
            raise click.UsageError(f"no index at {app.location}: run `sidecar scan` first, or set SIDECAR_DB / --db")
        if in_memory_if_missing:
            cfg.db = ":memory:"
    return app


def open_index(db_path: str | None = None, cfg: Config | None = None) -> App:
    """The application with its index (and journal) opened now: an index that cannot be
    opened is a configuration problem, said in one line (exit status 2)."""
    from sidecar.errors import SidecarError
    cfg = cfg or load_config()
    if db_path:
        cfg.db = db_path
    app = App(cfg)
    try:
        app.journal
    except (SidecarError, OSError) as exc:     # the configured database cannot be used
        raise ConfigProblem(f"cannot open the index ({exc}); set SIDECAR_DB or --db to a writable file") from exc
    return app


def warn_embedder_unavailable(exc) -> None:
    from sidecar.cli.output import warn
    warn(f"{exc} (files are scanned without sounds-like embeddings)")
