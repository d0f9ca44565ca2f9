"""Which synonyms of a word add nothing to a search, told by the words FTS5 indexes for each.

A synonym that FTS5 reduces to the word itself ("creaking", "creaks" for "creak"), or a phrase
holding the word ("fire crackle" for "crackle"), matches no file the word does not match. Left in
the query it costs a full pass over its rows when bm25 counts each phrase's rows (the IDF), and
counts a file's one word twice. Both index backends expand a query through this, so they rank alike.

Text is tokenized as typed, CJK runs unsplit: a run held whole inside another is held character by
character too, so no synonym that could match more is ever dropped (some that add nothing may stay).
"""

from __future__ import annotations

import functools
import sqlite3
import threading

#: the index's tokenizer (sidecar/index/sqlite/db.py SCHEMA)
TOKENIZE = "porter unicode61 remove_diacritics 2"

_lock = threading.Lock()
_conn: sqlite3.Connection | None = None


@functools.lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[str, ...]:
    """The tokens FTS5 makes of text, in order."""
    global _conn
    with _lock:
        if _conn is None:
            _conn = sqlite3.connect(":memory:", check_same_thread=False)
            _conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZE}')")
            _conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        _conn.execute("DELETE FROM t")
        _conn.execute("INSERT INTO t(rowid, x) VALUES (1, ?)", (text,))
        return tuple(r[0] for r in _conn.execute("SELECT term FROM v ORDER BY offset"))


def _holds(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    """outer holds inner as consecutive tokens (the phrase outer matches only where inner does)."""
    n = len(inner)
    return any(outer[i:i + n] == inner for i in range(len(outer) - n + 1))


def useful_synonyms(word: str, synonyms: list[str]) -> tuple[str, ...]:
    """The synonyms that can match a file the word and the other synonyms kept do not, in their
    order: each kept synonym holds neither the word nor a shorter kept synonym."""
    own = tokens(word)
    if not own:
        return tuple(synonyms)
    kept: list[tuple[str, ...]] = [own]
    keep: set[str] = set()
    for s in sorted(synonyms, key=lambda s: len(tokens(s))):
        mine = tokens(s)
        if mine and not any(_holds(mine, k) for k in kept):
            kept.append(mine)
            keep.add(s)
    return tuple(s for s in dict.fromkeys(synonyms) if s in keep)
