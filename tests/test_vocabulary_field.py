"""Vocabulary faults a field test found: genre synonyms on everyday words, silent typos in the
user's file, `~` in its path, the configured file, UCS synonyms in `sidecar vocab`, CatID
suffixes, banned terms in search expansion and the exit status of a bad user file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sidecar.cli.vocab import vocab
from sidecar.errors import ConfigError
from sidecar.metadata.record import Label
from sidecar.vocabulary import Vocabulary, VocabularyError, default_vocabulary, tables


def lab(name: str, p: float, mid: str = "") -> Label:
    return Label(label=name, probability=p, mid=mid, source="max")


# -- 1. materials and everyday words are not music genres or instruments --------

EVERYDAY = ["rock", "metal", "house", "soul", "country", "pop", "drum", "drums", "horn", "horns", "bell",
            "string", "strings", "wood", "brass", "steel", "glass", "stone", "swing", "jungle", "dub",
            "track", "score", "theme", "dance", "ambient", "electronic", "kick", "slide", "kit", "bone",
            "pipes", "recorder", "sample", "hats", "mallets", "winds", "voices", "vocal", "traditional",
            "alternative", "spiritual", "bass", "tune", "percussive", "beats", "pluck", "keyboards", "shaker",
            "instrument", "tom", "toll", "sting"]


def _music_words(synonyms_only: bool = False) -> set[str]:
    """Every word of a label filed under music (a genre, an instrument, a technique)."""
    out: set[str] = set()
    for e in tables.label_entries():
        if e.catid.startswith("MUSC") or "Music" in e.broader or e.label == "Music":
            out |= {w.lower() for w in (() if synonyms_only else e.terms) + e.synonyms}
    return out


@pytest.mark.parametrize("word", EVERYDAY)
def test_everyday_words_do_not_expand_into_music(word):
    assert word not in _music_words(synonyms_only=True), f"{word!r} is a synonym of a music label"
    assert not {w.lower() for w in default_vocabulary().expand_term(word)} & _music_words()


def test_metal_door_gets_no_genre_keywords():
    v = default_vocabulary()
    assert v.lookup("metal")["synonyms"] == []
    d = v.describe([lab("Slam", 0.8)], existing_keywords=["metal", "door", "rock"])
    assert not {"heavy metal", "hard rock", "thrash", "headbanging", "rock music", "rock song"} & {
        k.lower() for k in d.keywords}


def test_genres_keep_their_synonyms():
    v = default_vocabulary()
    assert "heavy metal" in v.expand_term("hard rock")
    assert "rock music" in v.expand_term("rock band")
    assert "soul music" in v.expand_term("motown")
    assert "country music" in v.expand_term("honky tonk")


# -- 2. typos in the user's file are errors ---------------------------------------

@pytest.mark.parametrize("text, words", [
    ('[ban]\nterm = ["chicken"]\n', ["ban.term", "unknown key", "terms"]),
    ('[synonym]\napplause = ["ovation"]\n', ["synonym", "unknown table", "[synonyms]"]),
    ('[catid]\n"Dgo" = "ANMLDog"\n', ["catid.Dgo", "no such label"]),
    ('[catid]\n"/m/nothing" = "ANMLDog"\n', ["catid./m/nothing", "no such label"]),
    ('ban = ["chicken"]\n', ["ban", "must be a table"]),
])
def test_typos_in_the_user_file_are_errors(tmp_path, text, words):
    path = tmp_path / "typo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VocabularyError) as info:
        Vocabulary.load(str(path))
    message = str(info.value)
    assert message.startswith(str(path) + ":")
    for word in words:
        assert word in message


def test_catid_keys_by_label_case_insensitively_and_by_mid(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text('[catid]\n"dog" = "ANMLWdog"\n"/m/07r4wb8" = ""\n', encoding="utf-8")
    v = Vocabulary.load(str(path))
    assert v.describe([lab("Dog", 0.9)]).CatID == "ANMLWdog"


# -- 3. ~ in the file's path -------------------------------------------------------

def test_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "sfx-vocab.toml").write_text('[synonyms]\napplause = ["bravo"]\n', encoding="utf-8")
    assert "bravo" in Vocabulary.load("~/sfx-vocab.toml").expand_term("applause")
    from sidecar.vocabulary import load_user_vocabulary
    assert load_user_vocabulary("~/sfx-vocab.toml").synonyms == [["applause", "bravo"]]


# -- 4. `sidecar vocab` reads the configured vocabulary -----------------------------

def test_vocab_command_uses_the_configured_vocabulary(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SIDECAR_VOCAB", raising=False)
    monkeypatch.setenv("SIDECAR_DB", str(tmp_path / "none.db"))
    (tmp_path / "sfx-vocab.toml").write_text('[catid]\n"Dog" = "ANMLWdog"\n', encoding="utf-8")
    config = tmp_path / "sidecar.toml"
    config.write_text('[scan]\nvocabulary = "~/sfx-vocab.toml"\n', encoding="utf-8")
    monkeypatch.setenv("SIDECAR_CONFIG", str(config))
    result = CliRunner().invoke(vocab, ["Dog", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["CatID"] == "ANMLWdog"
    # --vocab still wins
    other = tmp_path / "other.toml"
    other.write_text('[catid]\n"Dog" = "ANMLMisc"\n', encoding="utf-8")
    result = CliRunner().invoke(vocab, ["Dog", "--json", "--vocab", str(other)])
    assert json.loads(result.output)["CatID"] == "ANMLMisc"


def test_vocab_command_bad_configuration_is_exit_2(tmp_path, monkeypatch):
    monkeypatch.delenv("SIDECAR_VOCAB", raising=False)
    monkeypatch.setenv("SIDECAR_DB", str(tmp_path / "none.db"))
    config = tmp_path / "sidecar.toml"
    config.write_text("[scan\n", encoding="utf-8")
    monkeypatch.setenv("SIDECAR_CONFIG", str(config))
    result = CliRunner().invoke(vocab, ["Dog"])
    assert result.exit_code == 2 and "sidecar.toml" in result.output


# -- 5. the official list's synonyms in the text output ----------------------------

def test_vocab_text_shows_ucs_synonyms(tmp_path, monkeypatch):
    from sidecar.vocabulary import UcsEntry, UcsList
    db = tmp_path / "index.db"
    from sidecar.index.store import open_store
    UcsList({"ANMLDog": UcsEntry("ANMLDog", "ANIMALS", "DOG", Synonyms=["doggo", "mutt"])}).save_to(open_store(db).ucs)
    monkeypatch.delenv("SIDECAR_VOCAB", raising=False)
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    result = CliRunner().invoke(vocab, ["ANMLDog", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "doggo, mutt" in result.output


# -- 6. a -UserCategory suffix in a [catid] override --------------------------------

def test_catid_override_with_user_category(tmp_path):
    path = tmp_path / "v.toml"
    path.write_text('[catid]\n"Beep, bleep" = "UIBeep-Kitchen"\n', encoding="utf-8")
    v = Vocabulary.load(str(path))
    d = v.describe([lab("Beep, bleep", 0.9)])
    assert d.CatID == "UIBeep" and d.Category and d.SubCategory
    assert d.UserCategory == "Kitchen"
    assert "Beep, bleep" in v.lookup("UIBeep")["labels"]
    assert v.lookup("Beep, bleep")["CatID"] == "UIBeep"
    assert v.lookup("Beep, bleep")["UserCategory"] == "Kitchen"


def test_catid_override_with_unknown_catid_and_suffix_is_an_error(tmp_path):
    path = tmp_path / "v.toml"
    path.write_text('[catid]\n"Dog" = "NOPEcat-Kitchen"\n', encoding="utf-8")
    with pytest.raises(VocabularyError, match="not a UCS CatID"):
        Vocabulary.load(str(path))


# -- 7. banned terms never expand ---------------------------------------------------

def test_banned_terms_never_in_expansion(tmp_path):
    path = tmp_path / "v.toml"
    path.write_text('[synonyms]\nhen = ["chicken", "biddy"]\n[ban]\nterms = ["Chicken", "clapping"]\n',
                    encoding="utf-8")
    v = Vocabulary.load(str(path))
    assert "chicken" not in [w.lower() for w in v.expand_term("hen")]
    assert "biddy" in v.expand_term("hen")
    assert v.expand_term("chicken") == []          # a banned word is no source of expansion
    assert v.expand_term("  CHICKEN ") == []
    assert v.expand_term("clapping") == []
    assert "clapping" not in v.expand_term("applause")
    # nor when describing: the banned label term's synonyms are not added
    d = v.describe([lab("Clapping", 0.9)])
    assert "clapping" not in [k.lower() for k in d.keywords]


def test_banned_existing_keyword_stays_but_does_not_expand(tmp_path):
    path = tmp_path / "v.toml"
    path.write_text('[ban]\nterms = ["pooch"]\n', encoding="utf-8")
    d = Vocabulary.load(str(path)).describe([], existing_keywords=["Pooch"])
    assert d.keywords == ["Pooch"]


# -- 8. a bad user file is a configuration error -----------------------------------

def test_user_file_errors_are_configuration_errors(tmp_path):
    from sidecar.vocabulary import UserVocabularyError
    path = tmp_path / "bad.toml"
    for text in ("[synonyms\n", '[ban]\nterm = ["x"]\n', '[catid]\nDog = "NOPEcat"\n'):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            Vocabulary.load(str(path))
        assert isinstance(info.value, UserVocabularyError) and isinstance(info.value, VocabularyError)
    with pytest.raises(ConfigError):
        Vocabulary.load(str(tmp_path / "missing.toml"))


def test_main_reports_a_bad_user_file_with_exit_2(tmp_path, monkeypatch, capsys):
    import sys

    from sidecar.cli import main
    bad = tmp_path / "bad.toml"
    bad.write_text('[ban]\nterm = ["x"]\n', encoding="utf-8")
    from sidecar.index.store import open_store
    db = str(tmp_path / "index.db")
    open_store(db).close()
    monkeypatch.delenv("SIDECAR_CONFIG", raising=False)
    monkeypatch.setattr(sys, "argv", ["sidecar", "search", "dog", "--db", db])
    monkeypatch.setenv("SIDECAR_VOCAB", str(bad))
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "bad.toml" in err and "ban.term" in err


def test_malformed_ucs_spreadsheet_stays_exit_1(tmp_path):
    from sidecar.cli.ucs import ucs
    bad = tmp_path / "list.csv"
    bad.write_text("nothing,useful\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(ucs, ["import", str(bad), "--db", str(tmp_path / "i.db")])
    assert result.exit_code == 1 and "list.csv" in result.output
