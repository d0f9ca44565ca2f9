"""The runner in process: each finished file, sequential and parallel runs alike, the job queue."""

import os

import pytest
import audiogen
from sidecar.classify.audioset import AudiosetEngine
from sidecar.config import Config
from sidecar.index.store import open_store
from sidecar.pipeline import runner
from sidecar.pipeline.stages import Context
from sidecar.pipeline.task import Outcome
from sidecar.vocabulary import default_vocabulary

#: what the engine hears decides these: they also run on the int8 numeric path (make test)
pytestmark = pytest.mark.labels


def _library(root):
    audiogen.write(str(root / "a"), "wav16")
    audiogen.write(str(root / "b"), "flac", audiogen.noise(0.5))
    (root / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    return root


def _run(root, db, jobs):
    ctx = Context(Config(write_sidecar=False), AudiosetEngine(), default_vocabulary())
    return runner.run([str(root)], ctx, open_store(db), jobs=jobs)


def test_each_finished_file_reaches_on_task(tmp_path):
    root = _library(tmp_path / "lib")
    seen = []
    ctx = Context(Config(write_sidecar=False), AudiosetEngine(), default_vocabulary())
    summary = runner.run([str(root)], ctx, open_store(tmp_path / "i.db"), jobs=2, on_task=seen.append)
    outcomes = sorted((os.path.basename(t.path), t.outcome) for t in seen)
    assert outcomes == [("a.wav", Outcome.CLASSIFIED), ("b.flac", Outcome.CLASSIFIED),
                        ("broken.wav", Outcome.FAILED)]
    assert all(t.written for t in seen if t.outcome == Outcome.CLASSIFIED)
    assert next(t for t in seen if t.outcome == Outcome.FAILED).reason
    assert summary.failed == 1


def test_sequential_and_parallel_runs_agree(tmp_path):
    one = _run(_library(tmp_path / "one"), tmp_path / "1.db", jobs=1).to_json()
    two = _run(_library(tmp_path / "two"), tmp_path / "2.db", jobs=2).to_json()
    for key in ("seen", "classified", "failed", "skipped"):
        assert one[key] == two[key]


def test_job_queue_claims_each_job_once(tmp_path):
    store = open_store(tmp_path / "i.db")
    assert store.queue.enqueue(["/lib/a.wav", "/lib/b.wav"]) == 2
    claimed = {store.queue.claim("w1", 300).path, store.queue.claim("w2", 300).path}
    assert claimed == {"/lib/a.wav", "/lib/b.wav"}
    assert store.queue.claim("w3", 300) is None
    store.queue.finish("/lib/a.wav", ok=True)
    store.queue.enqueue(["/lib/a.wav"])                    # done work can be queued again
    assert store.queue.claim("w1", 300).path == "/lib/a.wav"


def test_many_copies_of_one_sound_are_all_indexed_in_parallel(tmp_path):
    # workers look rows up by fingerprint while the consumer writes: they share one connection
    root = tmp_path / "copies"
    first = audiogen.write(str(root / "take 0"), "wav16", audiogen.tone(440, 0.05))
    for i in range(1, 80):
        (root / f"take {i}.wav").write_bytes(open(first, "rb").read())
    summary = _run(root, tmp_path / "i.db", jobs=2).to_json()
    assert summary["failed"] == 0, summary["failures"][:3]
    assert summary["classified"] == 80
