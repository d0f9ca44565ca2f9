"""`daw-bridge`: serve the index over OSC, or ask it from the command line (REAPER's ExecProcess fallback)."""

from __future__ import annotations

import json
import socket
import sys
import time

import click
from pythonosc.osc_message import OscMessage

from daw_bridge import messages
from daw_bridge.server import DEFAULT_PORT, Bridge


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """OSC bridge between DAW scripts (REAPER first) and the SFX Sidecar index."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Index (default: SIDECAR_DB).")
def serve(host, port, db_path):
    """Answer /sfx/ping and /sfx/search over UDP."""
    from sidecar.cli.common import load_config, make_vocabulary, open_store
    cfg = load_config()
    store = open_store(db_path, cfg)
    bridge = Bridge(store, host, port, expand=make_vocabulary(cfg, store).expand_term)
    click.echo(f"daw-bridge listening on {bridge.host}:{bridge.port}", err=True)
    try:
        bridge.serve_forever()
    except KeyboardInterrupt:
        pass


def _ask(host: str, port: int, dgram: bytes, until: str, timeout: float) -> list[OscMessage]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    sock.sendto(dgram, (host, port))
    out = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            data, _ = sock.recvfrom(8192)
            msg = OscMessage(data)
            out.append(msg)
            if msg.address in (until, "/sfx/error"):
                break
    except socket.timeout:
        raise click.ClickException(f"no answer from daw-bridge at {host}:{port} within {timeout:g} s "
                                   f"(start it with `daw-bridge serve`)")
    finally:
        sock.close()
    return out


@cli.command()
@click.argument("query")
@click.option("--limit", "-n", default=20, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--timeout", default=5.0, show_default=True, type=float)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout.")
def search(query, limit, host, port, timeout, as_json):
    """Search through a running bridge; prints one path per line (or JSON)."""
    replies = _ask(host, port, messages.message("/sfx/search", 1, query, limit), "/sfx/done", timeout)
    errors = [m for m in replies if m.address == "/sfx/error"]
    if errors:
        raise click.ClickException(str(errors[0].params[-1]))
    rows = [dict(zip(("id", "rank", "path", "CatID", "Description", "Keywords", "Duration"), m.params))
            for m in replies if m.address == "/sfx/result"]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            click.echo(row["path"])


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--timeout", default=2.0, show_default=True, type=float)
def ping(host, port, timeout):
    """Check that a bridge answers."""
    _ask(host, port, messages.message("/sfx/ping", 1), "/sfx/pong", timeout)
    click.echo("pong")


def main() -> None:
    sys.exit(cli.main(standalone_mode=True))
