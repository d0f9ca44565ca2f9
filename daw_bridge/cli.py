"""`daw-bridge`: serve the index over OSC, or ask it from the command line (REAPER's ExecProcess fallback)."""

from __future__ import annotations

import json
import socket
import sys
import time

import click
from pythonosc.osc_message import OscMessage

from daw_bridge import messages
from daw_bridge.server import DEFAULT_PORT, MAX_LIMIT, Bridge


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


def hit_error(msg: OscMessage) -> bool:
    """An /sfx/error about one hit (`result N: ...`): the answer goes on and ends with /sfx/done."""
    return msg.address == "/sfx/error" and str(msg.params[-1]).startswith("result ")


def _ask(host: str, port: int, dgram: bytes, until: str, timeout: float) -> list[OscMessage]:
    """Send one request; collect replies up to `until` or an /sfx/error that ends the request."""
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
            if msg.address == until or (msg.address == "/sfx/error" and not hit_error(msg)):
                break
        else:
            raise socket.timeout
    except socket.timeout:
        raise click.ClickException(f"no answer from daw-bridge at {host}:{port} within {timeout:g} s "
                                   f"(start it with `daw-bridge serve`)")
    finally:
        sock.close()
    return out


@cli.command()
@click.argument("query")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, MAX_LIMIT),
              help=f"Most results to show (1..{MAX_LIMIT}).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--timeout", default=5.0, show_default=True, type=float)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout.")
def search(query, limit, host, port, timeout, as_json):
    """Search through a running bridge; prints one path per line (or JSON)."""
    try:
        request = messages.message("/sfx/search", 1, query, limit)
    except ValueError:
        raise click.UsageError(f"the query is too long for one OSC datagram ({messages.MAX_DATAGRAM} bytes)")
    replies = _ask(host, port, request, "/sfx/done", timeout)
    for m in replies:
        if m.address != "/sfx/error":
            continue
        reason = str(m.params[-1])
        if hit_error(m):
            click.echo(f"daw-bridge: {reason}", err=True)
        elif m.params[0] == 1:                  # the bridge refused this search: the query is at fault
            raise click.UsageError(reason)
        else:
            raise click.ClickException(reason)
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
    replies = _ask(host, port, messages.message("/sfx/ping", 1), "/sfx/pong", timeout)
    if replies[-1].address != "/sfx/pong":
        raise click.ClickException(f"daw-bridge answered {replies[-1].address} {replies[-1].params}")
    click.echo("pong")


def main() -> None:
    sys.exit(cli.main(standalone_mode=True))
