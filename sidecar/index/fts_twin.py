"""SQLite FTS5's matching and bm25 ranking, reproduced for an index without FTS5 (PostgreSQL).

The two backends must answer a search the same way. So the PostgreSQL index
does not use a text-search configuration of its own (its English stemmer is
Porter2, with stop words, where FTS5 runs the original Porter without any):

- words: the text is cut and stemmed by FTS5's own tokenizer (`porter unicode61
  remove_diacritics 2`), reached through an in-memory SQLite table, so a word
  is whatever FTS5 says it is;
- matching: each word is stored in a tsvector as `column:stem` at its FTS5
  position, and a query compiles to one tsquery (phrases with `<->`, prefixes
  with `:*`), served by one GIN index;
- ranking: bm25 as FTS5 computes it (k1 1.2, b 0.75, the same column weights,
  IDF from the count of rows holding each phrase, counting a phrase's hits only
  where FTS5's expression tree counts them, replaying FTS5's walk over the rows
  where that count depends on the rows before: see `walk`), over the few rows
  a search ranks.

Checked against FTS5 itself: of 2,400 generated ranked queries over a
300-file library (scores compared row by row), 5 still scored a row
differently, each with a phrase on the right of a NOT or a word-pair phrase
whose iterator stopped before the first match; no answer's order changed in
tests/test_search_backends.py.
"""

from __future__ import annotations

import bisect
import math
import sqlite3
import threading
from dataclasses import dataclass, replace

from sidecar.index.query import SYNONYM_COLUMNS, Query, Term, cjk_split

#: the full-text columns, in FTS5 order; a stored word is prefixed with its column's number
COLUMNS = ("t_description", "t_keywords", "t_labels", "t_category", "t_name", "t_path")
#: bm25 weights in COLUMNS order: the SQLite index's _WEIGHTS
WEIGHTS = (2.0, 3.0, 2.0, 3.0, 2.0, 1.0)
#: a lexeme no row holds (every stored one is `N:word`): a phrase of no words matches nothing, as in FTS5
NOTHING = "'-'"
#: tsvector positions stop at 16383: a column longer than that keeps its words, not their order beyond
MAX_POSITION = 16383
#: a tsvector lexeme is at most 2047 bytes; FTS5 keeps longer tokens, which no real search types
MAX_LEXEME_BYTES = 2000

_K1, _B = 1.2, 0.75


class Tokenizer:
    """FTS5's tokenizer on an in-memory table: text in, the tokens FTS5 would index out."""

    def __init__(self):
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        cols = ", ".join(COLUMNS)
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5({cols}, "
                           "tokenize='porter unicode61 remove_diacritics 2')")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self._lock = threading.Lock()

    def columns(self, texts: dict[str, str | None]) -> list[list[str]]:
        """Each column's tokens in order (COLUMNS order)."""
        values = [texts.get(c) for c in COLUMNS]
        out: list[list[str]] = [[] for _ in COLUMNS]
        if not any(values):
            return out
        index = {c: i for i, c in enumerate(COLUMNS)}
        with self._lock:
            self._conn.execute("DELETE FROM t")
            self._conn.execute(f"INSERT INTO t(rowid, {', '.join(COLUMNS)}) VALUES (1, ?, ?, ?, ?, ?, ?)", values)
            for term, col, offset in self._conn.execute("SELECT term, col, offset FROM v ORDER BY col, offset"):
                out[index[col]].append(term)
        return out

    def tokens(self, text: str) -> list[str]:
        return self.columns({COLUMNS[0]: text})[0]


_tokenizer: Tokenizer | None = None
_tokenizer_lock = threading.Lock()


def tokenizer() -> Tokenizer:
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            _tokenizer = Tokenizer()
        return _tokenizer


# -- the expression tree (what FTS5 builds from the MATCH string) ----------------------------
@dataclass(frozen=True)
class Phrase:
    tokens: tuple[str, ...]
    prefix: bool
    columns: frozenset[int]


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Or:
    children: tuple


@dataclass(frozen=True)
class Not:
    left: object        # None: a group of negatives only (every row without them)
    right: object


_ALL = frozenset(range(len(COLUMNS)))
_SYNONYMS = frozenset(COLUMNS.index(c) for c in SYNONYM_COLUMNS)
#: tier one of a large result: matches in category or keywords (the SQLite index's `{t_category t_keywords}`)
TIER_ONE = frozenset((COLUMNS.index("t_category"), COLUMNS.index("t_keywords")))


def _phrase(text: str, prefix: bool, columns: frozenset[int]) -> Phrase:
    return Phrase(tuple(tokenizer().tokens(cjk_split(text))), prefix, columns)


