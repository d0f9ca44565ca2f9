"""The catch-up's two listings of a tree, GNU find in its own process and scandir in this one,
give the same files, sizes and mtimes (to the nanosecond), the same leftover writes and the same
unreadable folders, on a tree with every kind of entry a library holds."""

from __future__ import annotations

import os

import pytest

from sidecar.daemon.catchup import CatchUp, Listing, catch_up, gnu_find
from sidecar.daemon.ignore import IgnoreRules
from sidecar.metadata.safe_write import TEMP_PREFIX


def _tree(root) -> None:
    def put(rel: str | bytes, data: bytes = b"RIFF....WAVE") -> bytes:
        path = os.path.join(os.fsencode(root), rel if isinstance(rel, bytes) else os.fsencode(rel))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path
    put("Doors/door slam.wav")
    put("Doors/Wood/creak.FLAC", b"x" * 1234)
    put("Rain/line\nbreak.wav")                   # a newline in a name
    put(b"Rain/caf\xe9.wav")                        # a name that is not UTF-8
    put("Rain/readme.txt")                          # not audio
    put(".hidden/inside.wav")                       # inside a hidden folder: never taken
    put("Doors/.hidden file.wav")                   # hidden file
    put(f"Doors/Wood/{TEMP_PREFIX}door.wav.1234")   # a write under way (or left by a crash)
    put("Doors/partial.wav.part")
    old = put("Old/1969.wav")
    try:
        os.utime(old, ns=(-1_500_000_001, -1_500_000_001))     # before 1970: a negative mtime
    except OSError:
        pass
    os.utime(put("Old/exact.wav"), ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    os.symlink(os.path.join(root, "Doors", "door slam.wav"), os.path.join(root, "Rain", "link.wav"))
    os.symlink(os.path.join(root, "Doors"), os.path.join(root, "Rain", "linked folder"))
    os.mkfifo(os.path.join(root, "Rain", "pipe.wav"))


def _listed(root: str, use_find: bool):
    result = CatchUp(root)
    listing = Listing(root, IgnoreRules(), result, use_find=use_find)
    assert (listing._proc is not None) == use_find, "find was not started" if use_find else "find ran"
    entries = sorted(listing)
    return entries, result


@pytest.mark.skipif(gnu_find() is None, reason="no GNU find on this machine: only the scandir listing runs")
def test_find_and_scandir_list_the_same_files(tmp_path):
    root = str(tmp_path / "lib")
    _tree(root)
    by_find, found = _listed(root, True)
    by_scandir, scanned = _listed(root, False)
    assert by_find == by_scandir
    names = {os.path.relpath(p, root) for p, _, _ in by_find}
    assert names == {"Doors/door slam.wav", "Doors/Wood/creak.FLAC", "Rain/line\nbreak.wav",
                     os.fsdecode(b"Rain/caf\xe9.wav"), "Old/1969.wav", "Old/exact.wav"}
    mtimes = {os.path.relpath(p, root): m for p, _, m in by_find}
    assert mtimes["Old/exact.wav"] == 1_700_000_000_123_456_789
    assert mtimes["Old/1969.wav"] == os.lstat(os.path.join(root, "Old", "1969.wav")).st_mtime_ns
    assert {os.path.relpath(p, root): s for p, s, _ in by_find}["Doors/Wood/creak.FLAC"] == 1234
    assert found.temp_folders == scanned.temp_folders == {os.path.join(root, "Doors", "Wood")}
    assert found.unreadable == scanned.unreadable == []
    # a root reached through a link (how a mount may be given) is followed by both
    os.symlink(root, str(tmp_path / "mount"))
    through_link, _ = _listed(str(tmp_path / "mount"), True)
    assert through_link == _listed(str(tmp_path / "mount"), False)[0]
    assert len(through_link) == len(by_find)


@pytest.mark.skipif(gnu_find() is None, reason="no GNU find on this machine")
@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder: nothing is unreadable to it")
def test_an_unreadable_folder_is_named_by_both(tmp_path):
    root = str(tmp_path / "lib")
    _tree(root)
    locked = os.path.join(root, "Doors", "Wood")
    os.chmod(locked, 0)
    try:
        by_find, found = _listed(root, True)
        by_scandir, scanned = _listed(root, False)
    finally:
        os.chmod(locked, 0o755)
    assert by_find == by_scandir
    assert found.unreadable == scanned.unreadable == [(locked, "Permission denied")]


@pytest.mark.parametrize("use_find", [True, False])
def test_a_missing_root_is_one_unreadable_entry(tmp_path, use_find):
    result = CatchUp(str(tmp_path / "gone"))
    assert list(Listing(str(tmp_path / "gone"), IgnoreRules(), result, use_find=use_find)) == []
    assert result.unreadable == [(str(tmp_path / "gone"), "No such file or directory")]


@pytest.mark.skipif(gnu_find() is None, reason="no GNU find on this machine")
def test_the_catch_up_compares_what_find_listed_with_the_index(tmp_path):
    root = str(tmp_path / "lib")
    _tree(root)
    entries, _ = _listed(root, False)
    known = {p: (s, m, "fp") for p, s, m in entries}
    slam = os.path.join(root, "Doors", "door slam.wav")
    known[slam] = (1, 1, "fp")                                  # changed since it was indexed
    gone = os.path.join(root, "Doors", "gone.wav")
    known[gone] = (1, 1, "fp")
    listed = Listing(root, IgnoreRules(), CatchUp(root), use_find=True)
    result = catch_up(root, known, sorted(known), IgnoreRules(), listed)
    assert result.listed == len(entries) and set(result.changed) == {slam} and result.gone == [gone]
