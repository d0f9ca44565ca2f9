"""Options and the application, as the commands get them."""

from __future__ import annotations

import click

from sidecar import config as config_module
from sidecar.app import App
from sidecar.config import Config
from sidecar.errors import ConfigError


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


def warn_embedder_unavailable(exc) -> None:
    from sidecar.cli.output import warn
    warn(f"{exc} (files are scanned without sounds-like embeddings)")
