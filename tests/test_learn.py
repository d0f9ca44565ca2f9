"""`sidecar learn`: CatIDs learned from UCS-named files predict the untagged ones; a person's CatID
always wins; too little to learn from is refused; show and the sidecar say where a category came from."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from lxml import etree
from mutagen.flac import FLAC

from audiogen import write
from sidecar.index.interfaces import Store
from sidecar.index.store import open_store
from test_similar import FAMILIES, family_sound, run

#: what the engine hears decides these: they also run on the int8 numeric path (make test)
pytestmark = pytest.mark.labels

CATIDS = {"tone": "BEEP", "noise": "ELECBuzz", "clicks": "MECHClik", "sweep": "ALRMSirn"}


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    """Half a labelled set (UCS names) scanned and learned from; the other half scanned after."""
    root = tmp_path_factory.mktemp("learn")
    rng = np.random.default_rng(21)
    env = {**os.environ, "SIDECAR_DB": str(root / "index.db")}
    env.pop("SIDECAR_CONFIG", None)
    for family in FAMILIES:
        for i in range(6):
            write(str(root / "named" / f"{CATIDS[family]}_{family} take {i}_JD_Gen"), "wav16",
                  family_sound(family, rng))
    early = {}
    for family in FAMILIES:
        for i in range(2):
            path = write(str(root / "early" / f"early {family[0]}{i}"), "flac", family_sound(family, rng))
            early[os.path.abspath(path)] = CATIDS[family]
    run("scan", str(root / "named"), str(root / "early"), env=env)
    before = {p: open_store(env["SIDECAR_DB"]).files.get(p).record for p in early}
    report = json.loads(run("learn", "--json", env=env).stdout)
    truth = {}
    for family in FAMILIES:
        for i in range(4):
            path = write(str(root / "untagged" / f"untitled {family[0]}{i}"), "wav16", family_sound(family, rng))
            truth[os.path.abspath(path)] = CATIDS[family]
    person = write(str(root / "untagged" / "tagged by a person"), "flac", family_sound("tone", rng))
    tags = FLAC(person)
    tags["CATID"] = "DOORWood"
    tags.save()
    run("scan", str(root / "untagged"), env=env)
    return {"root": root, "env": env, "report": report, "truth": truth, "person": os.path.abspath(person),
            "early": early, "before": before}


def test_learn_reports_cross_validated_accuracy_and_saves_a_versioned_model(learned):
    r = learned["report"]
    assert r["version"] == 1 and r["embedding_model"] == "aisfx-0.1.2"
    assert r["files"] == 24 and r["categories"] == 4 and r["sources"] == {"ucs_name": 24}
    assert set(r["per_category"]) == set(CATIDS.values())
    assert all(v["files"] == 6 for v in r["per_category"].values())
    assert r["accuracy"] >= 0.8
    again = json.loads(run("learn", "--json", env=learned["env"]).stdout)
    assert again["version"] == 2


def test_status_names_the_learned_model(learned):
    doc = json.loads(run("status", "--json", env=learned["env"]).stdout)
    assert doc["sounds_like"]["vectors"] >= 24
    model = doc["sounds_like"]["learned"]
    assert model["version"] >= 1 and model["files"] == 24 and model["categories"] == 4
    assert model["features"] in ("embeddings", "embeddings+audioset") and model["accuracy"] >= 0.8
    text = run("status", env=learned["env"]).stdout
    assert f"learned CatIDs: model {model['version']} of " in text and "files with a vector" in text


def test_a_scan_after_learning_predicts_the_other_half(learned):
    store = open_store(learned["env"]["SIDECAR_DB"])
    right = 0
    for path, catid in learned["truth"].items():
        rec = store.files.get(path).record
        prov = rec.provenance
        if rec.CatID == catid:
            right += 1
            assert prov.category_source == "learned" and prov.category_confidence >= 0.6
            assert prov.category_model == "learned-1"
        else:
            assert prov.category_source != "learned" or prov.category_confidence >= 0.6
    assert right / len(learned["truth"]) >= 0.75


def test_a_persons_catid_is_never_replaced_by_a_learned_one(learned):
    person = learned["person"]
    rec = open_store(learned["env"]["SIDECAR_DB"]).files.get(person).record
    assert rec.CatID == "DOORWood" and rec.provenance.category_source == "person"
    assert FLAC(person)["CATID"] == ["DOORWood"]


def test_show_and_the_sidecar_say_where_a_category_came_from(learned):
    path, catid = next((p, c) for p, c in learned["truth"].items()
                       if open_store(learned["env"]["SIDECAR_DB"]).files.get(p).record.CatID == c)
    doc = etree.parse(path + ".xml")
    ns = {"sc": doc.getroot().nsmap[None]}
    source = doc.find(".//sc:Provenance/sc:CategorySource", ns)
    assert source.text == "learned" and float(source.get("confidence")) >= 0.6 and source.get("model") == "learned-1"
    shown = json.loads(run("show", path, "--json", env=learned["env"]).stdout)
    assert shown["category"] == {"CatID": catid, "source": "learned",
                                 "confidence": pytest.approx(float(source.get("confidence"))),
                                 "model": "learned-1"}
    text = run("show", learned["person"], env=learned["env"]).stdout
    assert "category: DOORWood from a person" in text
    named = next(p for p in (learned["root"] / "named").iterdir() if p.suffix == ".wav")
    assert "from a UCS file name" in run("show", str(named), env=learned["env"]).stdout


def test_too_little_to_learn_from_is_refused_in_one_line(tmp_path):
    rng = np.random.default_rng(5)
    for i, family in enumerate(FAMILIES[:3]):
        write(str(tmp_path / "lib" / f"{CATIDS[family]}_{family} {i}_JD_Gen"), "wav16", family_sound(family, rng))
    env = {**os.environ, "SIDECAR_DB": str(tmp_path / "index.db")}
    run("scan", str(tmp_path / "lib"), env=env)
    refused = run("learn", "--json", env=env, check=False)
    assert refused.returncode == 2 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1 and "too little to learn from: 0 files" in refused.stderr


def test_files_indexed_before_learning_get_learned_categories_on_the_next_scan(learned):
    """Described again from what the index heard (the same labels), written into the file, and
    a scan after that finds nothing left to do."""
    env, early = learned["env"], learned["early"]
    summary = json.loads(run("scan", str(learned["root"] / "early"), "--json", env=env).stdout)
    store = open_store(env["SIDECAR_DB"])
    right = 0
    for path, catid in early.items():
        rec = store.files.get(path).record
        assert rec.provenance.labels == learned["before"][path].provenance.labels     # not heard again
        if rec.provenance.category_source == "learned":
            assert rec.provenance.category_model.startswith("learned-") and rec.provenance.category_confidence >= 0.6
            assert FLAC(path)["CATID"] == [rec.CatID]           # written into the file, as mutagen reads it
            right += rec.CatID == catid
    assert summary["classified"] >= right >= 0.75 * len(early)
    again = json.loads(run("scan", str(learned["root"] / "early"), "--json", env=env).stdout)
    assert again["unchanged"] == len(early) and again["classified"] == 0


def test_the_audioset_scores_join_the_vectors_only_where_they_help(tmp_path):
    """Vectors that say nothing of the category and AudioSet labels that do: the scores are
    chosen by cross-validation, saved with the model, and a prediction uses them. Where the
    vectors say it all, the model keeps to the vectors."""
    from sidecar.index.interfaces import IndexedFile, StoredEmbedding
    from sidecar.metadata.record import Label, Provenance, Record
    from sidecar.similarity.categories import CategoryModel, train
    from sidecar.vocabulary import Vocabulary

    rng = np.random.default_rng(3)
    vocab = Vocabulary.load(None)
    heard = {"DOORWood": ("/m/02dgv", "Door"), "RAINConc": ("/m/06mb1", "Rain"), "BELLHand": ("/m/0395lw", "Bell")}
    centres = {c: rng.random(512) for c in heard}

    def library(informative_vectors: bool) -> Store:
        store = open_store(str(tmp_path / f"index-{informative_vectors}.db"))
        for n in range(150):
            catid = list(heard)[n % 3]
            v = centres[catid] + 0.2 * rng.random(512) if informative_vectors else rng.random(512)
            v = (v / np.linalg.norm(v)).astype("<f4")
            mid, name = heard[catid]
            path = f"/lib/{catid}_take {n}_JD_Gen.wav"
            labels = [Label(name, float(rng.uniform(0.5, 0.9)), mid),
                      Label("Noise", float(rng.uniform(0.1, 0.4)), "/m/096m7z")]
            store.files.upsert(IndexedFile(path=path, size=1, mtime_ns=1, fingerprint=f"f{n}", format="wav",
                                     record=Record(provenance=Provenance(engine="embedded", labels=labels))))
            store.vectors.put(path, StoredEmbedding(0, "aisfx-0.1.2", f"f{n}", v.tobytes(), b"", b"", 512))
        return store

    store = library(informative_vectors=False)
    model = train(store, vocab, "aisfx-0.1.2")
    tried = model.report["accuracy_by_features"]
    assert model.report["features"] == "embeddings+audioset" and tried["embeddings"] < 0.7
    assert model.report["accuracy"] == tried["embeddings+audioset"] >= tried["embeddings"] + 0.25
    assert set(model.mids) >= {"/m/02dgv", "/m/06mb1", "/m/0395lw"}
    model.version = store.models.save(model.stored())
    again = CategoryModel.from_stored(store.models.latest())
    assert again.mids == model.mids
    # fresh vectors (saying nothing, as in training) with the label that does
    fresh = [(v / np.linalg.norm(v)).astype(np.float32) for v in rng.random((30, 512))]
    for catid, (mid, name) in heard.items():
        said = [again.predict(v, [Label(name, 0.8, mid)])[0] for v in fresh]
        assert said.count(catid) >= 0.6 * len(fresh), (catid, said)

    plain = train(library(informative_vectors=True), vocab, "aisfx-0.1.2")
    assert plain.report["features"] == "embeddings" and plain.mids == [] and plain.report["accuracy"] >= 0.95


def test_a_model_saved_before_features_existed_still_loads(tmp_path):
    """An index whose category_models table predates the features column gets it at open, and its
    models predict from the vectors alone."""
    import sqlite3
    from sidecar.similarity.categories import CategoryModel
    path = str(tmp_path / "index.db")
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE category_models")
        conn.execute("CREATE TABLE category_models (version INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, "
                     "embedding_model TEXT NOT NULL, classes TEXT NOT NULL, coef BLOB NOT NULL, "
                     "intercept BLOB NOT NULL, report TEXT NOT NULL)")     # as the first version made it
        conn.execute("INSERT INTO category_models(created, embedding_model, classes, coef, intercept, report) "
                     "VALUES ('2026-01-01T00:00:00Z', 'aisfx-0.1.2', '[\"BEEP\", \"RAINConc\"]', ?, ?, '{}')",
                     (np.vstack([np.ones(512), -np.ones(512)]).astype("<f8").tobytes(), np.zeros(2).tobytes()))
    model = CategoryModel.from_stored(open_store(path).models.latest())
    assert model.mids == [] and model.predict(np.ones(512, np.float32) / 512 ** 0.5)[0] == "BEEP"
