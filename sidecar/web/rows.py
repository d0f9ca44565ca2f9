"""An index row as the page shows it: every field with where it came from, and the review order."""

from __future__ import annotations

import os

from sidecar.index.interfaces import IndexedFile

#: the fields the page shows and edits, in the order of a results row
SHOWN = ("CatID", "Category", "SubCategory", "Description", "Keywords", "FXName")
CATEGORY_FIELDS = ("CatID", "Category", "SubCategory")
#: a machine CatID less sure than this is reviewed first
REVIEW_BELOW = 0.5
TOP_LABELS = 5


def sources(row: IndexedFile) -> dict[str, dict]:
    """field -> {"source": person | ucs_name | audioset | learned | machine | file, "confidence"}.

    person: a person wrote it (here, in a DAW or in a sidecar); ucs_name, audioset, learned: how
    the CatID was chosen; machine: the service's words from what it heard; file: found in the
    file, written by another tool."""
    prov = row.record.provenance
    human, machine = set(row.human_fields), set(prov.machine_fields)
    out = {}
    for name in SHOWN:
        if name in human:
            out[name] = {"source": "person", "confidence": None}
        elif name in CATEGORY_FIELDS and prov.category_source:
            out[name] = {"source": prov.category_source, "confidence": prov.category_confidence}
        elif name in machine:
            out[name] = {"source": "machine", "confidence": None}
        elif not row.record.is_empty(name):
            out[name] = {"source": "file", "confidence": None}
    return out


def file_json(row: IndexedFile) -> dict:
    """One row for the page: the file's id, its fields, its top labels and their sources."""
    rec = row.record
    return {
        "id": row.id, "path": row.path, "name": os.path.basename(row.path),
        "folder": os.path.dirname(row.path), "format": row.format, "size": row.size,
        "fingerprint": row.fingerprint,
        **{name: getattr(rec, name) for name in SHOWN},
        "Duration": rec.Duration, "Channels": rec.Channels, "SampleRate": rec.SampleRate,
        "BitDepth": rec.BitDepth,
        "labels": [{"label": lb.label, "probability": round(lb.probability, 4), "source": lb.source}
                   for lb in rec.provenance.labels[:TOP_LABELS]],
        "sources": sources(row),
        "human_fields": list(row.human_fields),
        "learned_model": rec.provenance.category_model,
    }


def review_reason(row: IndexedFile, vocabulary=None) -> tuple[float, str] | None:
    """(uncertainty, why) of a file a person should look at; None for one a person already named.

    Uncertainty orders the queue, most uncertain first: 1 - the confidence of a machine CatID,
    raised to at least 0.75 when the learned model and the AudioSet labels disagree; a CatID of
    unknown confidence (or none) counts 0.5, a UCS file name 0.1."""
    if "CatID" in row.human_fields:
        return None
    prov = row.record.provenance
    confidence = prov.category_confidence
    source = prov.category_source
    if source == "person":
        return None
    if source == "ucs_name":
        return 0.1, "CatID from the file's UCS name, not yet seen by a person"
    if not row.record.CatID:
        return 0.5, "no CatID"
    score = 0.5 if confidence is None else 1.0 - float(confidence)
    why = (f"machine CatID ({source or 'machine'}) at {confidence:.0%}" if confidence is not None
           else f"machine CatID ({source or 'machine'}), confidence unknown")
    if confidence is not None and confidence < REVIEW_BELOW:
        why += f", below {REVIEW_BELOW:.0%}"
    if source == "learned" and vocabulary is not None and prov.labels:
        heard = _heard_catid(vocabulary, prov.labels)
        if heard and heard != row.record.CatID:
            score = max(score, 0.75)
            why = f"learned {row.record.CatID} and the AudioSet labels ({heard}) disagree"
    return round(score, 4), why


def _heard_catid(vocabulary, labels) -> str:
    """The CatID the AudioSet labels alone give."""
    try:
        return vocabulary.describe(labels).CatID or ""
    except Exception:           # an odd label list must not cost the review queue
        return ""
