"""One library, a path per machine: the index names a file by its root's id; each machine reads its own
path back (on both backends). Two folders stand for two machines' mounts of one library (symlinks)."""

from __future__ import annotations

import os
import socket

import pytest

from daemon_support import tiny_wav
from pg_support import reopen
from sidecar.index.interfaces import IndexedFile, JournalRow
from sidecar.index.job_policy import JobEnd, RetryPolicy
from sidecar.index.rooted import MARK, RootMismatch, known_roots, rooted
from sidecar.metadata.record import Record


@pytest.fixture
def library(tmp_path):
    real = tmp_path / "nas" / "sfx"
    for k, name in enumerate(["Doors/door creak.wav", "Doors/door slam.wav", "Rain/rain on roof.wav"]):
        tiny_wav(real / name, seed=k)
    mac, linux = tmp_path / "Volumes" / "SFX", tmp_path / "mnt" / "sfx"
    for mount in (mac, linux):
        mount.parent.mkdir(parents=True)
        mount.symlink_to(real, target_is_directory=True)
    return real, str(mac), str(linux)


def index(store, path: str, description: str) -> None:
    size = os.path.getsize(path) if os.path.exists(path) else 1
    store.files.upsert(IndexedFile(path, size, 1, "fp-" + os.path.basename(path), "wav",
                                   Record(Description=description)))


def test_each_machine_reads_the_same_rows_with_its_own_paths(index_store, library):
    real, mac_root, linux_root = library
    mac = rooted(reopen(index_store), {"sfx": mac_root})
    linux = rooted(reopen(index_store), {"sfx": linux_root})
    index(mac, f"{mac_root}/Doors/door creak.wav", "old wood door creaks")
    index(mac, f"{mac_root}/Rain/rain on roof.wav", "rain on a tin roof")
    index(mac, "/elsewhere/loose.wav", "a loose door file")           # outside every root: absolute

    # one row per file, named by the root's id, whatever the mount point
    assert sorted(index_store.files.identities()) == sorted(["/elsewhere/loose.wav", f"{MARK}sfx/Doors/door creak.wav",
                                                             f"{MARK}sfx/Rain/rain on roof.wav"])
    # the catch-up's table by folder names each folder as this machine does
    assert linux.files.stamps_by_folder().keys() == {f"{linux_root}/Doors/", f"{linux_root}/Rain/", "/elsewhere/"}
    assert linux.files.stamps_by_folder()[f"{linux_root}/Doors/"].keys() == {"door creak.wav"}
    assert [f.path for f in linux.files.search("door", limit=10)] == [f"{linux_root}/Doors/door creak.wav",
                                                                     "/elsewhere/loose.wav"]
    assert [f.path for f in mac.files.search("door", limit=10)][0] == f"{mac_root}/Doors/door creak.wav"
    assert linux.files.get(f"{linux_root}/Rain/rain on roof.wav").record.Description == "rain on a tin roof"
    assert linux.files.paths_under(linux_root) == [f"{linux_root}/Doors/door creak.wav",
                                                   f"{linux_root}/Rain/rain on roof.wav"]
    assert os.path.exists(linux.files.paths_under(linux_root)[0])

    # the queue: one machine asks, another works the file under its own path, once
    mac.queue.enqueue([f"{mac_root}/Doors/door slam.wav"])
    job = linux.queue.claim("linux-worker", lease=60)
    assert job.path == f"{linux_root}/Doors/door slam.wav" and os.path.exists(job.path)
    assert mac.queue.claim("mac-worker", lease=60) is None
    linux.queue.finish(job.path, True)
    assert mac.queue.counts() == {"done": 1}
    # the retry policy settles a job under the machine's own path: the row keyed by the root's id
    mac.queue.enqueue([f"{mac_root}/Rain/rain on roof.wav"])
    job = linux.queue.claim("linux-worker", lease=60)
    policy = RetryPolicy(max_tries=1)
    assert linux.queue.settle(job.path, job.tries, JobEnd.failed("cannot decode"), policy).state == "set_aside"
    [aside] = mac.queue.jobs_in("set_aside")
    assert (aside.path, aside.reason) == (f"{mac_root}/Rain/rain on roof.wav", "cannot decode")
    assert mac.queue.counts() == {"done": 1, "set_aside": 1}

    # the journal: a file written from one machine is undone from another
    mac.journal.add(JournalRow(f"{mac_root}/Doors/door creak.wav", 1.0, 10, 0, 10, "a", "b", "riff"))
    row = linux.journal.get(f"{linux_root}/Doors/door creak.wav")
    assert row is not None and row.path == f"{linux_root}/Doors/door creak.wav"
    assert [r.path for r in linux.journal.entries()] == [f"{linux_root}/Doors/door creak.wav"]

    # where each machine keeps the root (one host here: the last to open it)
    assert known_roots(index_store) == {"sfx": {socket.gethostname(): linux_root}}
    for s in (mac, linux):
        s.close()


def test_machines_that_disagree_about_a_root_are_refused_with_the_reason(index_store, library, tmp_path):
    real, mac_root, linux_root = library
    mac = rooted(reopen(index_store), {"sfx": mac_root})
    for name in ("Doors/door creak.wav", "Doors/door slam.wav", "Rain/rain on roof.wav"):
        index(mac, f"{mac_root}/{name}", name)
    # the same library under another id: every file would be classified again
    with pytest.raises(RootMismatch, match=r"root 'library' at .* holds the files the index knows as root 'sfx'"):
        rooted(reopen(index_store), {"library": linux_root})
    # the id of this library given to another folder
    other = tmp_path / "other"
    tiny_wav(other / "unrelated.wav")
    with pytest.raises(RootMismatch, match=r"root 'sfx' at .* holds none of 3 files the index knows in it"):
        rooted(reopen(index_store), {"sfx": str(other)})
    mac.close()


def test_a_windows_share_and_a_mac_mount_name_a_file_by_the_same_key():
    """Windows's path rules (ntpath, on any machine): a UNC share or a drive folder matches
    whatever the case and the slashes, gives the same key as the Mac's mount, and reads it back
    with backslashes."""
    import ntpath
    import posixpath
    from sidecar.index.rooted import HostRoots
    windows = HostRoots({"sfx": r"\\nas\sfx", "fx": "D:/Library/FX"}, paths=ntpath)
    mac = HostRoots({"sfx": "/Volumes/SFX"}, paths=posixpath)
    key = mac.key("/Volumes/SFX/Doors/door creak.wav")
    assert key == f"{MARK}sfx/Doors/door creak.wav"
    for spelling in (r"\\nas\sfx\Doors\door creak.wav", r"\\NAS\SFX\Doors\door creak.wav", "//nas/sfx/Doors/door creak.wav"):
        assert windows.key(spelling) == key, spelling
    assert windows.local(key) == r"\\nas\sfx\Doors\door creak.wav"
    # a folder's key, as the catch-up's table by folder maps it: the folder the listing names
    assert ntpath.join(windows.local(f"{MARK}sfx/Doors"), "") == "\\\\nas\\sfx\\Doors\\"
    assert windows.key(r"d:\library\fx\Rain\rain.wav") == f"{MARK}fx/Rain/rain.wav"
    assert windows.local(f"{MARK}fx/Rain/rain.wav") == r"D:\Library\FX\Rain\rain.wav"
    assert windows.key(r"\\nas\sfx") == f"{MARK}sfx"
    assert windows.key(r"\\nas\sfx-other\x.wav") == r"\\nas\sfx-other\x.wav"     # not inside the root
    assert mac.key("/Volumes/SFXother/x.wav") == "/Volumes/SFXother/x.wav"
