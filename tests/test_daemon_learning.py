"""The daemon and sounds like: new files get their vectors, the schedule learns CatIDs again only
when what a person categorised changed, files the new model recategorises are revisited, and its
OSC bridge answers /sfx/similar."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess

import numpy as np
import pytest

from audiogen import write
from bridge_support import DAW_BRIDGE
from daemon_support import Daemon, indexed, write_config
from test_learn import CATIDS
from test_similar import FAMILIES, family_sound, run

#: what the engine hears decides these: they also run on the int8 numeric path (make test)
pytestmark = pytest.mark.labels


def learned_versions(db: str) -> list[int]:
    with sqlite3.connect(db, timeout=30) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM category_models ORDER BY version")]


def test_the_daemon_learns_on_its_schedule_revisits_and_answers_similar(tmp_path):
    lib = tmp_path / "lib"
    rng = np.random.default_rng(5)
    truth = {}
    for family in FAMILIES:
        for i in range(6):
            write(str(lib / "named" / f"{CATIDS[family]}_{family} take {i}_JD_Gen"), "wav16", family_sound(family, rng))
        for i in range(3):
            path = write(str(lib / "untagged" / f"untitled {family[0]}{i}"), "wav16", family_sound(family, rng))
            truth[os.path.abspath(path)] = CATIDS[family]
    db = str(tmp_path / "index.db")
    env = {**os.environ, "SIDECAR_DB": db}
    env.pop("SIDECAR_CONFIG", None)
    run("scan", str(lib), env=env)           # indexed before any model was learned
    config = write_config(tmp_path / "sidecar.toml", [{"path": str(lib)}],
                          extra='[learn]\nschedule = "*/2 * * * * *"\n[osc]\nport = 0\n')
    daemon = Daemon(tmp_path, config, db, args=()).start()
    try:
        daemon.wait_for(lambda: daemon.events("learned"), what="the scheduled learning")
        assert daemon.events("learned")[0]["version"] == 1 and daemon.events("learned")[0]["files"] == 24
        daemon.wait_for(lambda: daemon.events("revisit_queued"), what="the files it recategorises")
        daemon.wait_for(lambda: sum(indexed(db)[p]["provenance"].get("category_source") == "learned"
                                    for p in truth) >= 0.75 * len(truth), what="learned categories")
        records = indexed(db)
        for path, catid in truth.items():
            prov = records[path]["provenance"]
            if prov.get("category_source") == "learned":
                assert prov["category_model"] == "learned-1" and records[path]["CatID"] == catid
        # nothing a person categorised changed: the schedule learns nothing new
        daemon.wait_for(lambda: daemon.events("learn_skipped"), what="a skipped learning")
        assert learned_versions(db) == [1]

        # a file arriving now gets its vector and the learned category
        late = write(str(lib / "untagged" / "arrived later"), "wav16", family_sound("sweep", rng))
        daemon.wait_for(lambda: daemon.events("classified", path=late), what="the new file")
        with sqlite3.connect(db, timeout=30) as conn:
            assert conn.execute("SELECT count(*) FROM embeddings e JOIN files f ON f.id = e.file_id "
                                "WHERE f.path = ?", (late,)).fetchone()[0] == 1

        # "more like this" through the daemon's bridge
        port = daemon.events("osc_listening")[0]["port"]
        query = next(p for p, c in truth.items() if c == CATIDS["clicks"])
        answer = subprocess.run([DAW_BRIDGE, "similar", query, "-n", "3", "--json", "--port", str(port),
                                 "--timeout", "60"], capture_output=True, text=True)
        assert answer.returncode == 0, answer.stderr
        hits = [h["path"] for h in json.loads(answer.stdout)]
        assert len(hits) == 3 and query not in hits
        assert sum("clicks" in os.path.basename(h) or truth.get(h) == CATIDS["clicks"] for h in hits) >= 2
    finally:
        daemon.stop()