def term_tree(term: Term):
    """A term as FTS5 reads `Term.fts()`: the word, or the word OR its synonyms (not in the path)."""
    columns = frozenset((COLUMNS.index(term.column),)) if term.column else _ALL
    own = _phrase(term.text, term.kind == "prefix", columns)
    alternatives = [] if term.column == "t_path" else term.alternatives
    if not alternatives:
        return own
    alt_columns = columns if term.column else _SYNONYMS
    return Or((own, *(_phrase(a, False, alt_columns) for a in alternatives)))


def group_tree(group):
    pos = And(tuple(term_tree(t) for t in group.positives)) if group.positives else None
    if not group.negatives:
        return pos
    return Not(pos, Or(tuple(term_tree(t) for t in group.negatives)))


def query_tree(query: Query):
    """The tree of a query whose every group has a positive term (the ranked kind)."""
    return normalize(Or(tuple(group_tree(g) for g in query.groups)))


def restrict(node, columns: frozenset[int]):
    """The tree with every phrase limited to these columns too (FTS5 intersects nested filters)."""
    if isinstance(node, Phrase):
        return replace(node, columns=node.columns & columns)
    if isinstance(node, Not):
        left = None if node.left is None else restrict(node.left, columns)
        return Not(left, restrict(node.right, columns))
    return type(node)(tuple(restrict(c, columns) for c in node.children))


def phrases(node) -> list[Phrase]:
    """Every phrase in the order FTS5 numbers them (the order of the MATCH text)."""
    if isinstance(node, Phrase):
        return [node]
    if isinstance(node, Not):
        return (phrases(node.left) if node.left is not None else []) + phrases(node.right)
    return [p for c in node.children for p in phrases(c)]


# -- to PostgreSQL -------------------------------------------------------------------------
def _lexeme(column: int, token: str) -> str:
    text = f"{column}:{token}".replace("\\", "\\\\").replace("'", "''")
    return f"'{text}'"


def tsvector_text(columns: list[list[str]]) -> str:
    """A tsvector literal of a row's tokens: `'0:door':1 '1:wood':1,4`."""
    positions: dict[str, list[int]] = {}
    for c, tokens in enumerate(columns):
        for offset, token in enumerate(tokens):
            if len(token.encode()) > MAX_LEXEME_BYTES:
                continue
            plist = positions.setdefault(_lexeme(c, token), [])
            pos = min(offset + 1, MAX_POSITION)
            if not plist or plist[-1] != pos:
                plist.append(pos)
    return " ".join(f"{lex}:{','.join(map(str, plist))}" for lex, plist in positions.items())


def tsquery_text(node) -> str:
    """A tsquery literal: no user text becomes syntax, every word is a quoted lexeme."""
    if isinstance(node, Phrase):
        if not node.tokens or not node.columns:
            return NOTHING
        alts = []
        for c in sorted(node.columns):
            parts = [_lexeme(c, t) for t in node.tokens]
            if node.prefix:
                parts[-1] += ":*"
            alts.append(" <-> ".join(parts))
        return "(" + " | ".join(alts) + ")"
    if isinstance(node, Not):
        if node.left is None:
            return f"!({tsquery_text(node.right)})"
        return f"({tsquery_text(node.left)} & !({tsquery_text(node.right)}))"
    op = " & " if isinstance(node, And) else " | "
    return "(" + op.join(tsquery_text(c) for c in node.children) + ")"


# -- bm25, as fts5Bm25Function computes it ---------------------------------------------------
def _hits(phrase: Phrase, tokens: list[str]) -> int:
    n = len(phrase.tokens)
    if n == 0 or len(tokens) < n:
        return 0
    *head, last = phrase.tokens
    count = 0
    for start in range(len(tokens) - n + 1):
        if all(tokens[start + k] == t for k, t in enumerate(head)):
            tok = tokens[start + n - 1]
            if tok == last or (phrase.prefix and tok.startswith(last)):
                count += 1
    return count


class _Row:
    """One candidate row: which phrases match and how often, per column, counted on demand."""

    def __init__(self, columns: list[list[str]]):
        self.columns = columns
        self._cache: dict[Phrase, list[int]] = {}

    def hits(self, phrase: Phrase) -> list[int]:
        found = self._cache.get(phrase)
        if found is None:
            found = [(_hits(phrase, self.columns[c]) if c in phrase.columns else 0) for c in range(len(COLUMNS))]
            self._cache[phrase] = found
        return found

    def matches(self, node) -> bool:
        if isinstance(node, Phrase):
            return any(self.hits(node))
        if isinstance(node, Not):
            return (node.left is None or self.matches(node.left)) and not self.matches(node.right)
        if isinstance(node, And):
            return all(self.matches(c) for c in node.children)
        return any(self.matches(c) for c in node.children)



