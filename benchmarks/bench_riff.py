"""Figures for the RIFF writer.

    python benchmarks/bench_riff.py [--dir /tmp] [--size-gb 2] [--small 10000]

1. In-place update of a large WAV that has room reserved (the second and later writes).
2. The first write of the same file without room (one rewrite, fsynced), against a plain
   file copy of the same size with and without fsync: the physical bound. Then the first
   write as a scan makes it (journal, rewrite, verify, fsync) beside `cp` + `sync` of the
   same file, alternately in the same run, with the bytes each moved through read() and
   write() counted by the kernel (/proc/self/io; cp's are added to ours when it is reaped).
3. Files tagged per second over many small WAVs (first write: rewrite; then in place).

Files are created under --dir and deleted afterwards. The page cache is warm: the big
file was just written, so both the rewrite and the copy read it from memory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure  # noqa: E402
from sidecar.formats import WAV
from sidecar.metadata import riff
from sidecar.metadata.journal import Journal
from sidecar.pipeline.write import write_embedded
from sidecar.metadata.record import Provenance, Record

RECORD = Record(Description="Heavy wooden door slams shut in a stone hall", Keywords=["door", "slam", "wood"],
                Category="DOORS", SubCategory="WOOD", CatID="DOORWood", FXName="Door Slam Heavy",
                Library="Bench", Designer="Bench", provenance=Provenance(engine="embedded", model="bench"))


def make_wav(path: Path, data_size: int) -> None:
    fmt = struct.pack("<HHIIHH", 1, 2, 48000, 48000 * 6, 6, 24)
    head = b"RIFF" + struct.pack("<I", 4 + 24 + 8 + data_size) + b"WAVE"
    head += b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", data_size)
    block = os.urandom(8 << 20)
    with open(path, "wb") as f:
        f.write(head)
        left = data_size
        while left:
            n = min(len(block), left)
            f.write(block[:n])
            left -= n
        f.flush()
        os.fsync(f.fileno())


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def copy_fsync(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    with open(dst, "rb+") as f:
        os.fsync(f.fileno())


def settled(fn) -> float:
    """Time fn after the page cache has written back what earlier steps left dirty."""
    os.sync()
    return timed(fn)


def big_file(folder: Path, size_gb: float) -> None:
    size = int(size_gb * 1e9) // 6 * 6
    path, copy = folder / "big.wav", folder / "copy.wav"
    make_wav(path, size)
    mb = path.stat().st_size / 1e6
    t_copy, t_copy_sync = [], []
    for _ in range(2):
        t_copy.append(settled(lambda: shutil.copyfile(path, copy)))
        copy.unlink()
        t_copy_sync.append(settled(lambda: copy_fsync(path, copy)))
        copy.unlink()
    passes = io_of_first_write(folder, path, copy)
    t_rewrite, t_undo = [], []
    with Journal.at(folder / "bench.db") as journal:
        t_journal = settled(lambda: journal.record_original(path, WAV))
        for _ in range(2):
            t_rewrite.append(settled(lambda: riff.write(path, RECORD)))
            t_undo.append(settled(lambda: journal.undo(path)))
            journal.record_original(path, WAV)
    assert not riff.write(path, RECORD).in_place
    times = []
    for i in range(20):
        rec = Record(**{**RECORD.__dict__, "Description": f"update {i} " + "x" * (i * 50)})
        start = time.perf_counter()
        assert riff.write(path, rec).in_place
        times.append(time.perf_counter() - start)
    best_copy, best_sync, best_rewrite = min(t_copy), min(t_copy_sync), min(t_rewrite)
    print(f"file: {mb:,.0f} MB WAV (24-bit stereo); best of 2 runs, page cache written back before each")
    print(f"plain copy (shutil.copyfile):           {best_copy:7.2f} s  {mb / best_copy:8,.0f} MB/s")
    print(f"plain copy + fsync:                     {best_sync:7.2f} s  {mb / best_sync:8,.0f} MB/s")
    print(f"first write, rewrite + verify + fsync:  {best_rewrite:7.2f} s  {mb / best_rewrite:8,.0f} MB/s"
          f"  ({best_rewrite / best_sync:.2f}x copy+fsync)")
    print(f"in-place update with reserved room:     median {statistics.median(times) * 1e3:.1f} ms,"
          f" max {max(times) * 1e3:.1f} ms (20 updates)")
    print(f"journal of the original (hash, once):   {t_journal:7.2f} s")
    size = path.stat().st_size
    print(f"first write as a scan makes it (journal, rewrite, verify, fsync), best of {passes['rounds']}: "
          f"{passes['seconds']:.2f} s; read {passes['read'] / size:.3f}x the file, written "
          f"{passes['written'] / size:.3f}x")
    print(f"cp --reflink=never + sync of the same file, same rounds:          {passes['cp_sync']:.2f} s; "
          f"read {passes['cp_read'] / size:.3f}x the file, written {passes['cp_written'] / size:.3f}x")
    print(f"first write / (cp + sync): {passes['seconds'] / passes['cp_sync']:.2f}x (target <= 1.5x); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    figure("first write of a file without room (journal, rewrite, verify, fsync)",
           f"{passes['seconds']:.2f} s, read {passes['read'] / size:.3f}x the file",
           f"1.5x cp + sync ({passes['cp_sync']:.2f} s)", passes["seconds"] <= 1.5 * passes["cp_sync"])
    print(f"undo (restore the original, verified):  {min(t_undo):7.2f} s")


def io_counts() -> tuple[int, int]:
    """Bytes this process moved through read() and write() calls (page cache or disk alike)."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["rchar"]), int(fields["wchar"])


