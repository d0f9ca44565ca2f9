"""Labels to a description: CatID, keywords, synonyms, user vocabulary, `sidecar vocab`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sidecar.cli.vocab import vocab
from sidecar.metadata.record import Label
from sidecar.vocabulary import Vocabulary, VocabularyError, default_vocabulary, limit_keywords


def lab(name: str, p: float, mid: str = "") -> Label:
    return Label(label=name, probability=p, mid=mid, source="max")


def test_clapping_gives_applause_and_expansion_off_does_not():
    v = default_vocabulary()
    on = v.describe([lab("Clapping", 0.8)])
    assert on.CatID == "CRWDApls" and on.Category == "CROWDS" and on.SubCategory == "APPLAUSE"
    assert "applause" in on.keywords and "applause" in on.synonyms_added
    off = v.describe([lab("Clapping", 0.8)], expand=False)
    assert "applause" not in off.keywords
    assert off.synonyms_added == []
    assert off.keywords[0] == "clapping"


def test_search_expansion_is_symmetric():
    v = default_vocabulary()
    assert "clapping" in v.expand_term("applause")
    assert "applause" in v.expand_term("Clapping")
    assert "applause" not in v.expand_term("applause")
    assert v.expand_term("xyzzy") == []


def test_catid_from_best_confident_label_that_has_one():
    v = default_vocabulary()
    # Crack has no CatID of its own; it describes the thunder it is heard with
    d = v.describe([lab("Silence", 0.9), lab("Crack", 0.5), lab("Thunder", 0.4), lab("Dog", 0.05)])
    assert d.CatID == "THUN" and d.description == "Thunder cracking"
    assert "dog" not in d.keywords   # a guess adds nothing when surer labels exist


def test_labels_under_the_threshold_are_not_written():
    d = default_vocabulary().describe([lab("Dog", 0.05), lab("Bark", 0.04)])
    assert d.CatID == "" and d.keywords == [] and d.description == ""


def test_the_most_specific_confident_label_gives_the_catid():
    v = default_vocabulary()
    d = v.describe([lab("Animal", 0.29, "/m/0jbk"), lab("Domestic animals, pets", 0.25, "/m/068hy"),
                    lab("Dog", 0.22, "/m/0bt9lr")])
    assert d.CatID == "ANMLDog" and d.description == "Dog"
    # a much weaker narrower label does not: the pets' own category
    d = v.describe([lab("Animal", 0.29, "/m/0jbk"), lab("Domestic animals, pets", 0.25, "/m/068hy"),
                    lab("Dog", 0.10, "/m/0bt9lr")])
    assert d.CatID == "ANMLMisc"
    # a weak child does not displace a sure parent that is not a top class
    d = v.describe([lab("Speech", 0.99, "/m/09x0r"), lab("Speech synthesizer", 0.14, "/m/0brhx")])
    assert d.CatID.startswith("VOX") and d.description == "Speech"
    # a room's acoustics never file a sound
    d = v.describe([lab("Inside, small room", 0.8, "/t/dd00125"), lab("Chicken, rooster", 0.6, "/m/09b5t")])
    assert d.CatID == "BIRDFowl"


def test_description_is_a_short_phrase():
    v = default_vocabulary()
    d = v.describe([lab("Dog", 0.6, "/m/0bt9lr"), lab("Bark", 0.5, "/m/05tny_"),
                    lab("Growling", 0.3, "/m/0ghcn6")])
    assert d.description == "Dog barking and growling" and d.fxname == "Dog Bark"
    d = v.describe([lab("Door", 0.5, "/m/02dgv"), lab("Slam", 0.45, "/m/07rjzl8"), lab("Music", 0.1, "/m/04rlf")])
    assert d.description == "Door slam"


def test_keywords_order_dedup_and_existing_first():
    v = default_vocabulary()
    d = v.describe([lab("Bark", 0.8, "/m/05tny_"), lab("Dog", 0.85)], existing_keywords=["Woof", "Kennel"])
    assert d.keywords[:2] == ["Woof", "Kennel"]
    lowered = [k.lower() for k in d.keywords]
    assert len(lowered) == len(set(lowered))
    assert lowered.index("bark") < lowered.index("barking") < lowered.index("animal")
    assert set(d.synonyms_added) <= set(d.keywords)
    assert d.description == "Dog barking"


def test_broader_terms_and_cap():
    v = default_vocabulary()
    d = v.describe([lab("Snare drum", 0.9)], expand=False)
    assert d.keywords == ["snare drum", "drum", "percussion", "musical instrument", "music"]
    assert len(v.describe([lab("Dog", 0.9), lab("Music", 0.8), lab("Rain", 0.7)], max_keywords=5).keywords) == 5


def test_synonyms_of_existing_keywords_are_added():
    d = default_vocabulary().describe([], existing_keywords=["pooch"])
    assert d.keywords[0] == "pooch" and "dog" in d.keywords and "dog" in d.synonyms_added


def test_descriptor_adjectives_give_way_to_sound_labels_but_quality_flags_stay():
    v = default_vocabulary()
    d = v.describe([lab("Impulsive", 0.9, "/x/sidecar/impulsive"), lab("DC offset", 0.8, "/x/sidecar/dc"),
                    lab("Sine wave", 0.85, "/m/01v_m0")])
    assert d.keywords[0] == "sine wave" and "dc offset" in d.keywords and "impulsive" not in d.keywords
    assert d.CatID == "TEST"
    assert d.description == "Sine tone"
    # measures alone (the descriptor engine) still say what was measured
    d = v.describe([lab("Sustained", 0.9, "/x/sidecar/sustained"), lab("Noisy", 0.8, "/x/sidecar/noisy")])
    assert d.keywords[:2] == ["sustained", "noisy"] and d.description == "Sustained, noisy"
    assert v.describe([]).keywords == [] and v.describe([]).description == ""


def test_limit_keywords_counts_utf8_bytes():
    words = ["dog", "bark", "chien aboie", "é" * 10, "x"]
    assert limit_keywords(words, 9) == ["dog", "bark"]
    assert limit_keywords(words, 12) == ["dog", "bark", "x"]   # the long words are skipped
    assert limit_keywords(words, 0) == []
    assert len(", ".join(limit_keywords(words, 40)).encode("utf-8")) <= 40


USER_TOML = """
[synonyms]
applause = ["ovation", "bravo"]
[catid]
"Dog" = "ANMLWdog"
"/m/07r4wb8" = ""
[ban]
terms = ["chicken", "Pooch"]
"""


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "vocab.toml"
    path.write_text(USER_TOML, encoding="utf-8")
    return str(path)


def test_user_vocabulary(user_file):
    v = Vocabulary.load(user_file)
    assert "bravo" in v.expand_term("applause") and "applause" in v.expand_term("bravo")
    assert v.describe([lab("Dog", 0.9)]).CatID == "ANMLWdog"
    assert v.lookup("Dog")["note"].startswith("CatID set by")
    assert v.describe([lab("Knock", 0.9, "/m/07r4wb8")]).CatID == ""
    chicken = v.describe([lab("Chicken, rooster", 0.9)], existing_keywords=["Chicken"])
    assert chicken.keywords[0] == "Chicken"   # what a person wrote stays
    assert "pooch" not in v.describe([lab("Dog", 0.9)]).keywords
    assert "pooch" not in v.expand_term("dog")
    assert v.lookup("pooch")["banned"] is True


@pytest.mark.parametrize("text, message", [
    ("[synonyms\n", "not valid TOML"),
    ("[colours]\nred = 1\n", "unknown table"),
    ("[synonyms]\napplause = 3\n", "list of strings"),
    ("[catid]\nDog = \"NOPEcat\"\n", "not a UCS CatID"),
])
def test_bad_user_vocabulary(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VocabularyError, match=message) as info:
        Vocabulary.load(str(path))
    assert str(path) in str(info.value)


def test_lookup_kinds():
    v = default_vocabulary()
    label = v.lookup("Thunder")
    assert label["kind"] == "label" and label["CatID"] == "THUN" and label["broader"] == ["Thunderstorm"]
    assert [a["CatID"] for a in label["alternatives"]] == ["STORM"]
    catid = v.lookup("hmnsnor")
    assert catid["kind"] == "catid" and catid["CatID"] == "HMNSnor" and "Snoring" in catid["labels"]
    word = v.lookup("woof")
    assert word["kind"] == "word" and "Bark" in word["labels"] and "ANMLDog" in word["CatIDs"]


def test_vocab_command_json_and_text(tmp_path, monkeypatch, user_file):
    monkeypatch.setenv("SIDECAR_DB", str(tmp_path / "none.db"))
    runner = CliRunner()
    out = runner.invoke(vocab, ["Applause", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["CatID"] == "CRWDApls" and "clapping" in doc["synonyms"]
    text = runner.invoke(vocab, ["Typing"])
    assert text.exit_code == 0 and "CMPTKey" in text.output
    with_user = runner.invoke(vocab, ["Dog", "--json", "--vocab", user_file])
    assert json.loads(with_user.output)["CatID"] == "ANMLWdog"
    monkeypatch.setenv("SIDECAR_VOCAB", user_file)
    assert json.loads(runner.invoke(vocab, ["Dog", "--json"]).output)["CatID"] == "ANMLWdog"
    assert not (tmp_path / "none.db").exists()   # looking never creates an index


def test_vocab_command_bad_user_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SIDECAR_DB", str(tmp_path / "none.db"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[synonyms\n", encoding="utf-8")
    result = CliRunner().invoke(vocab, ["Dog", "--vocab", str(bad)])
    assert result.exit_code == 2
    assert result.output.count("Error:") == 1 and "bad.toml" in result.output


def _ucs_list():
    from sidecar.vocabulary import UcsEntry, UcsList
    return UcsList({
        "TEST": UcsEntry("TEST", "TEST TONE", "TEST TONE", Synonyms=["pink", "square", "dolby", "calibration"]),
        "ANMLDog": UcsEntry("ANMLDog", "ANIMALS", "DOG", Synonyms=["doggo", "mutt"]),
    })


def test_official_ucs_synonyms_are_not_keywords():
    v = Vocabulary.load(ucs_list=_ucs_list())
    sine = v.describe([lab("Sine wave", 0.9, "/m/01v_m0")])
    assert sine.CatID == "TEST"
    assert not {"pink", "square", "dolby", "calibration"} & {k.lower() for k in sine.keywords}
    assert "sine wave" in sine.keywords
    dog = v.describe([lab("Dog", 0.9)], existing_keywords=["Kennel"])
    assert dog.CatID == "ANMLDog" and "doggo" not in dog.keywords and "doggo" not in dog.synonyms_added
    # they still explain a CatID in `sidecar vocab`
    assert v.lookup("TEST")["ucs_synonyms"] == ["pink", "square", "dolby", "calibration"]


def test_official_ucs_list_adds_no_keywords_to_a_noise_file():
    from pathlib import Path

    from sidecar.vocabulary import UcsList
    reference = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ucs-8.2.1-en.json"
    if not reference.exists():
        pytest.skip(f"{reference} is absent (the official UCS list is not part of the project)")
    official = UcsList.import_file(reference)
    labels = [lab("White noise", 0.9), lab("Pink noise", 0.3), lab("Sine wave", 0.2)]
    with_list = Vocabulary.load(ucs_list=official).describe(labels)
    without = default_vocabulary().describe(labels)
    assert with_list.keywords == without.keywords
    assert with_list.synonyms_added == without.synonyms_added
