"""The stores every backend offers, held to the same contract on SQLite and PostgreSQL: files,
vectors, learned models, meta, the journal's rows and the UCS list."""

from __future__ import annotations

import numpy as np
import pytest

from sidecar.index.interfaces import IndexedFile, JournalRow, StoredEmbedding, StoredModel, UcsRow
from sidecar.metadata.record import Label, Provenance, Record


def put(store, path: str, description: str, engine: str = "embedded", model: str = "yamnet") -> None:
    store.files.upsert(IndexedFile(path, 10, 20, "fp-" + path, "wav", Record(
        Description=description, provenance=Provenance(engine=engine, model=model, labels=[Label("Door", 0.7)]))))


def test_files(index_store):
    s = index_store
    put(s, "/lib/a/door.wav", "a door")
    put(s, "/lib/a%b/gate.wav", "a gate", engine="max", model="")
    put(s, "/lib/ab/x.wav", "x")
    assert s.files.count() == 3 and s.files.get("/lib/a/door.wav").record.Description == "a door"
    assert s.files.paths_under("/lib/a") == ["/lib/a/door.wav"]            # not /lib/ab, not /lib/a%b
    assert s.files.has_files_under("/lib/a%b") and not s.files.has_files_under("/lib/c")
    assert s.files.identities()["/lib/ab/x.wav"] == (10, 20, "fp-/lib/ab/x.wav")
    assert s.files.paths_heard_by(lambda engine, model: engine == "max") == {"/lib/a%b/gate.wav"}
    assert s.files.count_by("engine") == {"embedded": 2, "max": 1}
    assert [f.path for f in s.files.find_by_fingerprint("fp-/lib/ab/x.wav")] == ["/lib/ab/x.wav"]
    s.files.touch("/lib/ab/x.wav", 11, 21)
    assert s.files.identities()["/lib/ab/x.wav"][:2] == (11, 21)
    assert s.files.stamps_by_folder() == {"/lib/a/": {"door.wav": (10, 20)}, "/lib/a%b/": {"gate.wav": (10, 20)},
                                          "/lib/ab/": {"x.wav": (11, 21)}}
    assert s.files.delete("/lib/ab/x.wav") and not s.files.delete("/lib/ab/x.wav")
    assert s.files.delete_many(["/lib/a/door.wav", "/nowhere.wav"]) == 1
    assert [f.path for f in s.files.all()] == ["/lib/a%b/gate.wav"]
    assert [f.path for f in s.files.search("gate")] == ["/lib/a%b/gate.wav"]


def test_vectors_and_their_log(index_store):
    s = index_store
    vec = np.ones(4, "<f4") / 2
    for k in range(3):
        put(s, f"/lib/{k}.wav", str(k))
        s.vectors.put(f"/lib/{k}.wav", StoredEmbedding(0, "aisfx", f"fp-/lib/{k}.wav", vec.tobytes(), b"", b"", 4))
    with pytest.raises(ValueError):
        s.vectors.put("/lib/none.wav", StoredEmbedding(0, "aisfx", "x", vec.tobytes(), b"", b"", 4))
    assert s.vectors.count() == 3 and s.vectors.get("/lib/1.wav").vector == vec.tobytes()
    assert s.vectors.stale_paths("aisfx") == set() and s.vectors.stale_paths("other") == {f"/lib/{k}.wav" for k in range(3)}
    ids = [i for batch, _ in s.vectors.batches(2) for i in batch]
    assert len(ids) == 3 and ids == sorted(ids)
    assert [i for i, _ in s.vectors.by_ids(ids[:2])] == ids[:2]
    assert [f.path for f, _ in s.vectors.files_with_vectors("aisfx")] == [f"/lib/{k}.wav" for k in range(3)]
    changes = s.vectors.changes(0)
    assert [seq for seq, _ in changes] == sorted(seq for seq, _ in changes) and len(changes) == 3
    s.files.delete("/lib/0.wav")                     # the vector goes with the file; the log says so
    last = s.vectors.last_change()
    assert s.vectors.changes(changes[-1][0]) == [(last, ids[0])]
    s.vectors.forget_changes(last)
    assert s.vectors.changes(0) == [] and s.vectors.log_floor() == last and s.vectors.last_change() == last


def test_models_and_meta(index_store):
    s = index_store
    assert s.models.latest() is None and s.meta.get("k") is None
    first = StoredModel("aisfx", ["A", "B"], np.zeros((2, 3)).tobytes(), np.zeros(2).tobytes(), {"acc": 1}, ["/m/x"],
                        created="2026-12-04T10:00:00Z")
    v1 = s.models.save(first)
    v2 = s.models.save(StoredModel("aisfx", ["A"], b"\0" * 24, b"\0" * 8, {}, [], created="2026-12-04T11:00:00Z"))
    assert v2 == v1 + 1 and s.models.latest().classes == ["A"] and s.models.latest().version == v2
    s.meta.set("k", "1")
    s.meta.set("k", "2")
    assert s.meta.get("k") == "2"


