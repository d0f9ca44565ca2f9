"""The sounds-like pass: the embeddings, after the files' tags are written (`sidecar scan` after its
writes; the daemon while its workers are idle, daemon/idle_embed.py).

The embeddings are the largest single cost of a first scan (about 40% of its CPU time, see
README's Benchmarks), and nothing a file carries depends on them unless a learned category
model is in use (its CatID comes from the vector: then the files are embedded inline, before
they are described). So a scan writes every file first and then embeds, in this pass, every file under
its roots that the index holds without a current vector: each is decoded again (a small
fraction of the embedding's own cost) and embedded exactly as the inline stage does.

Only this thread writes the index; the workers decode and embed.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sidecar.formats import decode
from sidecar.errors import AudioError


@dataclass
class SoundsLike:
    """What the pass did: files embedded, the audio they hold, its time, the files it skipped."""

    embedded: int = 0
    audio_seconds: float = 0.0
    seconds: float = 0.0
    notes: list[tuple[str, str]] = field(default_factory=list)    # (path, why no embedding)
    unavailable: bool = False                                      # no model: said once, elsewhere
    left: int = 0                                                  # not started: keep_going() said stop


def pending(store, roots: list[str], model: str) -> list[str]:
    """Indexed files under roots without embeddings of this model for their current audio."""
    folders = [os.path.abspath(r) for r in roots]
    under = [p for p in store.vectors.stale_paths(model)
             if any(p == f or p.startswith(f.rstrip(os.sep) + os.sep) for f in folders)]
    return sorted(p for p in under if os.path.isfile(p))


def _embed_one(path: str, fmt: str, identity: tuple[int, int], embedder):
    """(Embedding, seconds of audio), or None when the file changed since the index saw it."""
    audio = decode(path, fmt or None)
    st = os.stat(path)
    if (st.st_size, st.st_mtime_ns) != identity:
        return None           # changed since it was written: the next scan hears it whole
    return embedder.embed(audio.samples, audio.samplerate), audio.duration


def stale_among(store, paths, model: str) -> list:
    """The index rows of those of paths without embeddings of this model for their current audio
    (one look each: for the daemon, which knows which files it just took)."""
    stale = []
    for path in sorted(set(paths)):
        row = store.files.get(path)
        if row is None or not os.path.isfile(path):
            continue
        held = store.vectors.get(path)
        if held is None or held.model != model or held.fingerprint != row.fingerprint:
            stale.append(row)
    return stale


def run(roots: list[str], embedder, store, *, jobs: int = 2,
        on_file: Callable[[int, int, str], None] | None = None,
        paths: list[str] | None = None,
        keep_going: Callable[[], bool] | None = None) -> SoundsLike:
    """Embed every file pending under roots (or those of paths still pending); on_file(done,
    total, path) after each. keep_going() is asked before each file is started: False ends the
    pass early (result.left says how many were not started)."""
    from sidecar.similarity.checkpoint import ModelUnavailable
    from sidecar.similarity.embedder import stored_form

    started = time.perf_counter()
    result = SoundsLike()
    if paths is not None:
        rows = stale_among(store, paths, embedder.model)
    else:
        rows = [row for row in (store.files.get(p) for p in pending(store, roots, embedder.model)) if row is not None]
    if not rows:
        return result
    workers = max(1, jobs)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # at most one file per worker is started ahead, so that keep_going() is heard promptly
        in_flight: deque = deque()
        queued = iter(rows)
        done = 0
        stop = False
        while True:
            while not stop and len(in_flight) < workers:
                if keep_going is not None and not keep_going():
                    stop = True
                    break
                row = next(queued, None)
                if row is None:
                    break
                in_flight.append((row, pool.submit(_embed_one, row.path, row.format,
                                                   (row.size, row.mtime_ns), embedder)))
            if not in_flight:
                break
            row, future = in_flight.popleft()
            done += 1
            try:
                made = future.result()
            except ModelUnavailable:
                result.unavailable = True
                stop = True
                made = None
            except (AudioError, OSError, ValueError, MemoryError) as exc:
                result.notes.append((row.path, f"no sounds-like embedding: {exc}"))
                made = None
            if made is not None:
                embedding, seconds = made
                try:
                    store.vectors.put(row.path, stored_form(embedding, row.fingerprint))
                except ValueError:
                    pass                # the file left the index meanwhile (deleted or moved)
                else:
                    result.embedded += 1
                    result.audio_seconds += seconds
            if on_file is not None:
                on_file(done, len(rows), row.path)
        result.left = len(rows) - done
    result.seconds = time.perf_counter() - started
    return result
