"""The `sidecar` command: one module per command group, gathered here."""

from __future__ import annotations

import logging
import sys

import click

from sidecar import __version__
from sidecar.errors import SidecarError, exit_status


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sidecar")
@click.option("--debug", is_flag=True, help="Log details to stderr.")
def cli(debug):
    """SFX Sidecar: classify a sound-effects library and write what it hears into the files,
    beside them (sidecar XML) and into a searchable index."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="sidecar: %(levelname)s %(message)s", stream=sys.stderr)


def _register() -> None:
    from sidecar.cli.daemon import daemon
    from sidecar.cli.index import index
    from sidecar.cli.scan import scan
    from sidecar.cli.search import search
    from sidecar.cli.serve_max import serve_max
    from sidecar.cli.learn import learn
    from sidecar.cli.show import show
    from sidecar.cli.similar import similar
    from sidecar.cli.sidecars import apply, export, import_sidecars
    from sidecar.cli.status import status
    from sidecar.cli.ucs import ucs
    from sidecar.cli.undo import undo
    from sidecar.cli.vocab import vocab
    from sidecar.cli.web import web

    for command in (scan, daemon, search, show, similar, learn, undo, export, import_sidecars, apply, vocab, ucs, serve_max, status, index, web):
        cli.add_command(command)


_register()


def main() -> None:
    try:
        status = cli.main(standalone_mode=False)    # ctx.exit(n) comes back as n here
        sys.exit(status if isinstance(status, int) else 0)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)     # 2 for usage errors, 1 otherwise
    except SidecarError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exit_status(exc))
    except SystemExit:
        raise
