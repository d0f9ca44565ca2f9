"""The shared index's server going away and coming back, on a throwaway cluster of this test's own."""

from __future__ import annotations

import threading
import time

import pytest

from pg_support import cluster_database
from sidecar.errors import IndexUnavailable
from sidecar.index.store import open_store


def test_a_lost_server_is_one_plain_error_and_the_store_works_again_when_it_returns(pg_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    url = cluster_database(pg_cluster, "lost")
    store = open_store(url)
    woken = threading.Event()
    listener = store.listen_for_work(woken.set)
    try:
        store.queue.enqueue(["/lib/a.wav", "/lib/b.wav"])
        assert store.queue.claim("w", lease=60).path == "/lib/a.wav"
        pg_cluster.stop("fast")
        with pytest.raises(IndexUnavailable) as caught:
            store.queue.claim("w", lease=60)
        assert "\n" not in str(caught.value) and str(pg_cluster.port) in str(caught.value)
        with pytest.raises(IndexUnavailable):
            with store.atomic():
                store.files.count()
        pg_cluster.start()
        woken.clear()
        deadline = time.monotonic() + 120
        while True:             # as a daemon's paused worker does: ask again until the index answers
            try:
                job = store.queue.claim("w", lease=60)
                break
            except IndexUnavailable:
                assert time.monotonic() < deadline, "the store never found the server again"
                time.sleep(1)
        assert job.path == "/lib/b.wav"
        assert store.queue.counts() == {"claimed": 2}
        assert woken.wait(30)                       # the listener is back: it wakes its workers to look
        woken.clear()
        store.queue.enqueue(["/lib/c.wav"])
        assert woken.wait(30)                       # and hears new work again
    finally:
        listener.stop()
        store.close()