def _count(node, row: _Row, freq: list[float], i: int, live: bool) -> int:
    """Weighted hits of each phrase from number i on; a phrase's hits count where FTS5 reports
    its instances: its node sits on this row, i.e. every AND above it matched here, and never
    on the right of a NOT. Returns the number of the next phrase."""
    here = live and row.matches(node)
    if isinstance(node, Phrase):
        if here:
            freq[i] = sum(WEIGHTS[c] * h for c, h in enumerate(row.hits(node)))
        return i + 1
    if isinstance(node, Not):
        if node.left is not None:
            i = _count(node.left, row, freq, i, here)
        return _count(node.right, row, freq, i, False)
    for child in node.children:
        i = _count(child, row, freq, i, here)
    return i


def bm25(tree, columns: list[list[str]], idf: list[float], avgdl: float,
         live: list[bool] | None = None) -> float:
    """FTS5's bm25() for one row (negative: lower is better), phrases numbered as phrases(tree).
    live: which phrases hold their hits on this row, from walk() (None: the plain count)."""
    freq = [0.0] * len(idf)
    row = _Row(columns)
    if live is None:
        _count(tree, row, freq, 0, True)
    else:
        for i, phrase in enumerate(phrases(tree)):
            if live[i]:
                freq[i] = sum(WEIGHTS[c] * h for c, h in enumerate(row.hits(phrase)))
    doc_len = float(sum(len(t) for t in columns))
    score = 0.0
    for i, f in enumerate(freq):
        score += idf[i] * ((f * (_K1 + 1.0)) / (f + _K1 * (1 - _B + _B * doc_len / avgdl)))
    return -1.0 * score


def idf_of(hit_counts: list[int], rows: int) -> list[float]:
    out = []
    for hits in hit_counts:
        value = math.log((rows - hits + 0.5) / (hits + 0.5))
        out.append(value if value > 0.0 else 1e-6)
    return out


# -- where FTS5's count of a phrase depends on the rows before ---------------------------------
# FTS5 walks the matching rows in rowid order with one iterator per phrase. A phrase limited to
# some columns (a synonym, a column filter, tier one) or of several words stops on every row that
# holds its words anywhere, marked "no match" where they are not in its columns or not in order.
# When an AND below the top of the tree lands on such a row, FTS5 empties the hit lists of every
# phrase under it, including phrases already waiting on a later row; those count nothing there
# (fts5ExprNodeTest_AND / fts5ExprNodeZeroPoslist). bm25 then differs from the plain count, so
# for such trees the walk is replayed here, row by row, from the same stop lists.

def normalize(node):
    """The tree as FTS5's parser builds it: an AND or OR of one child is that child, and an AND
    in an AND (an OR in an OR) gives its children to its parent."""
    if isinstance(node, Phrase):
        return node
    if isinstance(node, Not):
        return Not(None if node.left is None else normalize(node.left), normalize(node.right))
    kids = []
    for child in (normalize(c) for c in node.children):
        if type(child) is type(node):
            kids.extend(child.children)
        else:
            kids.append(child)
    return kids[0] if len(kids) == 1 else type(node)(tuple(kids))


def may_miss(phrase: Phrase) -> bool:
    """Can this phrase's iterator stop on a row it does not match?"""
    return len(phrase.tokens) > 1 or phrase.columns != _ALL


def needs_walk(tree) -> bool:
    """Whether an AND below the top holds a phrase that may stop where it does not match."""
    def walk(node, top: bool) -> bool:
        if isinstance(node, Phrase):
            return False
        if isinstance(node, And) and not top and any(may_miss(p) for p in phrases(node)):
            return True
        kids = (node.left, node.right) if isinstance(node, Not) else node.children
        return any(walk(k, False) for k in kids if k is not None)
    return walk(tree, True)


class _Node:
    eof = False
    nomatch = False
    rowid = 0
    children: list = []

    def set_eof(self) -> None:
        """fts5ExprSetEof: the node and everything under it are done."""
        self.eof, self.nomatch = True, False
        for c in self.children:
            c.set_eof()