def io_of_first_write(folder: Path, path: Path, copy: Path, rounds: int = 3) -> dict:
    """The first write of a file without room as a scan makes it (write_embedded with the
    journal: hashes, rewrite, verify, fsync), alternating with `cp` + `sync` of the same file.
    Every byte of both passes through read()/write() or copy_file_range, all of which
    /proc/self/io counts (rchar, wchar); the counts are the last round's."""
    best: dict = {"rounds": rounds, "seconds": float("inf"), "cp_sync": float("inf")}
    cp_sync = ["sh", "-c", 'cp --reflink=never "$1" "$2" && sync "$2"', "cp", str(path), str(copy)]
    with Journal.at(folder / "io.db") as journal:
        for _ in range(rounds):
            os.sync()
            (r0, w0), start = io_counts(), time.perf_counter()
            write_embedded(str(path), RECORD, "wav", journal=journal)
            seconds = time.perf_counter() - start
            r1, w1 = io_counts()
            assert journal.has(path)
            assert journal.undo(path).ok           # the file is without room again
            os.sync()
            (c0, d0), start = io_counts(), time.perf_counter()
            subprocess.run(cp_sync, check=True)
            t_cp = time.perf_counter() - start
            c1, d1 = io_counts()
            copy.unlink()
            best.update(read=r1 - r0, written=w1 - w0, cp_read=c1 - c0, cp_written=d1 - d0,
                        seconds=min(best["seconds"], seconds), cp_sync=min(best["cp_sync"], t_cp))
    return best


def small_files(folder: Path, count: int) -> None:
    paths = []
    for i in range(count):
        p = folder / f"s{i:05d}.wav"
        fmt = struct.pack("<HHIIHH", 1, 1, 48000, 96000, 2, 16)
        data = os.urandom(9600)
        p.write_bytes(b"RIFF" + struct.pack("<I", 4 + 24 + 8 + len(data)) + b"WAVE" + b"fmt "
                      + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data)
        paths.append(p)
    t_first = settled(lambda: [riff.write(p, RECORD) for p in paths])
    t_again = settled(lambda: [riff.write(p, RECORD) for p in paths])
    print(f"{count:,} small WAVs (0.1 s mono): first write (rewrite) {count / t_first:,.0f} files/s,"
          f" update in place {count / t_again:,.0f} files/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--small", type=int, default=10_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-riff-", dir=args.dir))
    try:
        if args.size_gb > 0:
            big_file(folder, args.size_gb)
        for p in folder.iterdir():
            p.unlink()
        if args.small > 0:
            small_files(folder, args.small)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