def test_journal_rows(index_store):
    j = index_store.journal
    row = JournalRow("/lib/a.wav", 1.5, 100, 44, 56, "aa", "bb", "sidecar.metadata.riff:audio_span", b"head", b"tail")
    assert j.add(row) and not j.add(row)
    assert j.get("/lib/a.wav") == row and j.has("/lib/a.wav") and not j.has("/lib/b.wav")
    j.add(JournalRow("/lib/s.xml", 2.5, 0, 0, 0, "", "cc", "created"))
    assert [r.path for r in j.entries()] == ["/lib/a.wav", "/lib/s.xml"]
    assert j.entries()[0].head == b""                           # entries come without head and tail
    assert j.set_original_sha256("/lib/s.xml", "dd") and not j.set_original_sha256("/lib/none.xml", "dd")
    assert not j.set_original_sha256("/lib/s.xml", "ee", unless="dd")
    assert j.rename("/lib/a.wav", "/lib/moved.wav") and j.get("/lib/moved.wav").head == b"head"
    assert not j.rename("/lib/s.xml", "/lib/moved.wav")          # the target has a row: the old one goes
    assert not j.has("/lib/s.xml") and j.get("/lib/moved.wav").original_sha256 == "bb"
    j.delete("/lib/moved.wav")
    assert j.entries() == []


def test_ucs_list(index_store):
    u = index_store.ucs
    assert u.load() is None
    rows = [UcsRow("ZZZLast", "ZZZ", "LAST"), UcsRow("DOORWood", "DOORS", "WOOD", "DOOR", "wooden doors", ["portal"],
                                                     {"de": {"Category": "TÜREN", "SubCategory": "HOLZ"}})]
    u.save(rows, "8.2.1", "UCS.xlsx")
    assert u.load() == (rows, "8.2.1", "UCS.xlsx")              # in the list's own order
    u.save(rows[1:], "8.2.2", "new.xlsx")
    assert u.load() == (rows[1:], "8.2.2", "new.xlsx")


def test_files_found_by_a_label_they_hold(index_store):
    s = index_store
    for path, labels in (("/lib/owl.wav", [Label("Owl", 0.8, "/m/09d5_"), Label("DC offset", 1.0, "/x/sidecar/dc")]),
                         ("/lib/dog.wav", [Label("Dog", 0.9, "/m/0bt9lr")])):
        s.files.upsert(IndexedFile(path, 1, 2, "fp" + path, "wav",
                                   Record(provenance=Provenance(engine="embedded", model="m", labels=labels))))
    assert s.files.paths_labelled({"/x/sidecar/dc": "DC offset"}) == {"/lib/owl.wav"}
    assert s.files.paths_labelled({"/x/sidecar/dc": "Dog"}) == set()          # name and id together


def test_text_vectors_their_todo_list_and_change_log(index_store):
    from sidecar.index.interfaces import TEXT_VECTOR_SIZE
    from pg_support import sql
    s = index_store
    put(s, "/lib/a.wav", "a door")
    tv = s.text_vectors
    assert not tv.exists()
    put(s, "/lib/b.wav", "a gate")          # no to-do list is kept before the first use
    tv.ensure()
    assert tv.exists()
    ids = dict(sql(s, "SELECT path, id FROM files"))
    a, b = ids["/lib/a.wav"], ids["/lib/b.wav"]
    assert [f for f, _ in tv.todo()] == [a, b] and tv.todo_count() == 2
    one, two = (np.full(TEXT_VECTOR_SIZE, v, "<f4").tobytes() for v in (0.5, 0.25))
    tv.write([(a, "da", one, None), (b, "db", two, two)], tv.todo())
    assert tv.todo() == [] and tv.digests([a, b]) == {a: "da", b: "db"}
    words, heard = tv.kind("words"), tv.kind("heard")
    assert (words.count(), heard.count()) == (2, 1)
    assert [f for _, f in words.changes(0)] == [a, b] and [f for _, f in heard.changes(0)] == [b]
    assert words.by_ids([b, a]) == [(a, one), (b, two)] and list(heard.batches()) == [([b], [two])]
    seen = words.last_change()
    tv.write([(a, None, None, one)], [])                    # heard only: the words stay
    tv.write([(b, "db", two, two)], [])                     # the same vectors: no change logged
    assert words.changes(seen) == [] and [f for _, f in heard.changes(seen)] == [a]

    put(s, "/lib/a.wav", "an old door")                     # a changed record is to do again
    [(todo_id, n)] = tv.todo()
    put(s, "/lib/a.wav", "an older door")                   # and again, while it was being done:
    tv.write([(a, "da2", two, one)], [(todo_id, n)])        # the answer to the first keeps it to do
    assert [f for f, _ in tv.todo()] == [a]

    last = words.last_change()
    words.forget_changes(last)
    assert words.changes(0) == [] and words.log_floor() == last and heard.changes(0) != []
    s.files.delete("/lib/b.wav")                            # its vectors go, and the log says so
    assert (words.count(), heard.count()) == (1, 1)
    assert [f for _, f in words.changes(last)] == [b] and tv.todo() == [(a, tv.todo()[0][1])]
    tv.redo_all()
    assert [f for f, _ in tv.todo()] == [a]
    tv.set_state("labels", "k1")
    assert tv.state("labels") == "k1"


