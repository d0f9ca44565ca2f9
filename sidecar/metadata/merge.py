"""Ownership: what a person wrote wins; the classifier fills gaps.

    fill-empty  fill empty fields only (keywords too, only when there are none)
    append      fill empty fields and append new keywords (the default)
    replace     the classifier's values replace every field it produces (never the default)

A field the service wrote earlier, and nobody changed since, is the service's
own and is refreshed by a new classification.
"""

from __future__ import annotations

from sidecar.metadata.record import DESCRIPTIVE_FIELDS, TECHNICAL_FIELDS, Record


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


def merge(existing: Record, machine: Record, human: set[str], policy: str = "append") -> Record:
    """The record to write: existing fields, machine values where ownership allows."""
    out = Record.from_dict(existing.to_dict())
    machine_fields: list[str] = []
    for name in DESCRIPTIVE_FIELDS:
        new = getattr(machine, name)
        if new in (None, "", []):
            continue
        mine = name not in human   # empty, or written by the service before
        if name == "Keywords":
            kept = existing.Keywords if name in human else []
            if policy == "replace":
                merged = list(new)
            elif policy == "fill-empty":
                merged = kept or list(new)
            else:
                merged = _union(kept, new)
            if merged != existing.Keywords:
                out.Keywords = merged
            if merged != kept:
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
