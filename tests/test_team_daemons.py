"""Three `sidecar daemon` processes over one PostgreSQL index and one library of 300 files, each machine
seeing the library under a path of its own (symbolic links stand for the mounts). One daemon is
SIGKILLed mid-run and the database server is restarted mid-run; every file is still classified and
written once, counted from the daemons' own logs and from the journal.

The database is a throwaway cluster of this test's own (the shared server is never restarted).
The descriptor engine keeps the CPU cost of three processes low.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import psycopg

from daemon_support import Daemon, tiny_wav, write_config
from pg_support import cluster_database
from sidecar.metadata import sidecar_xml

FILES = 300


def rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            return conn.execute(sql, params).fetchall()
    except psycopg.OperationalError:
        return []


class TeamDaemon(Daemon):
    """A daemon of the team: its queue is in PostgreSQL, so the SQLite helpers do not apply."""

    def __init__(self, tmp, config, url, name, cache):
        super().__init__(tmp, config, url, name=name)
        self.cache = cache

    def start(self) -> "TeamDaemon":
        import subprocess
        from conftest import SIDECAR
        self._log = open(self.log_path, "w")
        env = {**os.environ, "SIDECAR_DB": self.db, "XDG_CACHE_HOME": str(self.cache)}
        env.pop("SIDECAR_CONFIG", None)
        env.pop("SIDECAR_MAX_URL", None)
        self.proc = subprocess.Popen([SIDECAR, "daemon", "--config", str(self.config), *self.args],
                                     stdout=subprocess.DEVNULL, stderr=self._log, env=env)
        self.wait_for(lambda: self.events("started"), what="start")
        return self


def kill_holding_a_claim(daemon: Daemon, url: str, timeout: float = 120.0) -> None:
    """SIGKILL the daemon at a moment it holds a claim: stopped (SIGSTOP) when the database shows
    one, looked at again once anything it had sent has landed, let go on if the claim was gone."""
    worker = daemon.events("started")[0]["worker"]

    def held() -> bool:
        found = rows(url, "SELECT count(*) FROM jobs WHERE state = 'claimed' AND worker = %s", (worker,))
        return bool(found and found[0][0])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if held():
            daemon.signal(signal.SIGSTOP)
            time.sleep(0.3)
            if held():
                daemon.kill()
                return
            daemon.signal(signal.SIGCONT)
        time.sleep(0.005)
    raise AssertionError(f"{worker} never held a claim in {timeout:.0f} s")


def test_three_daemons_one_database_each_file_once_through_a_kill_and_a_restart(tmp_path, pg_cluster):
    url = cluster_database(pg_cluster, "team")
    real = tmp_path / "nas" / "sfx"
    names = [f"{k % 6:d}/{k:03d} tone.wav" for k in range(FILES)]
    for k, name in enumerate(names):
        tiny_wav(real / name, seed=k, seconds=0.2)
    daemons = []
    for n in range(3):
        mount = tmp_path / f"machine{n}" / "sfx"
        mount.parent.mkdir()
        mount.symlink_to(real, target_is_directory=True)
        cfg = write_config(tmp_path / f"machine{n}.toml", [{"id": "sfx", "path": str(mount)}],
                           daemon={"stable_seconds": 0.1, "lease_seconds": 30},
                           scan={"classifier": "descriptors", "jobs": 1})
        daemons.append(TeamDaemon(tmp_path, cfg, url, f"machine{n}", tmp_path / f"cache{n}"))
    for d in daemons:
        d.start()

    def classified() -> list[tuple[int, str]]:
        """(machine, path inside the root) of every file a daemon says it classified."""
        out = []
        for n, d in enumerate(daemons):
            mount = str(tmp_path / f"machine{n}" / "sfx") + "/"
            for ev in d.events("classified"):
                assert ev["path"].startswith(mount), ev      # each daemon speaks its own paths
                out.append((n, ev["path"][len(mount):]))
        return out

    def done() -> int:
        found = rows(url, "SELECT count(*) FROM jobs WHERE state = 'done'")
        return found[0][0] if found else 0

    try:
        daemons[0].wait_for(lambda: len(classified()) >= 40, timeout=240, what="40 files classified")
        victim = daemons[1]
        kill_holding_a_claim(victim, url)                    # kill -9 with a claim in hand
        assert victim.proc.returncode == -signal.SIGKILL
        daemons[0].wait_for(lambda: len(classified()) >= 120, timeout=240, what="120 files classified")
        before = done()
        pg_cluster.stop("fast")                              # the database goes away mid-run, longer than
        time.sleep(15)                                       # a connection is waited for ...
        pg_cluster.start()                                   # ... and comes back
        daemons[0].wait_for(lambda: done() >= FILES, timeout=600, what="every file done")
        daemons[0].wait_for(lambda: not rows(url, "SELECT 1 FROM jobs WHERE state IN ('queued', 'claimed')"),
                            timeout=120, what="an empty queue")
    finally:
        for d in daemons:
            d.stop()

    # the index: one row per file, named by the root's id, every one heard by the engine
    keys = [r[0] for r in rows(url, "SELECT path FROM files")]
    assert sorted(keys) == sorted(f"/@sfx/{name}" for name in names)
    engines = Counter(r[0] for r in rows(url, "SELECT engine FROM files"))
    assert engines == {"descriptors": FILES}, engines
    # the logs: no file classified twice, by one machine or by two
    counts = Counter(rel for _, rel in classified())
    assert max(counts.values()) == 1, [rel for rel, c in counts.items() if c > 1]
    assert len({n for n, _ in classified()}) >= 2                      # the work was shared
    # the journal: one row per file, whichever machine wrote it, under the same key
    journal = [r[0] for r in rows(url, "SELECT path FROM journal")]
    assert len(journal) == len(set(journal)) and all(k.startswith("/@sfx/") for k in journal)
    assert set(keys) <= set(journal)
    # every file carries what was heard, written once: the provenance in its sidecar
    for name in names:
        record = sidecar_xml.read(sidecar_xml.sidecar_path(real / name))[0]
        assert record.provenance.engine == "descriptors", name
    # the faults were seen and lived through
    survivors = [daemons[0], daemons[2]]
    assert any(d.events("claims_taken_over") for d in survivors)
    assert before < FILES                                                # the restart came mid-run
    lost = [d for d in survivors if d.events("index_lost")]
    assert lost and all(d.events("index_back") for d in lost)          # paused, then resumed
    assert not any("Traceback" in d.log_path.read_text() for d in survivors)
