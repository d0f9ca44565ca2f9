"""The project's own tables, shipped in data/ and read once.

labels.tsv maps each AudioSet label MAX can return to UCS; broader.tsv holds the
label's ancestors in the AudioSet ontology; ucs_catids.tsv lists the UCS CatIDs
with their Category and SubCategory (identifiers only); phrases.tsv holds the words a
description is written with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class LabelEntry:
    """How one classifier label maps onto UCS and onto the words editors search with."""

    mid: str
    label: str
    terms: tuple[str, ...]            # keywords the label itself gives, best first
    catid: str                        # "" when the label has no sensible UCS home
    alternatives: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    note: str = ""                    # why there is no CatID
    broader: tuple[str, ...] = field(default=())  # ancestor label names, nearest first


@dataclass(frozen=True)
class CatInfo:
    CatID: str
    Category: str
    SubCategory: str


def _rows(name: str) -> list[list[str]]:
    text = resources.files("sidecar.vocabulary.data").joinpath(name).read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return [ln.split("\t") for ln in lines[1:]]  # the first line left is the header


def _split(value: str, sep: str = ",") -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(sep) if p.strip())


def terms_of(name: str) -> list[str]:
    """Keywords for a name without a table entry: drop "(...)" qualifiers, split at commas, lower-case."""
    name = re.sub(r"\s*\([^)]*\)", "", name)
    return [t.strip().lower() for t in re.split(r"[,;]", name) if t.strip()]


@lru_cache(maxsize=1)
def label_entries() -> tuple[LabelEntry, ...]:
    broader = {row[0]: _split(row[2], ";") if len(row) > 2 else () for row in _rows("broader.tsv")}
    out = []
    for row in _rows("labels.tsv"):
        row += [""] * (7 - len(row))
        mid, label, terms, catid, alts, syns, note = row[:7]
        out.append(LabelEntry(mid=mid, label=label, terms=_split(terms), catid=catid,
                              alternatives=tuple(alts.split()), synonyms=_split(syns), note=note,
                              broader=broader.get(mid, ())))
    return tuple(out)


@lru_cache(maxsize=1)
def catids() -> dict[str, CatInfo]:
    return {row[0]: CatInfo(*row[:3]) for row in _rows("ucs_catids.tsv")}


@dataclass(frozen=True)
class Phrase:
    """The project's words for one label: what sounds, what it does, an FXName."""

    mid: str
    label: str
    noun: str = ""                  # "dog"
    verb: str = ""                  # "barking"
    title: str = ""                 # "Dog Bark"
    fits: tuple[str, ...] = ()      # MIDs of other top classes whose sound this label may describe


@lru_cache(maxsize=1)
def phrases() -> dict[str, Phrase]:
    out = {}
    for row in _rows("phrases.tsv"):
        row += [""] * (6 - len(row))
        mid, label, noun, verb, title, fits = row[:6]
        out[mid] = Phrase(mid, label, noun.strip(), verb.strip(), title.strip(), tuple(fits.split()))
    return out