def test_a_meta_update_waits_for_another_in_progress(index_store):
    """Two machines registering their roots at once: the second reads what the first wrote
    (a read-modify-write of one value is one step on either backend)."""
    import json
    import threading
    from pg_support import reopen
    index_store.meta.set("roots", "{}")         # a value there already (a new one is another case)
    other = reopen(index_store)
    inside, go, seen = threading.Event(), threading.Event(), []

    def first(value):
        inside.set()
        assert go.wait(60)
        return json.dumps({**json.loads(value or "{}"), "first": 1})

    def second(value):
        seen.append(value)
        return json.dumps({**json.loads(value or "{}"), "second": 2})

    one = threading.Thread(target=index_store.meta.update, args=("roots", first))
    one.start()
    try:
        assert inside.wait(60)
        two = threading.Thread(target=other.meta.update, args=("roots", second))
        two.start()
        two.join(2)
        assert two.is_alive()           # it waits for the first to finish, not reading before it
        go.set()
        one.join(60)
        two.join(60)
    finally:
        go.set()
        other.close()
    assert seen == ['{"first": 1}']
    assert json.loads(index_store.meta.get("roots")) == {"first": 1, "second": 2}


def test_the_queue_settles_a_job_by_its_retry_policy(index_store):
    from sidecar.index.job_policy import JobEnd, RetryPolicy
    q = index_store.queue
    policy = RetryPolicy(max_tries=2, retry_seconds=10.0, retry_max_seconds=15.0)
    q.enqueue(["/lib/a.wav", "/lib/b.wav", "/lib/c.wav"], now=1000.0)
    jobs = {}
    while (job := q.claim("w1", 300, now=2000.0)) is not None:
        jobs[job.path] = job
    assert sorted(jobs) == ["/lib/a.wav", "/lib/b.wav", "/lib/c.wav"]

    done = q.settle("/lib/a.wav", jobs["/lib/a.wav"].tries, JobEnd.done(), policy)
    assert (done.state, done.tries) == ("done", 0) and q.counts().get("done") == 1

    paused = q.settle("/lib/b.wav", 0, JobEnd.paused(0, "root offline", seen=(5, 6)), policy)
    assert (paused.state, paused.tries, paused.wait) == ("queued", 0, 0)
    again = q.claim("w1", 300)                  # no try counted, the size and mtime seen kept
    assert (again.path, again.tries, again.seen) == ("/lib/b.wav", 0, (5, 6))

    first = q.settle("/lib/c.wav", 0, JobEnd.failed("cannot decode"), policy)
    assert (first.state, first.tries, first.wait) == ("queued", 1, 10.0)     # backoff after one failure
    assert q.claim("w1", 300) is None           # not before its wait
    assert [j.path for j in q.recent_errors()] == ["/lib/c.wav"]
    last = q.settle("/lib/c.wav", 1, JobEnd.failed("cannot decode"), policy)
    assert (last.state, last.tries) == ("set_aside", 2)
    [aside] = q.jobs_in("set_aside")
    assert (aside.path, aside.tries, aside.reason) == ("/lib/c.wav", 2, "cannot decode")
    assert policy.backoff(1) == 10.0 and policy.backoff(2) == 15.0      # doubled, capped


def test_work_waiting_for_a_file_is_queued_again_after_a_claim_of_it(index_store):
    """A person's edit (or a scan beside the daemon) claims a file by path: the work that was
    queued for it, or held by a worker that died, is queued again when the claim is finished,
    never marked done by the claimer's own write."""
    import time
    q = index_store.queue
    q.enqueue(["/lib/queued.wav"])
    assert q.claim_path("/lib/queued.wav", "edit:1", 600)
    assert q.claim("daemon", 60) is None                   # held by the edit meanwhile
    assert (q.holder("/lib/queued.wav"), q.holder("/lib/other.wav")) == ("edit:1", "")
    q.finish("/lib/queued.wav", True)
    assert q.holder("/lib/queued.wav") == ""
    job = q.claim("daemon", 60)
    assert job is not None and job.path == "/lib/queued.wav"
    q.finish(job.path, True)

    assert q.claim_path("/lib/nothing-waiting.wav", "edit:2", 600)
    q.finish("/lib/nothing-waiting.wav", True)
    assert q.claim_path("/lib/queued.wav", "edit:3", 600)   # its job is done: nothing waits
    q.finish("/lib/queued.wav", True)
    assert q.claim("daemon", 60) is None

    q.enqueue(["/lib/dead.wav"])
    assert q.claim("died", 0.01).path == "/lib/dead.wav"
    time.sleep(0.05)                                        # its lease ran out
    assert q.holder("/lib/dead.wav") == ""
    assert q.claim_path("/lib/dead.wav", "edit:4", 600)
    assert q.claim_path("/lib/dead.wav", "edit:4", 600)     # the same claimer again: nothing more waits
    q.finish("/lib/dead.wav", True)
    job = q.claim("daemon", 60)
    assert job is not None and job.path == "/lib/dead.wav"
