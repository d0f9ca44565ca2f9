"""`sidecar web [ROOT...]`: the library in a browser, on its own (the daemon serves it too)."""

from __future__ import annotations

import signal
import sys

import click

from sidecar.cli.common import db_option, load_config, make_app


@click.command()
@click.argument("roots", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option("--host", default=None, help="Address to listen on (default: [web] host, else 127.0.0.1); "
              "another address needs [web] allow and token.")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="TCP port (default: [web] port, else 9320; 0: any free port).")
@db_option
def web(roots, host, port, db_path):
    """Serve the library in a browser: search, listen, review the machine's CatIDs and correct them.

    Files inside ROOTS (and the configuration's [[roots]]) are played and edited; every edit is
    written as `daw-bridge`'s /sfx/tag writes it (the file, its sidecar as the person's, the index,
    journaled for undo). Listens on loopback unless told otherwise. Prints its address on stderr.
    """
    from sidecar.web.server import web_for
    cfg = load_config()
    cfg.add_roots(list(roots))
    app = make_app(db_path, cfg, must_exist=True)
    server = web_for(app, host=host, port=port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"sidecar web: listening on {server.url}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.http.server_close()
        server.web.close()
        app.close()
