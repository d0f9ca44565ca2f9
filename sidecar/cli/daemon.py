"""`sidecar daemon`: watch the library roots, tag what arrives or changes, serve the OSC bridge."""

from __future__ import annotations

import os
import sys

import click

from sidecar.cli.common import db_option
from sidecar.errors import ConfigError


@click.command()
@click.argument("roots", nargs=-1, type=click.Path())
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML configuration (default: SIDECAR_CONFIG); SIGHUP reads it again.")
@db_option(help="Index database (default: the configuration's db, SIDECAR_DB or ~/.local/share/sidecar/index.db).")
@click.option("--no-osc", is_flag=True, help="Do not serve the OSC bridge in this process.")
def daemon(roots, config_path, db_path, no_osc):
    """Watch ROOTS (and the configuration's [[roots]]): catch up with what changed while it was
    down, then classify and tag every file that arrives or changes, through the work queue in
    the index. Serves the OSC bridge too (--no-osc to turn it off), and the web page when the
    configuration says [web] enabled = true.

    Logs one JSON event a line on stderr. SIGTERM or SIGINT stops within 10 seconds; SIGHUP
    reloads the configuration (a bad one is refused and the old one kept). Exit status 2 for a
    configuration error.
    """
    from daw_bridge.server import bridge_for
    from sidecar.app import App
    from sidecar.daemon.service import Daemon, load_daemon_config
    from sidecar.web.server import web_for

    path = config_path or os.environ.get("SIDECAR_CONFIG")
    try:
        cfg = load_daemon_config(path, list(roots), db=db_path)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    sys.exit(Daemon(App(cfg), cli_roots=list(roots), config_path=path,
                    make_bridge=None if no_osc else bridge_for, make_web=web_for).run())
