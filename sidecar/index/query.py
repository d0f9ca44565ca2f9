"""Soundminer's search language, parsed into a small tree; only the store turns it into SQL.

    door wood        both words (space = AND)
    door, gate       either (comma = OR between groups)
    door -metal      NOT
    "car door"       a phrase
    foot*            a prefix
    category:door    one column (description, keywords, labels, category, name, path)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sidecar.errors import QueryError

FIELDS = {
    "description": "t_description", "keywords": "t_keywords", "keyword": "t_keywords",
    "labels": "t_labels", "label": "t_labels", "category": "t_category", "catid": "t_category",
    "subcategory": "t_category", "name": "t_name", "filename": "t_name", "path": "t_path",
}

_TOKEN = re.compile(r'\s*(-?)(?:([A-Za-z]+):)?("([^"]*)"?|[^\s",]+)\s*')


@dataclass(frozen=True)
class Term:
    text: str
    kind: str = "word"          # word | phrase | prefix
    column: str | None = None   # an FTS column, or None for every column
    negate: bool = False
    alternatives: tuple[str, ...] = ()   # synonyms, matched as well as text

    def fts(self) -> str:
        """This term as an FTS5 expression, every token quoted so input never becomes syntax."""
        options = [self._one(self.text)] + [_quote(a) for a in self.alternatives]
        expr = options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"
        return f"{self.column} : {expr}" if self.column else expr

    def _one(self, text: str) -> str:
        return _quote(text) + ("*" if self.kind == "prefix" else "")


@dataclass
class Group:
    """Terms that must all hold."""

    terms: list[Term] = field(default_factory=list)

    @property
    def positives(self) -> list[Term]:
        return [t for t in self.terms if not t.negate]

    @property
    def negatives(self) -> list[Term]:
        return [t for t in self.terms if t.negate]


@dataclass
class Query:
    """Groups of which any may hold (comma = OR)."""

    groups: list[Group] = field(default_factory=list)

    def expanded(self, synonyms: Callable[[str], list[str]]) -> "Query":
        """The same query with each plain word also matching its synonyms."""
        groups = []
        for g in self.groups:
            terms = []
            for t in g.terms:
                if t.kind == "word":
                    alts = tuple(s for s in synonyms(t.text) if s.lower() != t.text.lower())
                    t = replace(t, alternatives=alts)
                terms.append(t)
            groups.append(Group(terms))
        return Query(groups)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def parse(text: str) -> Query:
    """Parse a query; raise QueryError for input that names nothing to search."""
    if text.count('"') % 2:
        raise QueryError(f"unbalanced quote in query: {text!r}")
    groups: list[Group] = []
    for part in _split_groups(text):
        terms = [_term(m) for m in _TOKEN.finditer(part) if m.group(3)]
        terms = [t for t in terms if t is not None]
        if terms:
            groups.append(Group(terms))
    if not groups:
        raise QueryError(f"empty query: {text!r}")
    return Query(groups)


def _split_groups(text: str) -> list[str]:
    parts, buf, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _term(m: re.Match) -> Term | None:
    negate = m.group(1) == "-"
    name = m.group(2)
    raw = m.group(3)
    column = None
    if name is not None:
        column = FIELDS.get(name.lower())
        if column is None:
            raise QueryError(f"unknown field {name!r}; known: {', '.join(sorted(set(FIELDS)))}")
    if raw.startswith('"'):
        text = m.group(4).strip()
        if not text:
            return None
        return Term(text, "phrase", column, negate)
    if raw.endswith("*"):
        text = raw.rstrip("*")
        if not _has_word(text):
            raise QueryError(f"a prefix needs at least one letter or digit: {raw!r}")
        return Term(text, "prefix", column, negate)
    if not _has_word(raw):
        return None
    return Term(raw, "word", column, negate)


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)
