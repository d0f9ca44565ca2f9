"""Ownership: what a person wrote wins; the classifier fills gaps.

    fill-empty  fill empty fields only (keywords too, only when there are none)
    append      fill empty fields and append new keywords (the default)
    replace     the classifier's values replace every field it produces (never the default)

A field the service wrote earlier, and nobody changed since, is the service's
own and is refreshed by a new classification.

Keywords are owned word by word: the words a person wrote (provenance.person_keywords)
come first and stay under every policy, whatever engine listens; the service's own
words after them are refreshed by each classification (`replace` replaces only those;
`fill-empty` adds none beside a person's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sidecar.metadata.record import DESCRIPTIVE_FIELDS, TECHNICAL_FIELDS, Record, split_keywords


def human_fields(existing: Record, machine_values: dict) -> set[str]:
    """Fields a person wrote: non-empty and not equal to what the service last wrote there."""
    out = set()
    for name in DESCRIPTIVE_FIELDS:
        if existing.is_empty(name):
            continue
        written = machine_values.get(name)
        if written is None or _norm(written) != _norm(getattr(existing, name)):
            out.add(name)
    return out


def _norm(value):
    if isinstance(value, list):
        return [str(v).strip().lower() for v in value]
    return str(value).strip()


def person_keywords(existing: Record, written: list[str] | None, earlier: list[str], edited: bool) -> list[str]:
    """The words of existing.Keywords a person wrote.

    written: the list the service last wrote (None when it never wrote one); earlier: the words
    known as a person's before; edited: the list is not what the service wrote (a person's).
    A list the service never wrote is the person's whole; in one a person changed since, their
    earlier words still there and every word the service did not write are theirs."""
    words = existing.Keywords
    if not edited:
        held = {w.lower() for w in words}
        return [w for w in earlier if w.lower() in held]
    if written is None:
        return list(words)
    theirs = {w.lower() for w in earlier}
    ours = {w.lower() for w in written}
    return [w for w in words if w.lower() in theirs or w.lower() not in ours]


def merge(existing: Record, machine: Record, human: set[str], policy: str = "append",
          person: list[str] | None = None) -> Record:
    """The record to write: existing fields, machine values where ownership allows.

    person: the words of existing.Keywords a person wrote (by default: all of them when Keywords
    is in human, else none); they come first in the result under every policy."""
    out = Record.from_dict(existing.to_dict())
    if person is None:
        person = list(existing.Keywords) if "Keywords" in human else []
    machine_fields: list[str] = []
    for name in DESCRIPTIVE_FIELDS:
        new = getattr(machine, name)
        if new in (None, "", []):
            continue
        mine = name not in human   # empty, or written by the service before
        if name == "Keywords":
            if policy == "fill-empty" and person:
                merged = list(person)
            else:
                merged = _union(person, new)    # replace too: it replaces the service's words only
            if merged != existing.Keywords:
                out.Keywords = merged
            if merged != person:
                machine_fields.append(name)
        elif policy == "replace" or mine:
            setattr(out, name, new)
            machine_fields.append(name)
    for name in TECHNICAL_FIELDS:
        value = getattr(machine, name)
        if value is not None:
            setattr(out, name, value)
    out.provenance = machine.provenance
    out.provenance.machine_fields = machine_fields
    held = {w.lower() for w in out.Keywords}
    out.provenance.person_keywords = [w for w in person if w.lower() in held]
    return out


def _union(first: list[str], second: list[str]) -> list[str]:
    seen = {w.lower() for w in first}
    out = list(first)
    for w in second:
        if w.lower() not in seen:
            seen.add(w.lower())
            out.append(w)
    return out


def machine_values(record: Record) -> dict:
    """What the service wrote, field by field, to recognise a later human edit."""
    return {name: getattr(record, name) for name in record.provenance.machine_fields}


@dataclass(frozen=True)
class Ownership:
    """Which values already in a container the service may replace when it writes into it.

    Decided container by container, field by field: a value is replaced only when it is
    empty or is what the service itself last wrote (`ours`); a value another tool or a
    person wrote there stays, whatever the other containers say. `replace` (never the
    default) overwrites a person's values too. `everything` is for callers that own every
    field they hand in (the chunk writers' own tests, `sidecar apply` of a person's sidecar);
    `mine` names the fields a person just edited, which change in every container.
    """

    ours: Mapping[str, object] = field(default_factory=dict)   # field -> value the service last wrote
    policy: str = "append"
    everything: bool = False
    mine: frozenset[str] = frozenset()      # fields the caller sets everywhere (a person's edit)
    person: frozenset[str] = frozenset()    # keywords a person wrote (lower case): never dropped

    def may_replace(self, name: str, held) -> bool:
        if _is_empty(held) or self.everything or self.policy == "replace" or name in self.mine:
            return True
        return self.wrote(self.ours.get(name), held)

    def wrote(self, mine, held) -> bool:
        """Is `held` what the service wrote as `mine` (as a container stores it: joined, cut, respaced)?"""
        if _is_empty(mine):
            return False
        if isinstance(mine, list) or isinstance(held, list):
            return _words(mine) == _words(held)
        a, b = _squeeze(str(mine)), _squeeze(str(held))
        # a container with a byte limit (bext Description: 256) holds the start of a longer text
        return a == b or (len(str(held).encode("utf-8")) >= 200 and a.startswith(b))

    def keywords(self, held, new: list[str]) -> list[str]:
        """The keywords a container gets: the record's where the old list was ours (or none),
        otherwise the old list kept whole, with the new words appended unless fill-empty."""
        held_words = held if isinstance(held, list) else split_keywords(held or "")
        if self.may_replace("Keywords", held_words):
            return list(new)
        if self.policy == "fill-empty":
            return held_words
        # in a list a person changed, the words the service wrote there before are still its own
        ours = self.ours.get("Keywords")
        ours = {w.lower() for w in (ours if isinstance(ours, list) else split_keywords(ours or ""))}
        return _union([w for w in held_words if w.lower() not in ours or w.lower() in self.person], new)


#: the owner of every field handed in (the writers' default)
OWN_ALL = Ownership(everything=True)


def _is_empty(value) -> bool:
    if value is None:
        return True
    if isinstance(value, list):
        return not any(str(v).strip() for v in value)
    return not str(value).strip()


def _squeeze(text: str) -> str:
    """Text compared as containers keep it: case, spacing, line ends and "_"/"-" aside."""
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def _words(value) -> list[str]:
    words = value if isinstance(value, list) else split_keywords(str(value))
    return [_squeeze(str(w)) for w in words]
