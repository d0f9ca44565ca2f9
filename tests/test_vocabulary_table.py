"""The project's label table: complete, valid against UCS 8.2.1, and right where editors will look."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sidecar.vocabulary import default_vocabulary
from sidecar.vocabulary import tables

REFERENCE = Path(__file__).parents[1].parent / "shared" / "reference"


def _reference(name: str) -> Path:
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared reference data is only on development machines")
    return path


def test_every_max_label_has_an_entry():
    with open(_reference("max-class-labels.csv"), encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    assert len(labels) == 527
    by_mid = {e.mid: e for e in tables.label_entries()}
    for row in labels:
        entry = by_mid.get(row["mid"])
        assert entry is not None, row
        assert entry.label == row["display_name"]


def test_table_has_527_rows_each_with_a_catid_or_a_reason():
    entries = tables.label_entries()
    assert len(entries) == 527
    assert len({e.mid for e in entries}) == 527
    for e in entries:
        assert e.terms, e.label
        assert e.catid or e.note.startswith("none"), e.label
        assert e.catid not in e.alternatives
        for word in e.terms + e.synonyms:
            assert word == word.strip() and "," not in word and ";" not in word, (e.label, word)


def test_every_catid_used_exists_in_ucs_8_2_1():
    with open(_reference("ucs-8.2.1-en.json"), encoding="utf-8") as fh:
        official = {x["CatID"]: (x["Category"], x["SubCategory"]) for x in json.load(fh)}
    used = {c for e in tables.label_entries() for c in (e.catid, *e.alternatives) if c}
    assert used - set(official) == set()
    for catid, info in tables.catids().items():   # the project's identifier table agrees too
        assert official[catid] == (info.Category, info.SubCategory)


def test_broader_terms_are_ontology_ancestors():
    with open(_reference("audioset-ontology.json"), encoding="utf-8") as fh:
        ontology = json.load(fh)
    names = {o["name"] for o in ontology}
    for e in tables.label_entries():
        assert set(e.broader) <= names, e.label
        assert e.label not in e.broader


SPOT_CHECK = {
    # animals
    "Dog": "ANMLDog", "Bark": "ANMLDog", "Cat": "ANMLCat", "Meow": "ANMLCat", "Horse": "ANMLHors",
    "Clip-clop": "FEETHors", "Cattle, bovinae": "ANMLFarm", "Chicken, rooster": "BIRDFowl", "Crow": "BIRDCrow",
    "Owl": "BIRDPrey", "Cricket": "ANMLInsc", "Frog": "ANMLAmph", "Snake": "ANMLRept",
    "Whale vocalization": "ANMLAqua", "Roaring cats (lions, tigers)": "ANMLWcat",
    "Bird flight, flapping wings": "WINGBird", "Howl": "ANMLWdog",
    # humans
    "Applause": "CRWDApls", "Clapping": "CRWDApls", "Snoring": "HMNSnor", "Cough": "HMNCough",
    "Sneeze": "HMNSneez", "Laughter": "VOXLaff", "Baby cry, infant cry": "VOXBaby", "Screaming": "VOXScrm",
    "Whispering": "VOXWhsp", "Walk, footsteps": "FEETHmn", "Burping, eructation": "HMNBurp",
    "Heart sounds, heartbeat": "HMNHart", "Male speech, man speaking": "VOXMale", "Cheering": "CRWDCheer",
    "Fart": "FARTReal", "Whistling": "WHSTHmn",
    # vehicles
    "Car": "VEHCar", "Helicopter": "AEROHeli", "Jet engine": "AEROJet", "Motorcycle": "VEHMoto",
    "Subway, metro, underground": "TRNSbwy", "Bus": "VEHBus", "Vehicle horn, car horn, honking": "VEHHorn",
    "Police car (siren)": "VEHSirn", "Tire squeal": "VEHTire", "Sailboat, sailing ship": "BOATSail",
    "Bicycle": "VEHBike", "Skateboard": "SPRTSkate", "Car passing by": "VEHBy", "Train horn": "TRNHorn",
    # weapons
    "Gunshot, gunfire": "GUNMisc", "Machine gun": "GUNAuto", "Artillery fire": "GUNArtl",
    "Explosion": "EXPLReal", "Arrow": "WEAPArro", "Whip": "WEAPWhip", "Fireworks": "FRWKRec",
    # weather and nature
    "Thunder": "THUN", "Thunderstorm": "STORM", "Rain": "RAIN", "Wind": "WIND", "Waves, surf": "WATRWave",
    "Waterfall": "WATRFall", "Stream": "WATRFlow", "Fire": "FIREBurn", "Rustling leaves": "VEGELeaf",
    # music
    "Piano": "MUSCKeyd", "Acoustic guitar": "MUSCPluck", "Violin, fiddle": "MUSCStr", "Trumpet": "MUSCBrass",
    "Flute": "MUSCWind", "Snare drum": "MUSCPerc", "Marimba, xylophone": "MUSCTnprc", "Choir": "MUSCChor",
    "Wind chime": "MUSCChim", "Synthesizer": "MUSCSynth", "Gong": "BELLGong", "Church bell": "BELLLrg",
    "Rock music": "MUSCSong",
    # domestic
    "Typing": "CMPTKey", "Computer keyboard": "CMPTKey", "Typewriter": "COMType", "Doorbell": "BELLDoor",
    "Knock": "DOORKnck", "Sliding door": "DOORSlid", "Drawer open or close": "DRWRMisc",
    "Microwave oven": "MACHAppl", "Vacuum cleaner": "MACHAppl", "Toilet flush": "WATRPlmb",
    "Zipper (clothing)": "OBJZipr", "Keys jangling": "OBJKey", "Coin (dropping)": "OBJCoin",
    "Cutlery, silverware": "FOODTware", "Frying (food)": "FOODCook", "Writing": "OBJWrite",
    "Shatter": "GLASBrk", "Water tap, faucet": "WATRPlmb",
    # mechanical, tools, alarms
    "Clock": "CLOCKMisc", "Tick-tock": "CLOCKTick", "Gears": "MECHGear", "Ratchet, pawl": "MECHRtch",
    "Mechanical fan": "MACHFan", "Air conditioning": "MACHHvac", "Printer": "MACHOffc", "Camera": "COMCam",
    "Chainsaw": "TOOLPowr", "Drill": "TOOLPowr", "Jackhammer": "TOOLPneu", "Hammer": "TOOLHand",
    "Lawn mower": "MACHGrdn", "Telephone bell ringing": "COMTelph", "Siren": "ALRMSirn",
    "Alarm clock": "ALRMClok", "Smoke detector, smoke alarm": "ALRMElec", "Engine starting": "MOTRComb",
    "Whoosh, swoosh, swish": "WHSH", "Static": "COMStatic", "Mains hum": "ELECBuzz",
}


@pytest.mark.parametrize("label, catid", sorted(SPOT_CHECK.items()))
def test_spot_check(label, catid):
    assert default_vocabulary().lookup(label)["CatID"] == catid


@pytest.mark.parametrize("label", ["Silence", "Sound effect", "Echo", "Crack", "Effects unit", "Field recording"])
def test_labels_without_a_home_say_so(label):
    result = default_vocabulary().lookup(label)
    assert result["CatID"] == ""
    assert result["note"].startswith("none")