class _PhraseNode(_Node):
    def __init__(self, number: int, stops: list[int], matches: set[int], live: list[bool]):
        self.number, self.stops, self.matches, self.live = number, stops, matches, live
        self.at = -1

    def _land(self, at: int) -> None:
        self.at = at
        if at >= len(self.stops):
            self.eof, self.nomatch = True, False
            return
        self.rowid = self.stops[at]
        self.nomatch = self.rowid not in self.matches
        self.live[self.number] = True           # the hit list is read again for the new row

    def first(self) -> None:
        if not self.stops:
            self.eof = True
            return
        self._land(0)

    def next(self, from_valid: bool, start: int) -> None:
        at = self.at + 1
        if from_valid:
            at = max(at, bisect.bisect_left(self.stops, start))
        self._land(at)

    def zero(self) -> None:
        self.live[self.number] = False


class _AndNode(_Node):
    def __init__(self, children, is_root: bool):
        self.children, self.is_root = children, is_root

    def first(self) -> None:
        for c in self.children:
            c.first()
        self.rowid = self.children[0].rowid
        if any(c.eof for c in self.children):
            self.set_eof()
        else:
            self.test()

    def next(self, from_valid: bool, start: int) -> None:
        self.children[0].next(from_valid, start)
        self.test()

    def test(self) -> None:
        last = self.rowid
        while True:
            self.nomatch = False
            match = True
            for child in self.children:
                if not child.eof and child.rowid < last:
                    child.next(True, last)
                if child.eof:
                    self.set_eof()
                    return
                if child.rowid != last:
                    match = False
                    last = child.rowid
                if child.nomatch:
                    self.nomatch = True
            if match:
                break
        if self.nomatch and not self.is_root:
            self.zero()
        self.rowid = last

    def zero(self) -> None:
        for c in self.children:
            c.zero()


def _compare(a: _Node, b: _Node) -> int:
    if b.eof:
        return -1
    if a.eof:
        return 1
    return (a.rowid > b.rowid) - (a.rowid < b.rowid)


class _OrNode(_Node):
    def __init__(self, children):
        self.children = children

    def first(self) -> None:
        for c in self.children:
            c.first()
        self.rowid = self.children[0].rowid
        if all(c.eof for c in self.children):
            self.set_eof()
        else:
            self.test()

    def next(self, from_valid: bool, start: int) -> None:
        last = self.rowid
        for c in self.children:
            if not c.eof and (c.rowid == last or (from_valid and c.rowid < start)):
                c.next(from_valid, start)
        self.test()

    def test(self) -> None:
        best = self.children[0]
        for c in self.children[1:]:
            cmp = _compare(best, c)
            if cmp > 0 or (cmp == 0 and not c.nomatch):
                best = c
        self.rowid, self.eof, self.nomatch = best.rowid, best.eof, best.nomatch

    def zero(self) -> None:
        for c in self.children:
            c.zero()


class _NotNode(_Node):
    def __init__(self, left, right):
        self.left, self.right = left, right
        self.children = [left, right]

    def first(self) -> None:
        self.left.first()
        self.right.first()
        self.eof = self.left.eof
        if not self.eof:
            self.test()

    def next(self, from_valid: bool, start: int) -> None:
        self.left.next(from_valid, start)
        self.test()

    def test(self) -> None:
        p1, p2 = self.left, self.right
        while not p1.eof:
            cmp = _compare(p1, p2)
            if cmp > 0:
                p2.next(True, p1.rowid)
                cmp = _compare(p1, p2)
            if cmp or p2.nomatch:
                break
            p1.next(False, 0)
        self.eof, self.nomatch, self.rowid = p1.eof, p1.nomatch, p1.rowid
        if p1.eof:
            p2.zero()

    def zero(self) -> None:
        self.left.zero()
        self.right.zero()


def walk(tree, stops: list[list[int]], matches: list[set[int]], upto: int | None = None) -> dict[int, list[bool]]:
    """Replay FTS5's walk over the rows: for each matching row (id <= upto), which phrases (numbered
    as phrases(tree)) hold their hits there. stops/matches: per phrase, ascending row ids."""
    live = [False] * len(stops)
    nodes: list[_PhraseNode] = []

    def build(node, is_root: bool):
        if isinstance(node, Phrase):
            n = len(nodes)
            nodes.append(_PhraseNode(n, stops[n], matches[n], live))
            return nodes[-1]
        if isinstance(node, Not):
            return _NotNode(build(node.left, False), build(node.right, False))
        kids = [build(c, False) for c in node.children]
        return _AndNode(kids, is_root) if isinstance(node, And) else _OrNode(kids)

    root = build(tree, True)
    out: dict[int, list[bool]] = {}
    root.first()
    while not root.eof and root.nomatch:
        root.next(False, 0)
    while not root.eof and (upto is None or root.rowid <= upto):
        here = root.rowid
        out[here] = [live[n.number] and not n.eof and n.rowid == here for n in nodes]
        root.next(False, 0)
        while not root.eof and root.nomatch:
            root.next(False, 0)
    return out
