"""The daemon's parts on real files and a real index: the queue's rules, the catch-up, the ignore
rules, roots going offline, file system types (checked against findmnt). The queue's rules are
checked on both backends, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from daemon_support import tiny_wav
from sidecar.daemon.catchup import catch_up
from sidecar.index.folders import by_folder
from sidecar.daemon.ignore import IgnoreRules
from sidecar.daemon.roots import filesystem_type, is_remote, offline_reason
from pg_support import sql


@pytest.fixture
def store(index_store):
    return index_store


def test_an_event_while_claimed_queues_the_file_again_after(store):
    store.queue.enqueue(["/lib/a.wav"], seen={"/lib/a.wav": (10, 1)})
    job = store.queue.claim("w1", lease=60)
    assert job.path == "/lib/a.wav" and job.seen == (10, 1)
    store.queue.enqueue(["/lib/a.wav"], delay=0)          # the file changed (or was written) meanwhile
    assert store.queue.claim("w2", lease=60) is None       # never two workers on one file
    store.queue.finish("/lib/a.wav", True)
    assert store.queue.counts() == {"queued": 1}
    assert store.queue.claim("w2", lease=60).seen is None  # to be looked at afresh


def test_failures_back_off_and_the_file_is_set_aside_with_its_reason(store):
    store.queue.enqueue(["/lib/bad.wav"])
    job = store.queue.claim("w", lease=60)
    store.queue.retry(job.path, 3600, "decoder said no")
    assert store.queue.claim("w", lease=60) is None        # waiting out its back-off
    assert store.queue.recent_errors()[0].reason == "decoder said no"
    store.db.execute("UPDATE jobs SET not_before = 0")
    job = store.queue.claim("w", lease=60)
    assert job.tries == 1
    store.queue.finish(job.path, False, "decoder said no, again")
    assert store.queue.counts() == {"set_aside": 1}
    aside = store.queue.jobs_in("set_aside")[0]
    assert (aside.tries, aside.reason) == (2, "decoder said no, again")
    store.queue.enqueue(["/lib/bad.wav"])                  # a new event: the file gets a fresh start
    assert store.queue.claim("w", lease=60).tries == 0


def test_claims_of_dead_workers_and_expired_leases_are_taken_up(store):
    store.queue.enqueue(["/lib/a.wav", "/lib/b.wav"])
    a = store.queue.claim("dead", lease=60)
    b = store.queue.claim("slow", lease=0.01)
    time.sleep(0.05)
    assert store.queue.take_over_claims(["dead"]) == 2     # a: its worker died; b: its lease ran out
    again = {store.queue.claim("w", lease=60).path: None for _ in range(2)}
    assert set(again) == {a.path, b.path}
    rows = dict(sql(store, "SELECT path, taken_over FROM jobs"))
    assert all(rows[p] for p in again)               # remembered: the file may have been written


def test_a_scan_cannot_claim_what_a_live_worker_holds(store):
    store.queue.enqueue(["/lib/a.wav"])
    store.queue.claim("daemon", lease=60)
    assert not store.queue.claim_path("/lib/a.wav", "scan", 600)
    store.queue.finish("/lib/a.wav", True)
    assert store.queue.claim_path("/lib/a.wav", "scan", 600)
    assert store.queue.claim("daemon", lease=60) is None


def test_a_gone_file_waits_for_the_jobs_asked_for_before_it(store):
    store.queue.enqueue(["/lib/new/place.wav"], now=100.0)
    store.queue.enqueue(["/lib/old.wav"], now=100.0)
    assert store.queue.ahead_of("/lib/old.wav") == 1
    store.queue.claim("w", lease=60)                       # the new place is being worked on
    assert store.queue.ahead_of("/lib/old.wav") == 1
    store.queue.finish("/lib/new/place.wav", True)
    assert store.queue.ahead_of("/lib/old.wav") == 0


def test_release_puts_jobs_back_without_a_try(store):
    store.queue.enqueue(["/lib/a.wav"])
    store.queue.claim("w", lease=60)
    assert store.queue.release_claims("w") == 1
    assert store.queue.claim("w2", lease=60).tries == 0


def test_ignore_rules():
    rules = IgnoreRules(["*_render_tmp*"])
    for name in ("a.wav.part", "a.tmp", "a.wav.crdownload", "._a.wav", ".DS_Store", "Thumbs.db",
                 ".sidecar-tmp-a.wav-1234", "a.wav.xml", "notes.txt", ".hidden.wav", "x_render_tmp.wav"):
        assert rules.ignored(f"/lib/{name}", "/lib"), name
    for name in ("a.wav", "B.WAV", "c.flac", "d.mp3", "e.aiff"):
        assert not rules.ignored(f"/lib/{name}", "/lib"), name
    assert rules.ignored("/lib/.trash/a.wav", "/lib")
    assert not rules.ignored("/home/me/.sounds/lib/a.wav", "/home/me/.sounds/lib")   # above the root


@pytest.mark.parametrize("extra", [[], ["*_render_tmp*"], ["*_tmp.wav", "take?.wav"], ["[ab]*.wav"],
                                   ["*.WAV", "Copy of *", "*~"]])
def test_ignore_rules_split_for_speed_agree_with_fnmatch(extra):
    """name_ignored tests plain "*<text>" patterns as suffixes and asks the rest only of names
    starting with one of their first characters: the verdicts equal fnmatch's, pattern by pattern."""
    import fnmatch
    from sidecar.daemon.ignore import PARTIAL_OR_SYSTEM
    from sidecar.formats import AUDIO_EXTENSIONS
    rules = IgnoreRules(extra)
    names = ["a.wav", "B.WAV", "take1.wav", "take12.wav", "x_tmp.wav", "x_render_tmp.wav", "b door.flac",
             "Copy of rain.wav", "rain.wav~", "._rain.wav", "~$rain.wav", ".sidecar-tmp-a.wav-1", "Thumbs.db",
             "door.wav.part", "door", ".wav", "door.wav.xml", "a\nb.wav", "[a].wav", "T.wav", "d.mp3"]

    def reference(name):
        dot = name.rfind(".")
        if dot < 0 or name[dot:].lower() not in AUDIO_EXTENSIONS or name.startswith("."):
            return True
        return any(fnmatch.fnmatchcase(name, p) for p in PARTIAL_OR_SYSTEM + tuple(extra))
    for name in names:
        assert rules.name_ignored(name) == reference(name), name


