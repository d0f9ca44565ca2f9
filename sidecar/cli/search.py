"""`sidecar search`: the index, in Soundminer's search language."""

from __future__ import annotations

import click

from sidecar.cli.common import db_option, make_app
from sidecar.cli.output import print_rows, warn
from sidecar.errors import QueryError
from sidecar.metadata.record import join_keywords


class QueryCommand(click.Command):
    """A command whose one argument is a query that may begin with `-` (`-metal door`: NOT metal).

    click reads any word that begins with `-` as an option. Before it parses,
    a word that is not one of the command's own options (nor an option's
    value) is moved after `--`, so `search '-metal door' --json` works as well
    as `search --json -- '-metal door'`. A command line that already holds `--` is left as it is.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" not in args:
            args = self._queries_last(ctx, args)
        return super().parse_args(ctx, args)

    def _queries_last(self, ctx: click.Context, args: list[str]) -> list[str]:
        options: dict[str, click.Option] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in param.opts + param.secondary_opts:
                    options[name] = param
        takes_value = {name for name, p in options.items() if not p.is_flag and not p.count}
        kept: list[str] = []
        moved: list[str] = []
        i = 0
        while i < len(args):
            word = args[i]
            i += 1
            if not word.startswith("-") or word == "-":
                kept.append(word)
            elif word.startswith("--"):
                kept.append(word)   # a long option; an unknown one is click's to report
                if word in takes_value and i < len(args):
                    kept.append(args[i])
                    i += 1
            elif word in options:
                kept.append(word)
                if word in takes_value and i < len(args):
                    kept.append(args[i])
                    i += 1
            elif word[:2] in takes_value and _converts(options[word[:2]], word[2:], ctx):
                kept.append(word)   # a short option with its value attached: -n5
            else:
                moved.append(word)  # -metal, -noise, "-metal door": the query
        return kept + ["--"] + moved if moved else kept


def _converts(option: click.Option, value: str, ctx: click.Context) -> bool:
    try:
        option.type.convert(value, option, ctx)
    except click.BadParameter:
        return False
    return True


@click.command(cls=QueryCommand)
@click.argument("query", required=False)
@click.option("--meaning", metavar="TEXT",
              help="Search by meaning instead: English words for what you hear (\"heavy downpour\").")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=50, show_default=True,
              help="Most results to show (1 or more).")
@click.option("--literal", is_flag=True, help="Match the words as typed, without synonyms.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array on stdout, best first.")
@db_option
def search(query, meaning, limit, literal, as_json, db_path):
    """Find sounds: space = AND, comma = OR, -word = NOT, "a phrase", prefix*, field:word.

    Fields: description, keywords, labels, category (CatID, Category, SubCategory), name, path.
    A word also matches its synonyms unless --literal is given. A query may begin with -word
    (`sidecar search '-metal door'`); `--` before the query works as well.

    --meaning TEXT finds sounds by what the words mean rather than the words themselves
    ("canine" finds barking dogs): through each file's own words and through what was heard in
    it, each hit saying which carried it. The text model is English; a query in another language
    finds little. Only the first 256 tokens of a query are read.
    """
    if (query is None) == (meaning is None):
        raise click.UsageError("give a QUERY, or --meaning TEXT (not both)")
    app = make_app(db_path, must_exist=True)
    if meaning is not None:
        if literal:
            raise click.UsageError("--literal applies to word search, not --meaning")
        return _by_meaning(app, meaning, limit, as_json)
    try:
        hits = app.search(query, limit=limit, literal=literal)
    except QueryError as exc:
        raise click.UsageError(str(exc)) from exc
    print_rows(hits, as_json, "no match", ["path", "CatID", "Description", "Keywords"], [56, 10, 30, 40],
               lambda h: [h.path, h.record.CatID, h.record.Description, join_keywords(h.record.Keywords)])


def _by_meaning(app, text, limit, as_json):
    from sidecar.meaning.search import MeaningError, check_query
    from sidecar.meaning.text_model import TextModelUnavailable
    try:
        check_query(text)               # a bad query is answered before the model loads
        searcher = app.meaning(catch_up_all=True)
        searcher.prepare()
        waiting = searcher.table.todo_count()
        if waiting > 100:
            warn(f"reading the words and labels of {waiting:,} files for search by meaning (once)")
        answer = searcher(text, limit)
    except (MeaningError, TextModelUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    for notice in answer.notices:
        warn(notice)
    print_rows(answer.hits, as_json, "no match", ["path", "score", "CatID", "why"], [56, 5, 10, 70],
               lambda h: [h.path, f"{h.score:.2f}", h.record.CatID, "; ".join(h.why())])
