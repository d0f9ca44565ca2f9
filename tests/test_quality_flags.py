"""Quality flags are measurements, kept apart from the labels: labels hold only what the
classifier heard; the flags have their own field in the record, the sidecar and the JSON,
and still become keywords. An index written when the flags sat among the labels is moved
over on the next scan without hearing the files again."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from mutagen.flac import FLAC

import audiogen
from conftest import run_sidecar

FLAGS = {"Clipping", "DC offset", "Dual mono"}
FLAG_WORDS = {"clipping", "dc offset", "dual mono"}
NS = {"sc": "urn:sfx-sidecar:sidecar:1"}
XSD = Path(__file__).resolve().parents[1] / "schemas" / "sidecar-1.0.xsd"


def flagged(path: Path, seconds: float = 12.0) -> str:
    """Two identical channels (dual mono) of a sine driven past full scale (clipping, runs of
    hundreds of samples) around a DC offset of 0.1 (ten times the flag's threshold)."""
    t = np.arange(int(seconds * audiogen.RATE)) / audiogen.RATE
    x = np.clip(1.4 * np.sin(2 * np.pi * 220 * t) + 0.1, -1.0, 1.0).astype(np.float32)
    return audiogen.write(str(path), "flac", np.stack([x, x], axis=1))


def scan(lib, db, *extra, env=None) -> dict:
    out = run_sidecar("scan", str(lib), "--json", "--db", db, *extra, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def show(path, db) -> dict:
    out = run_sidecar("show", path, "--json", "--db", db)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["index"]


def names(labels) -> set[str]:
    return {lb["label"] for lb in labels}


def sidecar_labels(path: str) -> tuple[set[str], set[str], set[str]]:
    """(file labels, window labels, quality flags) of a sidecar, read with lxml and checked
    against the published schema."""
    doc = etree.parse(path + ".xml")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(doc), schema.error_log
    prov = doc.find("sc:Provenance", NS)
    return ({e.text for e in prov.findall("sc:Labels/sc:Label", NS)},
            {e.text for e in prov.findall("sc:Windows/sc:Window/sc:Label", NS)},
            {e.text for e in prov.findall("sc:QualityFlags/sc:Label", NS)})


def indexed_label_rows(db: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT label FROM labels")}


def index_in_old_layout(db: str, path: str, labels: list[dict], time: str | None = None) -> None:
    """The index row as it was written when the flags sat among the labels: no quality field,
    the flags in the record's labels and in the label rows."""
    with sqlite3.connect(db) as conn:
        file_id, record_json = conn.execute("SELECT id, record FROM files WHERE path = ?", (path,)).fetchone()
        record = json.loads(record_json)
        record["provenance"].pop("quality")
        record["provenance"]["labels"] = labels
        if time:
            record["provenance"]["time"] = time
        conn.execute("UPDATE files SET record = ? WHERE id = ?", (json.dumps(record), file_id))
        conn.execute("DELETE FROM labels WHERE file_id = ?", (file_id,))
        conn.executemany("INSERT INTO labels(file_id, label, mid, probability, source) VALUES (?, ?, ?, ?, ?)",
                         [(file_id, lb["label"], lb["mid"], lb["probability"], lb["source"]) for lb in labels])


def unlike_the_engine(prov: dict) -> list[dict]:
    """Its labels with probabilities the engine would not give (a file heard again would show
    it), a flag first among them as was reported."""
    labels = [dict(lb, probability=round(lb["probability"] / 3, 4)) for lb in prov["labels"]]
    return prov["quality"][:1] + labels + prov["quality"][1:]


@pytest.mark.parametrize("classifier", ["embedded", "descriptors", "max"])
def test_labels_never_hold_a_quality_flag_and_the_flags_reach_keywords_and_record(tmp_path, classifier, request):
    lib = tmp_path / "lib"
    path = flagged(lib / "clipped hum")
    db = str(tmp_path / "i.db")
    extra = ["--classifier", classifier]
    if classifier == "max":
        extra += ["--max-url", request.getfixturevalue("serve_max").url]
    assert scan(lib, db, *extra)["classified"] == 1

    row = show(path, db)
    prov = row["provenance"]
    assert prov["labels"] and not names(prov["labels"]) & FLAGS
    assert not {lb["label"] for w in prov["windows"] for lb in w["labels"]} & FLAGS
    assert names(prov["quality"]) == FLAGS                          # the record's own field
    assert all(f["mid"].startswith("/x/sidecar/") for f in prov["quality"])
    assert FLAG_WORDS <= {w.lower() for w in row["Keywords"]}       # still keywords
    assert not indexed_label_rows(db) & FLAGS

    # the file itself, as mutagen reads it: keywords and the provenance JSON
    tags = FLAC(path)
    assert FLAG_WORDS <= set(tags["KEYWORDS"][0].split(", "))
    embedded = json.loads(tags["SFX_SIDECAR"][0])
    assert not names(embedded["labels"]) & FLAGS and names(embedded["quality"]) == FLAGS

    labels, window_labels, quality = sidecar_labels(path)
    assert labels and not (labels | window_labels) & FLAGS and quality == FLAGS

    hits = json.loads(run_sidecar("search", "dual mono", "--json", "--db", db).stdout)
    assert [h["path"] for h in hits] == [path] and names(hits[0]["provenance"]["quality"]) == FLAGS


def test_an_index_written_with_flags_among_labels_is_cleaned_on_the_next_scan_without_listening(tmp_path):
    lib = tmp_path / "lib"
    path = flagged(lib / "clipped hum")
    db = str(tmp_path / "i.db")
    scan(lib, db)
    heard = show(path, db)["provenance"]

    # the layout before, in the index, the sidecar and the file's own provenance; the labels'
    # probabilities and the time made unlike anything the engine would say now
    old_labels = unlike_the_engine(heard)
    old_time = "2020-01-02T03:04:05Z"
    index_in_old_layout(db, path, old_labels, old_time)
    doc = etree.parse(path + ".xml")
    prov_el = doc.find("sc:Provenance", NS)
    flags_el = prov_el.find("sc:QualityFlags", NS)
    for flag in list(flags_el):
        prov_el.find("sc:Labels", NS).append(flag)
    prov_el.remove(flags_el)
    doc.write(path + ".xml", xml_declaration=True, encoding="UTF-8")
    tags = FLAC(path)
    embedded = json.loads(tags["SFX_SIDECAR"][0])
    embedded.pop("quality")
    embedded.update(labels=old_labels, time=old_time)
    tags["SFX_SIDECAR"] = [json.dumps(embedded)]
    tags.save()
    assert FLAGS <= sidecar_labels(path)[0] and FLAGS <= indexed_label_rows(db)   # the old layout, as built

    summary = scan(lib, db)          # the file changed (its tags): its audio did not
    assert summary["failed"] == 0
    row = show(path, db)
    prov = row["provenance"]
    assert prov["labels"] == [lb for lb in old_labels if lb["label"] not in FLAGS]   # never heard again
    assert prov["time"] == old_time and prov["engine"] == heard["engine"] and prov["model"] == heard["model"]
    assert names(prov["quality"]) == FLAGS
    assert FLAG_WORDS <= {w.lower() for w in row["Keywords"]}
    assert not indexed_label_rows(db) & FLAGS
    labels, _, quality = sidecar_labels(path)
    assert labels and not labels & FLAGS and quality == FLAGS
    embedded = json.loads(FLAC(path)["SFX_SIDECAR"][0])
    assert not names(embedded["labels"]) & FLAGS and names(embedded["quality"]) == FLAGS

    again = scan(lib, db)
    assert again["unchanged"] == 1 and again["classified"] == 0 and again["reindexed"] == 0


def test_an_index_whose_files_did_not_change_is_cleaned_too(tmp_path):
    """Only the index holds the old layout and the file is as it was indexed (the rescan's fast
    path would skip it): it is described again from the index's labels, not heard."""
    lib = tmp_path / "lib"
    path = flagged(lib / "clipped hum", seconds=2.0)
    db = str(tmp_path / "i.db")
    scan(lib, db, "--no-sidecar")
    heard = show(path, db)["provenance"]
    old_labels = unlike_the_engine(heard)
    index_in_old_layout(db, path, old_labels)

    summary = scan(lib, db, "--no-sidecar")
    assert summary["failed"] == 0 and summary["unchanged"] == 0
    prov = show(path, db)["provenance"]
    assert prov["labels"] == [lb for lb in old_labels if lb["label"] not in FLAGS]
    assert prov["time"] == heard["time"] and names(prov["quality"]) == FLAGS
    assert not indexed_label_rows(db) & FLAGS
    assert scan(lib, db, "--no-sidecar")["unchanged"] == 1


def test_the_daemon_moves_an_old_index_over_without_listening(tmp_path):
    from daemon_support import Daemon, write_config

    lib = tmp_path / "lib"
    path = flagged(lib / "clipped hum", seconds=2.0)
    db = str(tmp_path / "i.db")
    scan(lib, db)
    heard = show(path, db)["provenance"]
    old_labels = unlike_the_engine(heard)
    index_in_old_layout(db, path, old_labels, "2020-01-02T03:04:05Z")
    daemon = Daemon(tmp_path, write_config(tmp_path / "sidecar.toml", [{"path": str(lib)}]), db).start()
    try:
        daemon.wait_for(lambda: not indexed_label_rows(db) & FLAGS, what="the labels cleaned")
        daemon.wait_idle()
    finally:
        daemon.stop()
    prov = show(path, db)["provenance"]
    assert prov["labels"] == [lb for lb in old_labels if lb["label"] not in FLAGS]   # never heard again
    assert prov["time"] == "2020-01-02T03:04:05Z" and names(prov["quality"]) == FLAGS
    labels, _, quality = sidecar_labels(path)
    assert labels and not labels & FLAGS and quality == FLAGS


def test_a_dry_run_plans_the_flags_apart_from_the_labels(tmp_path):
    lib = tmp_path / "lib"
    flagged(lib / "clipped hum", seconds=2.0)
    plan = scan(lib, str(tmp_path / "i.db"), "--dry-run", "--classifier", "descriptors")["plan"]
    assert len(plan) == 1 and plan[0]["labels"]
    assert not names(plan[0]["labels"]) & FLAGS and set(plan[0]["quality"]) == FLAGS
    assert FLAG_WORDS <= set(plan[0]["Keywords"])
