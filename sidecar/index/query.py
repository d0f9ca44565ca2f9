"""Soundminer's search language, parsed into a small tree; only the store turns it into SQL.

    door wood        both words (space = AND)
    door, gate       either (comma = OR between groups)
    door -metal      NOT
    "car door"       a phrase
    foot*            a prefix
    category:door    one column (description, keywords, labels, category, name, path)

Synonyms match the words a file is described by (description, keywords,
labels, category, name), never its folders: the word as typed may match a
path, its synonyms may not. Chinese, Japanese and Korean text has no spaces
between words, so both the index and a query split it into single characters
(`cjk_split`) and a CJK term is matched as the phrase of its characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sidecar.errors import QueryError
from sidecar.index.useful_synonyms import useful_synonyms

FIELDS = {
    "description": "t_description", "keywords": "t_keywords", "keyword": "t_keywords",
    "labels": "t_labels", "label": "t_labels", "category": "t_category", "catid": "t_category",
    "subcategory": "t_category", "name": "t_name", "filename": "t_name", "path": "t_path",
}

#: the columns a synonym may match: every one but the folder path
SYNONYM_COLUMNS = ("t_description", "t_keywords", "t_labels", "t_category", "t_name")

# Han (with radicals, iteration marks and compatibility forms), Hiragana, Katakana, Hangul
_CJK = re.compile(
    "([\u1100-\u11ff\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u3035\u303b\u303c"
    "\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f"
    "\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f])")


def cjk_split(text: str) -> str:
    """Text with every CJK character made a word of its own: "強い雨の音" -> "強 い 雨 の 音".

    The FTS tokenizer keeps a run of CJK characters as one token; split like this
    in the index and in queries, any substring of a run can be found as a phrase.
    Text is NFC-normalised first, so decomposed Hangul (as macOS file names hold it) matches.
    """
    if not text or text.isascii():
        return text
    text = unicodedata.normalize("NFC", text)
    if not _CJK.search(text):
        return text
    return " ".join(_CJK.sub(r" \1 ", text).split())


_TOKEN = re.compile(r'\s*(-?)(?:([A-Za-z]+):)?("([^"]*)"?|[^\s",]+)\s*')


@dataclass(frozen=True)
class Term:
    text: str
    kind: str = "word"          # word | phrase | prefix
    column: str | None = None   # an FTS column, or None for every column
    negate: bool = False
    alternatives: tuple[str, ...] = ()   # synonyms, matched as well as text

    def fts(self) -> str:
        """This term as an FTS5 expression, every token quoted so input never becomes syntax.

        Synonyms are matched in SYNONYM_COLUMNS only: `"sine" OR {t_description ...} : ("tone")`.
        With an explicit column they share its filter (FTS5 intersects nested
        column filters), and a path: term takes no synonyms at all.
        """
        own = _quote(self.text) + ("*" if self.kind == "prefix" else "")
        alternatives = [] if self.column == "t_path" else [_quote(a) for a in self.alternatives]
        if not alternatives:
            return f"{self.column} : {own}" if self.column else own
        alts = " OR ".join(alternatives)
        if self.column:
            return f"{self.column} : ({own} OR {alts})"
        return f"({own} OR {{{' '.join(SYNONYM_COLUMNS)}}} : ({alts}))"


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
                    t = replace(t, alternatives=useful_synonyms(t.text, synonyms(t.text)))
                terms.append(t)
            groups.append(Group(terms))
        return Query(groups)


def _quote(text: str) -> str:
    return '"' + cjk_split(text).replace('"', '""') + '"'


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
