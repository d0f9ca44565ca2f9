"""UCS file names, with the project's CatID table and with an official list loaded."""

from __future__ import annotations

import pytest

from sidecar.vocabulary import UcsEntry, UcsList, UcsName, Vocabulary, default_vocabulary


@pytest.mark.parametrize("name, expected", [
    ("DOORWood_Creaky Front Door Open_JD_MyLibrary.wav",
     UcsName("DOORWood", "Creaky Front Door Open", "JD", "MyLibrary")),
    ("GUNAuto_AK47 Burst Close_BOOM_Weapons Vol2_take 3_mic A.wav",
     UcsName("GUNAuto", "AK47 Burst Close", "BOOM", "Weapons Vol2", "take 3_mic A")),
    ("/lib/sub dir/THUN_Distant Roll_AB_Storms.flac", UcsName("THUN", "Distant Roll", "AB", "Storms")),
    ("C:\\SFX\\ANMLDog_Bark Small_XY_Pets.aif", UcsName("ANMLDog", "Bark Small", "XY", "Pets")),
    ("DOORWood-Kitchen_Cupboard Slam_JD_Home.wav",
     UcsName("DOORWood", "Cupboard Slam", "JD", "Home", UserCategory="Kitchen")),
    ("anmldog_Bark_XY_Pets.wav", UcsName("ANMLDog", "Bark", "XY", "Pets")),   # capitals restored
    ("HMNSnor_Snore Loop_ZZ_Sleep", UcsName("HMNSnor", "Snore Loop", "ZZ", "Sleep")),  # no extension
])
def test_valid_names(name, expected):
    assert default_vocabulary().parse_ucs_filename(name) == expected


@pytest.mark.parametrize("name", [
    "dog bark.wav",                          # no fields
    "ANMLDog_Bark_XY.wav",                   # three fields
    "ANMLDog__XY_Pets.wav",                  # empty FXName
    "ANMLDog_Bark__Pets.wav",                # empty CreatorID
    "ANMLDog-_Bark_XY_Pets.wav",             # dash without a user category
    "README_First_Thing_Here.wav",           # look-alike: unknown CatID
    "DOGS_Bark_XY_Pets.wav",                 # look-alike
    "Take_01_Scene_4.wav",                   # look-alike
    "",
])
def test_invalid_and_look_alike_names(name):
    assert default_vocabulary().parse_ucs_filename(name) is None


def _official(*catids: str) -> UcsList:
    return UcsList({c: UcsEntry(c, "CAT", "SUB") for c in catids}, version="test")


def test_official_list_decides_what_is_known():
    v = Vocabulary.load(ucs_list=_official("ANMLDog", "NEWCatX"))
    assert v.parse_ucs_filename("ANMLDog_Bark_XY_Pets.wav").CatID == "ANMLDog"
    # a CatID the loaded list does not have is a look-alike, even if UCS 8.2.1 had it
    assert v.parse_ucs_filename("DOORWood_Door_JD_Lib.wav") is None
    # and one only the loaded list has (a newer UCS) is accepted
    assert v.parse_ucs_filename("NEWCatX_Thing_JD_Lib.wav").CatID == "NEWCatX"
    assert default_vocabulary().parse_ucs_filename("NEWCatX_Thing_JD_Lib.wav") is None


def test_empty_official_list_counts_as_not_loaded():
    v = Vocabulary.load(ucs_list=UcsList())
    assert v.parse_ucs_filename("DOORWood_Door_JD_Lib.wav").CatID == "DOORWood"
