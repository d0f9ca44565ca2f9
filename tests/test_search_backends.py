"""SQLite (FTS5) and PostgreSQL (tsvector + GIN) answer every search the same way, in the same order.

One generated library goes into both indexes; a few hundred generated queries
in the search language (AND, OR, NOT, phrases, prefixes, column filters,
synonyms) are asked of both, without a limit, with limits, and with a small
ranking window so the tiered ranking of large results is compared too.
"""

from __future__ import annotations

import random
import sqlite3

import pytest

from sidecar.index import fts_twin
from sidecar.index.interfaces import IndexedFile
from sidecar.metadata.record import Label, Provenance, Record

WORDS = ("door doors wood wooden metal gate car cars engine rain rainy footstep footsteps running run "
         "glass break breaking crash impact whoosh wind creak creaking slam bark dog dogs night cricket "
         "crickets ambience traffic city distant close heavy light water splash drip river thunder storm "
         "café naïve über résumé").split()
CJK = ["強い雨", "雨の音", "ドア", "문 닫힘"]
FOLDERS = ["Doors", "Vehicles/Cars", "Nature/Rain", "Foley/Footsteps", "Ambience/City Night", "Impacts"]
CATIDS = ["DOORWood", "DOORMetl", "VEHCar", "RAINGen", "FOOTGrvl", "AMBCity", "GLASBrk", "WATRSplsh"]
LABELS = ["Door", "Rain", "Vehicle", "Walk, footsteps", "Glass", "Dog", "Wind", "Thunderstorm"]
SYNONYMS = {"door": ["gate", "entrance"], "rain": ["drizzle", "downpour"], "car": ["automobile", "vehicle"],
            "dog": ["hound"], "crash": ["smash", "impact"], "wood": ["timber"], "night": ["evening"]}


def synonyms(word: str) -> list[str]:
    return SYNONYMS.get(word.lower(), [])


def library(rng: random.Random, count: int) -> list[tuple[str, Record]]:
    out = []
    for i in range(count):
        words = rng.sample(WORDS, rng.randint(1, 6))
        if rng.random() < 0.1:
            words.append(rng.choice(CJK))
        name = "_".join(w.upper() if j == 0 else w for j, w in enumerate(rng.sample(WORDS, 2))) + f"{i:03d}"
        folder = rng.choice(FOLDERS)
        rec = Record(Description=" ".join(words).capitalize() if rng.random() < 0.9 else "",
                     Keywords=rng.sample(WORDS, rng.randint(0, 4)),
                     CatID=rng.choice(CATIDS), FXName=rng.choice(WORDS) if rng.random() < 0.3 else "",
                     provenance=Provenance(engine="embedded",
                                           labels=[Label(l, 0.5) for l in rng.sample(LABELS, rng.randint(0, 2))]))
        out.append((f"/lib/{folder}/{name}.wav", rec))
    return out


def term(rng: random.Random, lib: list[tuple[str, Record]]) -> str:
    kind = rng.random()
    if kind < 0.45:
        return rng.choice(WORDS)
    if kind < 0.6:         # a phrase taken from a description, so that some match
        desc = rng.choice(lib)[1].Description.lower().split() or ["door"]
        start = rng.randrange(len(desc))
        return '"' + " ".join(desc[start:start + rng.randint(1, 2)]) + '"'
    if kind < 0.75:
        return rng.choice(WORDS)[: rng.randint(2, 4)] + "*"
    if kind < 0.85:
        field = rng.choice(["category", "keywords", "description", "labels", "name", "path"])
        return f"{field}:{rng.choice(WORDS + ['DOORWood', 'Cars', 'Night', 'Rain'])}"
    if kind < 0.9:
        return rng.choice(CJK)
    return rng.choice(["dog", "rain", "car", "door", "night", "crash", "wood"])     # words with synonyms


def query(rng: random.Random, lib) -> str:
    groups = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        terms = [term(rng, lib) for _ in range(rng.choice([1, 1, 2, 2, 3]))]
        if rng.random() < 0.25:
            terms.append("-" + term(rng, lib).lstrip("-"))
        groups.append(" ".join(terms))
    return ", ".join(groups)


