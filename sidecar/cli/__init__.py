"""The `sidecar` command: one module per command group, gathered here."""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from sidecar import __version__
from sidecar.errors import SidecarError, exit_status


#: each command and where it lives, imported only when it runs or help lists it: `sidecar search`
#: must not pay for the scanner's imports (numpy, the audio readers) at start-up
COMMANDS = {
    "apply": "sidecar.cli.sidecars:apply", "daemon": "sidecar.cli.daemon:daemon",
    "export": "sidecar.cli.sidecars:export", "import-sidecars": "sidecar.cli.sidecars:import_sidecars",
    "index": "sidecar.cli.index:index", "learn": "sidecar.cli.learn:learn", "scan": "sidecar.cli.scan:scan",
    "search": "sidecar.cli.search:search", "serve-max": "sidecar.cli.serve_max:serve_max",
    "show": "sidecar.cli.show:show", "similar": "sidecar.cli.similar:similar",
    "status": "sidecar.cli.status:status", "ucs": "sidecar.cli.ucs:ucs", "undo": "sidecar.cli.undo:undo",
    "vocab": "sidecar.cli.vocab:vocab", "web": "sidecar.cli.web:web",
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name, on first use."""

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context | None, name: str) -> click.Command | None:
        where = COMMANDS.get(name)
        if where is None:
            return None
        module, attr = where.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sidecar")
@click.option("--debug", is_flag=True, help="Log details to stderr.")
def cli(debug):
    """SFX Sidecar: classify a sound-effects library and write what it hears into the files,
    beside them (sidecar XML) and into a searchable index."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="sidecar: %(levelname)s %(message)s", stream=sys.stderr)


def main() -> None:
    # numpy's OpenBLAS would run each larger matrix product on every core and keep its threads
    # spinning after: the scan's workers (and the daemon's) are the parallelism, and with two of
    # them on two cores those threads only added CPU (a sixth of a first scan's). Set before
    # numpy loads; a value set outside wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
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
