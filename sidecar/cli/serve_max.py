"""`sidecar serve-max`: the MAX Audio Classifier API over the embedded AudioSet engine."""

from __future__ import annotations

import click


@click.command("serve-max")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=5000, show_default=True, type=int, help="Port (MAX's own is 5000).")
def serve_max(host, port):
    """Answer MAX's HTTP API (/model/predict, /model/metadata, /swagger.json) with the embedded AudioSet engine."""
    from sidecar.classify.max_server import MaxServer
    from sidecar.classify.yamnet_model import ModelError
    from sidecar.cli.common import ConfigProblem
    try:
        server = MaxServer(host, port)
    except ModelError as exc:
        raise ConfigProblem(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    click.echo(f"serve-max listening on {server.url}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
