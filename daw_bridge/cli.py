"""`daw-bridge`: serve the index over OSC, or ask it from the command line (REAPER's ExecProcess fallback)."""

from __future__ import annotations

import json
import os
import socket
import sys
import time

import click
from pythonosc.osc_message import OscMessage

from daw_bridge import messages
from daw_bridge.server import DEFAULT_PORT, MAX_LIMIT, bridge_for


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """OSC bridge between DAW scripts (REAPER first) and the SFX Sidecar index."""


@cli.command()
@click.option("--host", default=None, help="Address to bind (default: [osc] host, else 127.0.0.1; another "
                                            "address needs [osc] allow in the configuration).")
@click.option("--port", default=None, type=int, help=f"UDP port (default: [osc] port, else {DEFAULT_PORT}).")
@click.option("--root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Library root that /sfx/info and /sfx/tag may name (repeatable; default: [[roots]]).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Index (default: SIDECAR_DB).")
def serve(host, port, roots, db_path):
    """Answer DAW scripts over UDP: search, info, tag, similar (schemas/osc-address-space.md)."""
    import logging

    from sidecar import config as config_module
    from sidecar.app import App
    from sidecar.errors import ConfigError
    logging.basicConfig(level=logging.INFO, format="daw-bridge: %(message)s", stream=sys.stderr)
    try:
        cfg = config_module.load().check()
        if db_path:
            cfg.db = db_path
        app = App(cfg)
        bridge = bridge_for(app, host=host, port=port, roots=list(roots) or None)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host or cfg.osc.host}:{cfg.osc.port if port is None else port}: "
                                   f"{exc.strerror or exc}") from exc
    app.vocabulary          # loaded before the first search arrives, not while a DAW script waits
    where = ", ".join(bridge.roots.written) or "none (info and tag refused)"
    click.echo(f"daw-bridge listening on {bridge.host}:{bridge.port}; library roots: {where}", err=True)
    try:
        bridge.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        bridge.shutdown()


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


_RESULT_KEYS = ("id", "rank", "path", "CatID", "Description", "Keywords", "Duration")


def _client_options(f):
    f = click.option("--timeout", default=5.0, show_default=True, type=float)(f)
    f = click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)(f)
    return click.option("--host", default="127.0.0.1", show_default=True)(f)


def _request(address: str, *args) -> bytes:
    try:
        return messages.message(address, 1, *args)
    except ValueError:
        raise click.UsageError(f"the request is too long for one OSC datagram ({messages.MAX_DATAGRAM} bytes)")


def _refused(replies: list[OscMessage]) -> None:
    """Report per-hit errors on stderr; an error that ends the request exits (2: the request's fault)."""
    for m in replies:
        if m.address != "/sfx/error":
            continue
        reason = str(m.params[-1])
        if hit_error(m):
            click.echo(f"daw-bridge: {reason}", err=True)
        elif m.params[0] == 1:                  # the bridge refused this request: the request is at fault
            raise click.UsageError(reason)
        else:
            raise click.ClickException(reason)


def _json(doc) -> str:
    """ASCII JSON (\\u escapes): on Windows, output redirected to a file is written in the ANSI code page,
    where a path with é or ü would no longer name its file; ASCII survives any code page."""
    return json.dumps(doc, ensure_ascii=True)


def _print_results(replies: list[OscMessage], as_json: bool) -> None:
    rows = [dict(zip(_RESULT_KEYS, m.params)) for m in replies if m.address == "/sfx/result"]
    if as_json:
        click.echo(_json(rows))
    else:
        for row in rows:
            click.echo(row["path"])


@cli.command()
@click.argument("query")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, MAX_LIMIT),
              help=f"Most results to show (1..{MAX_LIMIT}).")
@_client_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout.")
def search(query, limit, host, port, timeout, as_json):
    """Search through a running bridge; prints one path per line (or JSON)."""
    replies = _ask(host, port, _request("/sfx/search", query, limit), "/sfx/done", timeout)
    _refused(replies)
    _print_results(replies, as_json)


@cli.command()
@click.argument("text")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, MAX_LIMIT),
              help=f"Most results to show (1..{MAX_LIMIT}).")
@_client_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout.")
def meaning(text, limit, host, port, timeout, as_json):
    """Search by meaning through a running bridge (/sfx/meaning): TEXT in English words for what one
    hears ("heavy downpour"); prints one path per line (or JSON), its notices on stderr."""
    replies = _ask(host, port, _request("/sfx/meaning", text, limit), "/sfx/done", timeout)
    _refused(replies)
    for m in replies:
        if m.address == "/sfx/notice":
            click.echo(f"daw-bridge: notice: {m.params[-1]}", err=True)
    _print_results(replies, as_json)


@cli.command()
@click.argument("path")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, MAX_LIMIT))
@_client_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout.")
def similar(path, limit, host, port, timeout, as_json):
    """Files that sound like PATH, through a running bridge that answers /sfx/similar."""
    replies = _ask(host, port, _request("/sfx/similar", os.path.abspath(path), limit), "/sfx/done", timeout)
    _refused(replies)
    _print_results(replies, as_json)


@cli.command()
@click.argument("path")
@_client_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def info(path, host, port, timeout, as_json):
    """What the index knows of PATH, field by field, with where each value came from."""
    replies = _ask(host, port, _request("/sfx/info", os.path.abspath(path)), "/sfx/done", timeout)
    _refused(replies)
    fields = [m.params[1:] for m in replies if m.address == "/sfx/field"]
    if as_json:
        click.echo(_json({"path": os.path.abspath(path),
                          "fields": [dict(zip(("name", "value", "source"), f)) for f in fields]}))
    else:
        for name, value, source in fields:
            click.echo(f"{name}: {value}  [{source}]")


@cli.command()
@click.argument("path")
@click.argument("field")
@click.argument("value")
@_client_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def tag(path, field, value, host, port, timeout, as_json):
    """Write a person's VALUE of FIELD into PATH (its tags, sidecar and index) through a running bridge.

    FIELD is a descriptive field (Description, CatID, FXName, Notes...), Keywords (the whole list),
    Keywords+ (add words) or Keywords- (remove words).
    """
    replies = _ask(host, port, _request("/sfx/tag", os.path.abspath(path), field, value), "/sfx/tagged",
                   timeout)
    _refused(replies)
    name, now = replies[-1].params[1:3]
    if as_json:
        click.echo(_json({"path": os.path.abspath(path), "field": name, "value": now, "source": "person"}))
    else:
        click.echo(f"{name}: {now}")


@cli.command()
@_client_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout.")
def addresses(host, port, timeout, as_json):
    """The OSC addresses a running bridge answers (/sfx/similar only where similarity search is present)."""
    replies = _ask(host, port, _request("/sfx/addresses"), "/sfx/addresses", timeout)
    _refused(replies)
    names = str(replies[-1].params[1]).split()
    click.echo(_json(names) if as_json else "\n".join(names))


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
    from sidecar.errors import SidecarError, exit_status
    try:
        sys.exit(cli.main(standalone_mode=True))
    except SidecarError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exit_status(exc))
