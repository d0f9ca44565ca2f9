"""A person's edit of one field of one indexed file (from a DAW over OSC, or any caller).

The edit goes where a scan writes: into the file's containers through the safe writers, into
its sidecar, and into the index, each journaled first so `sidecar undo` gives everything back.
The field becomes a person's: it leaves the service's machine marks, so no later scan or
classification replaces it. A file changed since it was indexed is refused (a rescan first
brings in what another tool wrote), so an edit never carries stale values into the file.

Read, merge, write and index happen under the file's claim in the work queue: the lock a scan
and the daemon take for each file from before they read it until it is indexed. It lives in the
index database, so it holds across processes, users and machines sharing the index, whatever
the file system (a network share, Windows), where a lock on the audio file would not: a file
lock is lost when a rewrite renames a new file over the old one, is local to one machine on
most SMB mounts, and on Windows would stop that very rename.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator

from sidecar.config import Config
from sidecar.errors import FileError, SidecarError
from sidecar.index.interfaces import IndexedFile, Store
from sidecar.metadata.merge import Ownership
from sidecar.metadata.record import TEXT_FIELDS, Record, join_keywords, split_keywords

#: what an edit may name: every descriptive field; Keywords+ adds words, Keywords- removes them
EDITABLE: tuple[str, ...] = TEXT_FIELDS + ("Keywords", "Keywords+", "Keywords-")
MAX_VALUE_BYTES = 8192
#: how long an edit waits for a scan or the daemon to finish with its file: under the 5 s a
#: REAPER script waits for the answer, so the person reads why rather than a timeout
CLAIM_WAIT_SECONDS = 3.0
CLAIM_LEASE_SECONDS = 600.0     # as a scan's: a claim its process left behind expires


class EditError(SidecarError):
    """An edit that cannot be made; its str() is the one line the person sees."""


def apply_edit(record: Record, field: str, value: str,
               cat_info: Callable[[str], dict] | None = None) -> list[str]:
    """Change record in place; returns the fields that now hold the person's values."""
    if field not in EDITABLE:
        raise EditError(f"unknown field {field!r} (known: {', '.join(EDITABLE)})")
    if not isinstance(value, str):
        raise EditError("value must be a string")
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise EditError(f"value longer than {MAX_VALUE_BYTES} bytes")
    value = value.strip()
    if field.startswith("Keywords"):
        words = split_keywords(value)
        if field == "Keywords+":
            seen = {w.lower() for w in record.Keywords}
            words = record.Keywords + [w for w in words if w.lower() not in seen]
        elif field == "Keywords-":
            gone = {w.lower() for w in words}
            words = [w for w in record.Keywords if w.lower() not in gone]
        if not words:
            raise EditError("no keywords would be left (a person's empty list is filled again by the next scan)")
        record.Keywords = words
        return ["Keywords"]
    if not value:
        raise EditError(f"an empty {field} is not written (the next scan would fill it again)")
    setattr(record, field, value)
    if field == "CatID" and cat_info is not None:
        # CatID, Category and SubCategory go together: a person's CatID brings its names along
        info = cat_info(value)
        if info.get("Category"):
            record.Category, record.SubCategory = info["Category"], info["SubCategory"]
            return ["CatID", "Category", "SubCategory"]
    return [field]


def field_value(record: Record, field: str) -> str:
    """A field as text (keywords joined with ", ")."""
    name = "Keywords" if field.startswith("Keywords") else field
    value = getattr(record, name)
    return join_keywords(value) if isinstance(value, list) else str(value or "")


def person_edit(store: Store, config: Config, path: str, field: str, value: str, *, journal=None,
                cat_info: Callable[[str], dict] | None = None, wait: float = CLAIM_WAIT_SECONDS,
                on_wait: Callable[[], None] | None = None) -> IndexedFile:
    """Write a person's value of one field of an indexed file; returns its new index row.

    EditError for an edit that cannot be made (nothing is written), also when a scan or the
    daemon still holds the file after `wait` seconds (on_wait is called once when the edit
    starts waiting); FileError when a write fails (the safe writers leave the file as it was).
    """
    path = os.path.abspath(path)
    row = _indexed(store, path)
    _unchanged_since_indexed(path, row)              # refused before the queue is touched
    apply_edit(Record.from_dict(row.record.to_dict()), field, value, cat_info)   # a bad value too
    with _claimed(store, path, wait, on_wait):
        # what the last writer indexed, read under the claim: its values are kept, not overwritten
        row = _indexed(store, path)
        st = _unchanged_since_indexed(path, row)
        return _write_edit(store, config, path, row, st, field, value, journal, cat_info)


