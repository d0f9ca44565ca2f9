"""`sidecar daemon` as a real subprocess following real file events, with the native and the
polling observer: new, modified, moved, deleted and growing files, a root that vanishes and
returns, tags edited by another tool. Classifications are counted from the daemon's log."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import soundfile as sf
from mutagen.flac import FLAC

from daemon_support import Daemon, indexed, tiny_wav, write_config



@pytest.fixture(params=["native", "polling"])
def observer(request):
    return request.param


def _classified(d: Daemon, path) -> int:
    return len(d.events("classified", path=str(path)))


def test_file_events_end_in_the_expected_state(tmp_path, observer):
    lib = tmp_path / "lib"
    lib.mkdir()
    db = str(tmp_path / "index.db")
    cfg = write_config(tmp_path / "daemon.toml", [{"path": str(lib), "observer": observer}])
    d = Daemon(tmp_path, cfg, db).start()
    try:
        assert d.events("watching")[0]["observer"] == observer
        # new
        a = tiny_wav(lib / "a.wav", seed=1)
        d.wait_for(lambda: _classified(d, a), what="a.wav classified")
        assert str(a) in indexed(db) and (lib / "a.wav.xml").exists()
        # modified audio: heard again
        tiny_wav(lib / "a.wav", seed=2)
        d.wait_for(lambda: _classified(d, a) == 2, what="a.wav classified again")
        # moved: the record follows, no new classification
        (lib / "sub").mkdir()
        b = lib / "sub" / "b.wav"
        fingerprint = indexed(db)[str(a)]["fingerprint"]
        os.rename(a, b)
        d.wait_for(lambda: str(b) in indexed(db) and str(a) not in indexed(db), what="move followed")
        d.wait_idle()
        assert indexed(db)[str(b)]["fingerprint"] == fingerprint
        assert _classified(d, b) == 0 and _classified(d, a) == 2
        # deleted: leaves the index
        b.unlink()
        d.wait_for(lambda: d.events("removed", path=str(b)), what="b.wav removed")
        assert str(b) not in indexed(db)
        # growing: taken once, whole, after the last write
        data = tiny_wav(tmp_path / "src.wav", seed=3, seconds=2.0).read_bytes()
        grow = lib / "grow.wav"
        with open(grow, "wb") as f:
            for i in range(0, len(data), len(data) // 6):
                f.write(data[i:i + len(data) // 6])
                f.flush()
                time.sleep(0.25)        # shorter than the stability wait, longer than a poll
        finished = time.time()
        d.wait_for(lambda: _classified(d, grow), what="grown file classified")
        d.wait_idle()
        assert _classified(d, grow) == 1 and not d.events("failed", path=str(grow))
        assert indexed(db)[str(grow)]["Duration"] == pytest.approx(2.0, abs=0.01)
        taken = d.events("classified", path=str(grow))[0]
        assert _iso_to_epoch(taken["time"]) >= finished
        # ignored: partial, system and the service's own files
        (lib / "c.wav.part").write_bytes(data)
        (lib / "._c.wav").write_bytes(data)
        (lib / ".DS_Store").write_bytes(b"x")
        (lib / "notes.txt").write_text("x")
        time.sleep(1.0)
        d.wait_idle()
        assert not [e for e in d.events() if e.get("path", "").endswith((".part", "._c.wav", ".DS_Store", ".txt"))]
    finally:
        d.stop()


def test_a_root_that_vanishes_is_offline_not_deleted(tmp_path, observer):
    lib = tmp_path / "lib"
    files = [tiny_wav(lib / f"s{i}.wav", seed=i) for i in range(3)]
    db = str(tmp_path / "index.db")
    cfg = write_config(tmp_path / "daemon.toml", [{"path": str(lib), "observer": observer}])
    d = Daemon(tmp_path, cfg, db).start()
    try:
        d.wait_for(lambda: len(indexed(db)) == 3, what="three indexed")
        d.wait_idle()
        away = tmp_path / "unmounted"
        os.rename(lib, away)                       # the drive goes away
        d.wait_for(lambda: d.events("root_offline"), what="root offline")
        time.sleep(1.5)                            # several root checks and polls later...
        assert len(indexed(db)) == 3 and not d.events("removed")
        os.rename(away, lib)                       # ...and comes back
        d.wait_for(lambda: len(d.events("watching")) == 2, what="root watched again")
        d.wait_for(lambda: len(d.events("caught_up")) >= 2, what="catch-up after return")
        d.wait_idle()
        tiny_wav(lib / "new.wav", seed=9)
        d.wait_for(lambda: _classified(d, lib / "new.wav"), what="a new file after the return")
        assert set(indexed(db)) == {str(p) for p in files} | {str(lib / "new.wav")}
        assert sum(_classified(d, p) for p in files) == 3 and not d.events("removed")
    finally:
        d.stop()


def test_own_writes_cause_no_classification_and_a_persons_edit_is_followed(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    db = str(tmp_path / "index.db")
    cfg = write_config(tmp_path / "daemon.toml", [{"path": str(lib)}])
    d = Daemon(tmp_path, cfg, db).start()
    try:
        wav = tiny_wav(lib / "w.wav", seed=4)
        flac = lib / "f.flac"
        data, rate = sf.read(str(tiny_wav(tmp_path / "f.wav", seed=5)))
        sf.write(str(flac), data, rate, format="FLAC")
        d.wait_for(lambda: _classified(d, wav) and _classified(d, flac), what="both classified")
        # the service's own writes came back as events...
        d.wait_for(lambda: d.events("file_moved_to", path=str(wav)) or d.events("file_modified", path=str(wav)),
                   what="events of the service's own write")
        time.sleep(1.5)
        d.wait_idle()
        # ...and caused nothing: one classification each, nothing re-read
        assert _classified(d, wav) == 1 and _classified(d, flac) == 1
        assert not d.events("reindexed")
        # a person edits a tag in another tool: the index and the sidecar follow, no classification
        tags = FLAC(str(flac))
        tags["TITLE"] = ["Wood door slam, take 2"]
        tags.save()
        d.wait_for(lambda: d.events("reindexed", path=str(flac)), what="edit noticed")
        assert indexed(db)[str(flac)]["TrackTitle"] == "Wood door slam, take 2"
        assert "Wood door slam, take 2" in (lib / "f.flac.xml").read_text(encoding="utf-8")
        time.sleep(1.0)
        d.wait_idle()
        assert _classified(d, flac) == 1 and len(d.events("reindexed", path=str(flac))) == 1
    finally:
        d.stop()


def _iso_to_epoch(stamp: str) -> float:
    import calendar
    base, frac = stamp.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int(frac) / 1000


def test_the_daemon_serves_the_osc_bridge_while_it_tags(tmp_path):
    import socket

    from pythonosc.osc_message import OscMessage

    from conftest import free_port
    from daw_bridge import messages

    lib = tmp_path / "lib"
    lib.mkdir()
    db = str(tmp_path / "index.db")
    port = free_port()
    cfg = write_config(tmp_path / "daemon.toml", [{"path": str(lib)}], extra=f"[osc]\nport = {port}\n")
    d = Daemon(tmp_path, cfg, db, args=()).start()
    try:
        assert d.wait_for(lambda: d.events("osc_listening"), what="bridge")[0]["port"] == port
        wav = tiny_wav(lib / "creaky hinge.wav", seed=6)
        d.wait_for(lambda: _classified(d, wav), what="classified")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(10)
            sock.sendto(messages.message("/sfx/ping", 7), ("127.0.0.1", port))
            pong = OscMessage(sock.recvfrom(8192)[0])
            assert (pong.address, pong.params) == ("/sfx/pong", [7])
            sock.sendto(messages.message("/sfx/search", 3, "hinge", 10), ("127.0.0.1", port))
            replies = []
            while not replies or replies[-1].address != "/sfx/done":
                replies.append(OscMessage(sock.recvfrom(8192)[0]))
        results = [m for m in replies if m.address == "/sfx/result"]
        assert [m.params[2] for m in results] == [str(wav)]
        assert replies[-1].params == [3, 1]
    finally:
        d.stop()
