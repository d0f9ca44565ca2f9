"""Shared output: --json prints one document on stdout and nothing else; the rest goes to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable

import click


def emit_json(doc) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=None if isinstance(doc, list) else 2))


def emit_rows_json(rows: Iterable[dict]) -> None:
    """An array streamed one row per line, `[]` when empty (sqlite-utils' convention)."""
    first = True
    for row in rows:
        click.echo(("[" if first else ",") + json.dumps(row, ensure_ascii=False))
        first = False
    click.echo("[]" if first else "]")


def warn(message: str) -> None:
    click.echo(f"sidecar: {message}", err=True)


def table(rows: list[list[str]], headers: list[str], widths: list[int] | None = None) -> None:
    if not rows:
        return
    widths = widths or [max(len(h), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    def cut(text: str, w: int) -> str:
        text = str(text).replace("\n", " ")
        return text if len(text) <= w else text[: max(1, w - 1)] + "…"
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    click.echo(line.rstrip())
    for r in rows:
        click.echo("  ".join(cut(c, w).ljust(w) for c, w in zip(r, widths)).rstrip())


def print_rows(items: list, as_json: bool, empty: str, headers: list[str], widths: list[int], row) -> None:
    """Hits of a search: one JSON array (item.to_json()), else a table of row(item), else `empty` on stderr."""
    if as_json:
        emit_rows_json(item.to_json() for item in items)
    elif not items:
        click.echo(empty, err=True)
    else:
        table([row(item) for item in items], headers, widths)


def is_terminal() -> bool:
    return sys.stderr.isatty()