def _indexed(store: Store, path: str) -> IndexedFile:
    row = store.files.get(path)
    if row is None:
        raise EditError(f"{path}: not in the index (scan it first)")
    return row


def _unchanged_since_indexed(path: str, row: IndexedFile) -> os.stat_result:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise EditError(f"{path}: {exc.strerror or exc}") from None
    if (st.st_size, st.st_mtime_ns) != (row.size, row.mtime_ns):
        raise _Changed(f"{path}: changed since it was indexed; scan it again first")
    return st


class _Changed(EditError):
    """The file differs from its index row: work for a scan or the daemon."""


@contextlib.contextmanager
def _claimed(store: Store, path: str, wait: float, on_wait: Callable[[], None] | None) -> Iterator[None]:
    """Hold the file's claim in the work queue; refuse once `wait` seconds pass without it."""
    worker = f"edit:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    deadline = time.monotonic() + wait
    while not store.queue.claim_path(path, worker, CLAIM_LEASE_SECONDS):
        if time.monotonic() >= deadline:
            raise EditError(f"{path}: a scan or the daemon is writing it right now; nothing written, "
                            f"try again in a moment")
        if on_wait is not None:
            on_wait()
            on_wait = None
        time.sleep(0.05)
    try:
        yield
    except _Changed:
        # changed under a writer outside the service: back to the queue, for the daemon to hear it
        store.queue.retry(path, 0, count_try=False)
        raise
    except BaseException:
        store.queue.finish(path, True)
        raise
    store.queue.finish(path, True)     # a change seen while it was held (ours) is queued again


def holding_claim(store: Store, path: str, wait: float = CLAIM_WAIT_SECONDS):
    """The file's claim in the work queue, as an edit holds it, for other writes of a person's
    (the web page's undo); EditError once `wait` seconds pass without it."""
    return _claimed(store, os.path.abspath(path), wait, None)


def _write_edit(store: Store, config: Config, path: str, row: IndexedFile, st: os.stat_result,
                field: str, value: str, journal, cat_info) -> IndexedFile:
    from sidecar.metadata import sidecar_xml
    from sidecar.pipeline.write import write_embedded, write_sidecar_journaled

    record = Record.from_dict(row.record.to_dict())
    changed = apply_edit(record, field, value, cat_info)
    human = set(row.human_fields) | set(changed)
    record.provenance.machine_fields = [f for f in record.provenance.machine_fields if f not in changed]
    if "Keywords" in changed:
        record.provenance.person_keywords = list(record.Keywords)   # the list as the person left it
    written = dict(row.written)
    written["fields"] = {k: v for k, v in written.get("fields", {}).items() if k not in changed}
    containers: list[str] = []
    if _writes_into(config, path, st):
        # the edited fields change in every container; each container keeps its own value of the
        # other fields (another tool's or the person's), the service's own values excepted
        owner = Ownership(ours=written["fields"], policy=config.policy, mine=frozenset(changed))
        containers += write_embedded(path, record, row.format or None, journal=journal,
                                     riff=config.write_riff, embedded_tags=config.write_tags, owner=owner)
    if config.write_sidecar:
        identity = sidecar_xml.Identity(name=os.path.basename(path), size=os.stat(path).st_size,
                                        fingerprint=row.fingerprint, path=path)
        write_sidecar_journaled(journal, path, record, identity, mirror=config.mirror_for(path), human=human)
        containers.append("sidecar")
    if not containers:
        raise EditError(f"{path}: nothing may be written for it (read-only root, hard links or writes "
                        f"turned off); the edit was not kept")
    st = os.stat(path)
    written["containers"] = containers
    new = IndexedFile(path=path, size=st.st_size, mtime_ns=st.st_mtime_ns, fingerprint=row.fingerprint,
                      format=row.format, record=record, written=written, human_fields=sorted(human),
                      classified=row.classified)
    store.files.upsert(new)
    return new


def _writes_into(config: Config, path: str, st: os.stat_result) -> bool:
    """Embedded metadata is written as a scan would: not in read-only roots, nor through hard links."""
    if not (config.write_tags or config.write_riff) or config.is_read_only(path):
        return False
    if not st.st_mode & 0o222:
        raise EditError(f"{path}: file is read-only (mode {st.st_mode & 0o777:04o}); nothing written")
    return st.st_nlink == 1


__all__ = ["EDITABLE", "EditError", "FileError", "apply_edit", "field_value", "holding_claim", "person_edit"]
