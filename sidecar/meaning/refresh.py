"""Bringing the text vectors up to date with the index: the files added or changed since the last
refresh get the vector of their own words (encoded again only when those words changed) and the
vector of what was heard (a weighted sum of label vectors, cheap)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sidecar.meaning import labels as label_vectors
from sidecar.meaning import words
from sidecar.meaning.text_model import MODEL, TextModel

#: files read and written per transaction
CHUNK = 256


@dataclass
class Refreshed:
    files: int = 0            # files looked at
    encoded: int = 0          # texts the model encoded (their words changed)


def as_blob(vector: np.ndarray | None) -> bytes | None:
    """A vector as the index keeps it (float32, little-endian)."""
    return None if vector is None else np.asarray(vector, dtype="<f4").tobytes()


def refresh(store, table, model: TextModel, labels: "label_vectors.LabelVectors",
            ucs_list=None, *, limit: int | None = None) -> Refreshed:
    """Up to `limit` files of the to-do list (all when None) brought up to date. table: the
    index's TextVectorStore."""
    key = labels.key
    # new label vectors (or model): every heard vector changes; files' words read by other rules:
    # each looked at once more. Either puts every file on the to-do list, once
    wanted = {"labels": key, "words": words.WORDS_RULES}
    changed = [name for name, value in wanted.items() if table.state(name) != value]
    if changed:
        table.redo_all()
        for name in changed:
            table.set_state(name, wanted[name])
    done = Refreshed()
    while limit is None or done.files < limit:
        want = CHUNK if limit is None else min(CHUNK, limit - done.files)
        todo = table.todo(want)
        if not todo:
            break
        ids = [file_id for file_id, _ in todo]
        files = store.files.by_ids(ids)
        stored = table.digests(ids)
        rows, texts, slots = [], [], []
        for file_id in ids:
            item = files.get(file_id)
            if item is None:
                continue                   # deleted meanwhile: its to-do entry goes below
            heard = as_blob(labels.heard_vector(item.record.provenance.labels))
            text = words.file_words(item.path, item.record, ucs_list)
            digest = words.digest(f"{MODEL}\n{text}") if text else ""
            if file_id in stored and stored[file_id] == digest:
                rows.append((file_id, None, None, heard))       # same words: only what was heard
            elif not text:
                rows.append((file_id, "", None, heard))
            else:
                slots.append(len(rows))
                texts.append(text)
                rows.append((file_id, digest, None, heard))
        if texts:
            vectors = model.encode(texts).vectors
            for slot, vector in zip(slots, vectors):
                file_id, digest, _, heard = rows[slot]
                rows[slot] = (file_id, digest, as_blob(vector), heard)
        table.write(rows, todo)
        done.files += len(todo)
        done.encoded += len(texts)
    return done


def maintain(store, ucs_list=None) -> Refreshed | None:
    """After a scan: the text vectors of every file added or changed, computed now (index time).
    None when nothing changed, or when the index was never searched by meaning (a library that
    does not use it never loads the model; its first search by meaning reads every file once).
    TextModelUnavailable when the model is missing (search by meaning says so itself)."""
    from sidecar.meaning.labels import load as load_labels
    from sidecar.meaning.text_model import shared
    from sidecar.index.interfaces import TEXT_VECTOR_KINDS
    from sidecar.similarity.search import maintain as maintain_graph
    table = store.text_vectors
    if store.ephemeral or not table.exists():
        return None
    done = None
    if table.todo_count():
        model = shared()
        done = refresh(store, table, model, load_labels(model), ucs_list)
    for kind in TEXT_VECTOR_KINDS:      # a large library's graphs saved when worth it, as for sounds-like
        maintain_graph(table.kind(kind))
    return done
