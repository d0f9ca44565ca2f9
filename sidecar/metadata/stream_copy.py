"""One pass over a span of a file: read once, hashed on the way, written to a copy.

Every large copy the project makes (a rewrite's audio, an undo's restore) goes through
stream(): two buffers in turn, one read and written while the other's hashes still run in a
worker thread (hashlib lets go of the GIL), so the pass takes about as long as the slower of
hashing and copying rather than their sum. What is written is handed to the disk as it goes
(see write_back), so the fsync before a rename waits for the last blocks only.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, Callable

BLOCK = 8 * 1024 * 1024

#: Linux starts writeback on POSIX_FADV_DONTNEED; elsewhere the advice may do nothing useful
_FADVISE = hasattr(os, "posix_fadvise") and sys.platform.startswith("linux")


class ShortSource(OSError):
    """The source ended before the bytes its chunks declare: it shrank while it was read."""


def write_back(dst: BinaryIO, offset: int, length: int) -> None:
    """Start writing [offset, offset + length) of dst to disk now, without waiting for it.

    The disk then writes the copy while the rest of it is still read and hashed; `cp` + `sync`
    would make it wait for the whole file at the end. On Linux POSIX_FADV_DONTNEED starts the
    writeback of dirty pages (and drops clean ones, which a scan of a large library has no use
    for); where it is missing, the fsync does all of it."""
    if not _FADVISE:
        return
    dst.flush()
    try:
        os.posix_fadvise(dst.fileno(), offset, length, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass            # advice only: the fsync still makes the copy durable


def stream(src: BinaryIO, offset: int, length: int, hashes: list, dst: BinaryIO | None = None,
           seen: Callable[[memoryview, int], None] | None = None) -> None:
    """Feed src's bytes [offset, offset + length) to every hash, in order, and append them to dst.

    seen(block, left): called with each block and the bytes still to come after it (the block
    is only valid during the call). Raises ShortSource when src ends early."""
    size = min(BLOCK, max(length, 1))
    buffers = [memoryview(bytearray(size)), memoryview(bytearray(size))]
    hashing = [None, None]

    def update(block: memoryview) -> None:
        for h in hashes:
            h.update(block)

    src.seek(offset)
    left, turn = length, 0
    with ThreadPoolExecutor(max_workers=1) as pool:      # one thread: the hashes see blocks in order
        try:
            while left:
                if hashing[turn] is not None:
                    hashing[turn].result()      # this buffer is refilled next: its hashes must be done
                view = buffers[turn]
                n = src.readinto(view[:min(size, left)])
                if not n:
                    raise ShortSource(f"file shrank while it was copied (at offset {offset + length - left})")
                block = view[:n]
                hashing[turn] = pool.submit(update, block) if hashes else None
                if dst is not None:
                    at = dst.tell()
                    dst.write(block)
                    write_back(dst, at, n)
                left -= n
                if seen is not None:
                    seen(block, left)
                turn ^= 1
        finally:
            for side in hashing:
                if side is not None:
                    side.result()