@pytest.fixture
def both(store_pair):
    rng = random.Random(21)
    lite, pg = store_pair
    for path, rec in library(rng, 300):
        for s in (lite, pg):
            s.files.upsert(IndexedFile(path, 100, 1, "fp-" + path, "wav", rec))
    return lite, pg


def paths(hits) -> list[str]:
    return [h.path for h in hits]


def test_a_few_hundred_queries_give_the_same_files_in_the_same_order(both):
    lite, pg = both
    rng = random.Random(7)
    lib = library(random.Random(21), 300)
    asked = matched = 0
    differ = []
    for _ in range(300):
        q = query(rng, lib)
        for expand in (None, synonyms):
            for limit in (None, 10):
                asked += 1
                a, b = paths(lite.files.search(q, expand=expand, limit=limit)), paths(pg.files.search(q, expand=expand, limit=limit))
                matched += bool(a)
                if a != b:
                    differ.append((q, bool(expand), limit, a[:5], b[:5]))
    assert not differ, f"{len(differ)} of {asked} searches differ, e.g. {differ[:3]}"
    assert matched > asked / 3      # the queries find things: an empty answer agrees too easily


def test_large_results_are_ranked_in_the_same_tiers(both):
    lite, pg = both
    lite.files.RANK_WINDOW = pg.files.RANK_WINDOW = 8     # most queries now have more matches than the window
    rng = random.Random(11)
    lib = library(random.Random(21), 300)
    differ = []
    for _ in range(150):
        q = query(rng, lib)
        for expand in (None, synonyms):
            a, b = paths(lite.files.search(q, expand=expand, limit=4)), paths(pg.files.search(q, expand=expand, limit=4))
            if a != b:
                differ.append((q, bool(expand), a, b))
    assert not differ, f"{len(differ)} searches differ, e.g. {differ[:3]}"


def test_words_are_fts5s_own():
    """The tokens PostgreSQL stores are those FTS5 indexes: stems, folded case and accents, CJK split."""
    tok = fts_twin.tokenizer()
    assert tok.tokens("Running DOORS café Ünïcode") == ["run", "door", "cafe", "unicod"]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='porter unicode61 remove_diacritics 2')")
    text = "Creaking wooden doors slammed in the naïve résumé's rain-soaked CITY 3.5kHz"
    conn.execute("INSERT INTO t(a) VALUES (?)", (text,))
    for word in tok.tokens(text):
        assert conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (f'"{word}"',)).fetchone()[0] == 1


def test_a_tsquery_never_carries_user_syntax(both):
    lite, pg = both
    for q in ["door's", "it''s", "back\\slash", "a & b", "!door", "door <-> wood", "'quoted'", "(paren"]:
        assert paths(pg.files.search(q)) == paths(lite.files.search(q))


def test_the_word_tally_follows_updates_and_deletes(both):
    """bm25's document frequencies come from a tally kept on write (PostgreSQL's word_rows): after
    files change and go, it still equals a count over the rows, and both indexes still agree."""
    lite, pg = both
    lib = library(random.Random(21), 300)
    changed = library(random.Random(99), 300)
    for (path, _), (_, rec) in zip(lib[:40], changed[:40]):
        for s in (lite, pg):
            s.files.upsert(IndexedFile(path, 100, 2, "fp-" + path, "wav", rec))
    for s in (lite, pg):
        s.files.delete_many([p for p, _ in lib[40:70]])
        s.files.delete(lib[70][0])
    kept = {(r["token"], r["mask"]): r["rows"] for r in pg.db.execute("SELECT * FROM word_rows WHERE rows > 0")}
    counted = {(r["token"], r["mask"]): r["n"] for r in pg.db.execute(
        "SELECT m.token, m.mask, count(*) AS n FROM files, word_masks(files.words) m GROUP BY 1, 2")}
    assert kept == counted and len(kept) > 100
    rng = random.Random(3)
    for _ in range(60):
        q = query(rng, lib)
        assert paths(lite.files.search(q, expand=synonyms, limit=10)) == \
            paths(pg.files.search(q, expand=synonyms, limit=10)), q
