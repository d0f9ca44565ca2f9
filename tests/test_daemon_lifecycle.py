"""The daemon's lifecycle as real subprocesses: SIGKILL with a full queue and a restart, SIGTERM,
SIGHUP reloads (a new root, a broken file), a scan beside it on the same index, a MAX outage.
Classifications are counted from the daemon's log and the scan's JSON, never labels."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from conftest import ServeMax, run_sidecar
from daemon_support import Daemon, indexed, job_states, temp_files, tiny_wav, write_config
from sidecar.metadata import sidecar_xml

#: what the engine hears decides these: they also run on the int8 numeric path (make test)
pytestmark = pytest.mark.labels


def _classified_paths(*daemons: Daemon) -> list[str]:
    return [e["path"] for d in daemons for e in d.events("classified")]


def test_sigkill_with_a_full_queue_then_restart_tags_each_file_once(tmp_path):
    lib = tmp_path / "lib"
    files = [tiny_wav(lib / f"k{i:02d}.wav", seed=i) for i in range(24)]
    db = str(tmp_path / "index.db")
    cfg = write_config(tmp_path / "daemon.toml", [{"path": str(lib)}], daemon={"stable_seconds": 0.1})
    first = Daemon(tmp_path, cfg, db, name="first").start()
    first.wait_for(lambda: len(first.events("classified")) >= 3, what="a few files classified")
    first.kill()                                      # kill -9 while most of the queue waits
    assert first.proc.returncode == -signal.SIGKILL
    states = job_states(db)
    assert any(s in ("queued", "claimed") for s in states.values()), "the queue was already empty"
    # what the first run had written before it died (sidecar provenance dated before the kill)
    written_before = {str(f) for f in files
                      if sidecar_xml.sidecar_path(f).exists()
                      and sidecar_xml.read(sidecar_xml.sidecar_path(f))[0].provenance.engine}
    second = Daemon(tmp_path, cfg, db, name="second").start()
    try:
        second.wait_for(lambda: len(indexed(db)) == len(files), what="every file indexed")
        second.wait_idle()
        again = set(_classified_paths(second)) & written_before
        assert not again, f"classified again after the restart: {sorted(again)}"
        counts = {str(f): _classified_paths(first, second).count(str(f)) for f in files}
        assert all(n <= 1 for n in counts.values()), counts              # none twice
        assert set(indexed(db)) == {str(f) for f in files}                # none forgotten
        for f in files:
            record = sidecar_xml.read(sidecar_xml.sidecar_path(f))[0]
            # every one heard and written (what it was heard as is the engine's business)
            assert record.provenance.engine and record.provenance.time and record.Duration, f
        assert not temp_files(lib)                                        # no temporary file left
        assert set(job_states(db).values()) == {"done"}
    finally:
        second.stop()


def test_sigterm_exits_within_ten_seconds_with_the_queue_consistent(tmp_path):
    lib = tmp_path / "lib"
    files = [tiny_wav(lib / f"t{i:02d}.wav", seed=i, seconds=1.0) for i in range(30)]
    db = str(tmp_path / "index.db")
    cfg = write_config(tmp_path / "daemon.toml", [{"path": str(lib)}], daemon={"stable_seconds": 0.1})
    d = Daemon(tmp_path, cfg, db).start()
    d.wait_for(lambda: d.events("classified"), what="work under way")
    d.signal(signal.SIGTERM)
    d.proc.wait(10)                                  # raises TimeoutExpired after 10 s
    d.stop()
    assert d.proc.returncode == 0
    assert d.events("stopped")
    states = job_states(db)
    assert "claimed" not in states.values()           # the file in hand was finished or put back
    done = {p for p, s in states.items() if s == "done"}
    assert done <= set(indexed(db)) and set(indexed(db)) <= {str(f) for f in files}
    assert len(states) == len(files) and not temp_files(lib)
    # the next start takes up exactly what was left
    d2 = Daemon(tmp_path, cfg, db, name="after").start()
    try:
        d2.wait_for(lambda: len(indexed(db)) == len(files), what="the rest done")
        d2.wait_idle()
        assert sorted(_classified_paths(d, d2)) == sorted(str(f) for f in files)
    finally:
        d2.stop()


def test_sighup_picks_up_a_new_root_and_refuses_a_broken_configuration(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    db = str(tmp_path / "index.db")
    cfg = write_config(tmp_path / "daemon.toml", [{"path": str(a)}])
    d = Daemon(tmp_path, cfg, db).start()
    try:
        tiny_wav(b / "early.wav", seed=1)             # not watched yet
        # b is polled hourly, so only the scheduled rescan (every 2 s) can find what arrives there
        write_config(cfg, [{"path": str(a)}, {"path": str(b), "observer": "polling", "poll_seconds": 3600,
                                               "rescan": "*/2 * * * * *"}])
        d.signal(signal.SIGHUP)
        d.wait_for(lambda: d.events("reloaded"), what="reload")
        d.wait_for(lambda: d.events("classified", path=str(b / "early.wav")), what="caught up with the new root")
        tiny_wav(b / "late.wav", seed=2)
        d.wait_for(lambda: d.events("classified", path=str(b / "late.wav")), what="found by the scheduled rescan")
        assert any(e["why"] == "scheduled rescan" for e in d.events("caught_up") if e["root"] == str(b))
        assert not d.events("file_created", path=str(b / "late.wav"))   # no event: the rescan found it
        cfg.write_text(cfg.read_text() + "\n[daemon]\nstable_seconds = 1\n")   # a table twice: not TOML
        d.signal(signal.SIGHUP)
        refused = d.wait_for(lambda: d.events("reload_refused"), what="refusal")
        assert str(cfg) in refused[0]["reason"]
        cfg.write_text(cfg.read_text().replace("[daemon]\nstable_seconds = 1\n", "").replace(
            "[scan]", "[scan]\nwrokers = 3"))
        d.signal(signal.SIGHUP)
        d.wait_for(lambda: len(d.events("reload_refused")) == 2, what="second refusal")
        assert "wrokers" in d.events("reload_refused")[1]["reason"]
        tiny_wav(a / "still.wav", seed=3)             # the old configuration still runs
        d.wait_for(lambda: d.events("classified", path=str(a / "still.wav")), what="still working")
        assert d.proc.poll() is None and len(d.events("reloaded")) == 1
    finally:
        assert d.stop() == 0


def test_a_scan_beside_the_daemon_classifies_each_file_once(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    db = str(tmp_path / "index.db")
    cfg = write_config(tmp_path / "daemon.toml", [{"path": str(lib)}], daemon={"stable_seconds": 0.1},
                       scan={"jobs": 1})
    d = Daemon(tmp_path, cfg, db).start()
    try:
        files = [tiny_wav(lib / f"s{i:02d}.wav", seed=i) for i in range(16)]
        scan = subprocess.run([*_sidecar(), "scan", str(lib), "--json", "--jobs", "2"], capture_output=True,
                              text=True, timeout=300, env=_env(db))
        assert scan.returncode == 0, scan.stderr
        report = json.loads(scan.stdout)
        d.wait_for(lambda: len(indexed(db)) == len(files), what="all indexed")
        d.wait_idle()
        by_daemon = _classified_paths(d)
        assert report["classified"] + len(by_daemon) == len(files), (report, by_daemon)
        assert len(set(by_daemon)) == len(by_daemon)
        assert report["failed"] == 0
    finally:
        d.stop()


def test_max_outage_jobs_wait_and_resume_nothing_written_meanwhile(tmp_path):
    server = ServeMax().start()
    lib = tmp_path / "lib"
    lib.mkdir()
    db = str(tmp_path / "index.db")
    cfg = write_config(tmp_path / "daemon.toml", [{"path": str(lib)}],
                       scan={"classifier": "max", "max_url": [server.url]})
    d = Daemon(tmp_path, cfg, db).start()
    try:
        first = tiny_wav(lib / "before.wav", seed=1)
        d.wait_for(lambda: d.events("classified", path=str(first)), what="classified through MAX")
        assert indexed(db)[str(first)]["provenance"]["engine"] == "max"
        server.stop()
        during = [tiny_wav(lib / f"during{i}.wav", seed=10 + i) for i in range(3)]
        snapshot = {p: p.read_bytes() for p in during}
        d.wait_for(lambda: d.events("engine_down"), what="engine down")
        time.sleep(2.0)
        for p in during:                              # nothing written from a failed classification
            assert p.read_bytes() == snapshot[p] and not sidecar_xml.sidecar_path(p).exists()
            assert str(p) not in indexed(db)
        assert {job_states(db)[str(p)] for p in during} <= {"queued", "claimed"}
        status = json.loads(run_sidecar("status", "--json", env={"SIDECAR_DB": db}).stdout)
        daemon_info = [w for w in status["workers"] if w["kind"] == "daemon"][0]
        d.wait_for(lambda: not json.loads(run_sidecar("status", "--json", env={"SIDECAR_DB": db}).stdout)
                   ["workers"][0]["engine"]["healthy"], what="status shows the engine down")
        server.start()                                # the same port again
        d.wait_for(lambda: all(d.events("classified", path=str(p)) for p in during), what="resumed")
        assert d.events("engine_up")
        assert not d.events("set_aside")
        assert all(indexed(db)[str(p)]["provenance"]["engine"] == "max" for p in during)
        assert daemon_info["engine"]["classifier"] == "max"
    finally:
        d.stop()
        server.stop()


def _sidecar() -> list[str]:
    from conftest import SIDECAR
    return [SIDECAR]


def _env(db: str) -> dict:
    import os
    env = {**os.environ, "SIDECAR_DB": db}
    env.pop("SIDECAR_CONFIG", None)
    env.pop("SIDECAR_MAX_URL", None)
    return env