def test_catch_up_finds_new_changed_and_gone_files_only(tmp_path):
    lib = tmp_path / "lib"
    same, changed, new = (tiny_wav(lib / n, seed=i) for i, n in enumerate(("same.wav", "sub/changed.wav", "new.wav")))
    (lib / ".hidden").mkdir()
    tiny_wav(lib / ".hidden" / "h.wav")
    (lib / "link.wav").symlink_to(same)
    (lib / "sub" / ".sidecar-tmp-changed.wav-abcd").write_bytes(b"x")
    (lib / "same.wav.xml").write_text("<x/>")
    os.mkfifo(lib / "pipe.wav")
    st = {p: os.stat(p) for p in (same, changed)}
    (lib / "removed").mkdir()
    tiny_wav(lib / "removed" / "kept elsewhere.wav")
    known = by_folder([(str(same), st[same].st_size, st[same].st_mtime_ns),
                       (str(changed), st[changed].st_size, st[changed].st_mtime_ns - 1),
                       (str(lib / "gone.wav"), 1, 1),
                       (str(lib / "sub" / "gone too.wav"), 1, 1),
                       (str(lib / "old" / "folder gone.wav"), 1, 1),                # a folder removed
                       (str(lib / ".hidden" / "h.wav"), 1, 1),                     # not walked, still there
                       (str(tmp_path / "other root" / "x.wav"), 1, 1)])            # another root's
    result = catch_up(str(lib), known, IgnoreRules())
    assert set(result.changed) == {str(changed), str(new), str(lib / "removed" / "kept elsewhere.wav")}
    assert result.gone == sorted([str(lib / "gone.wav"), str(lib / "sub" / "gone too.wav"),
                                  str(lib / "old" / "folder gone.wav")])
    assert result.temp_folders == {str(lib / "sub")}
    assert result.listed == 4


def test_offline_reasons(tmp_path):
    assert "missing" in offline_reason(str(tmp_path / "nope"), True)
    (tmp_path / "empty").mkdir()
    assert offline_reason(str(tmp_path / "empty"), False) == ""         # a new, empty library
    assert "empty while the index holds files" in offline_reason(str(tmp_path / "empty"), True)
    tiny_wav(tmp_path / "full" / "a.wav")
    assert offline_reason(str(tmp_path / "full"), True) == ""


@pytest.mark.skipif(not shutil.which("findmnt"), reason="findmnt (util-linux) is not installed")
def test_file_system_type_agrees_with_findmnt(tmp_path):
    for path in (tmp_path, "/proc", "/"):
        expected = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", str(path)],
                                  capture_output=True, text=True).stdout.strip()
        assert filesystem_type(str(path)) == expected, path
    assert is_remote("nfs4") and is_remote("cifs") and is_remote("fuse.sshfs")
    assert not is_remote("ext4") and not is_remote("apfs") and not is_remote("tmpfs")
