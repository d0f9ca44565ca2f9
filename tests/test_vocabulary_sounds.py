"""One sound, the right category, no stray keywords: label sets built to the shapes an engine
gives, each well clear of every threshold (sounds.Rules)."""

from __future__ import annotations

import json
import sqlite3

from lxml import etree
from mutagen.flac import FLAC

import audiogen
from conftest import run_sidecar
from sidecar.index.store import open_store
from sidecar.metadata.record import Label
from sidecar.pipeline.rules_upgrade import RULES_APPLIED_KEY
from sidecar.vocabulary import default_vocabulary
from sidecar.vocabulary.sounds import DEFAULT_RULES, MIN_PROBABILITY, Rules
from sidecar.vocabulary.vocabulary import RULES_VERSION

# MIDs as AudioSet names them (the engine gives both)
MID = {"Animal": "/m/0jbk", "Domestic animals, pets": "/m/068hy", "Dog": "/m/0bt9lr", "Bark": "/m/05tny_",
       "Growling": "/m/0ghcn6", "Squeak": "/m/07q6cd_", "Buzzer": "/m/030rvx", "Alarm clock": "/m/046dlr",
       "Thunderstorm": "/m/0jb2l", "Thunder": "/m/0ngt1", "Rumble": "/m/07phhsh", "Rain": "/m/06mb1",
       "Rain on surface": "/t/dd00038", "Water": "/m/0838f", "Vehicle": "/m/07yv9",
       "Motor vehicle (road)": "/m/012f08", "Car": "/m/0k4j", "Engine": "/m/02mk9", "Idling": "/m/07pb8fc",
       "Snake": "/m/078jl", "Sewing machine": "/m/0llzx", "Crying, sobbing": "/m/0463cq4", "Cat": "/m/01yrx",
       "Music": "/m/04rlf", "Clipping": "/x/sidecar/clipping", "Speech": "/m/09x0r", "Trumpet": "/m/07gql",
       "Coin (dropping)": "/m/0242l", "Typing": "/m/0316dw", "Typewriter": "/m/0c2wf", "Alarm": "/m/07pp_mv",
       "Smoke detector, smoke alarm": "/m/01y3hg", "Beep, bleep": "/m/02fs_r", "Explosion": "/m/014zdl",
       "Burst, pop": "/m/07qsvvw", "Wild animals": "/m/01280g", "Bird": "/m/015p6",
       "Roaring cats (lions, tigers)": "/m/0cdnk", "Livestock, farm animals, working animals": "/m/0ch8v",
       "Fowl": "/m/025rv6n", "Chicken, rooster": "/m/09b5t", "Laughter": "/m/01j3sz", "Snicker": "/m/07s04w4",
       "Guitar": "/m/0342h", "Race car, auto racing": "/m/0ltv", "Thump, thud": "/m/07qnq_y",
       "Fireworks": "/m/0g6b5", "Brass instrument": "/m/01kcd", "Percussion": "/m/0l14md", "Musical instrument": "/m/04szw", "Drum": "/m/026t6"}


def labels(*pairs: tuple[str, float]) -> list[Label]:
    return [Label(name, p, MID[name], "embedded") for name, p in pairs]


def words(d) -> set[str]:
    return {k.lower() for k in d.keywords}


def test_the_thresholds_leave_room_for_the_shapes_below():
    """Every shape's labels sit at least 0.05 away from each threshold they are tested against."""
    r = DEFAULT_RULES
    assert MIN_PROBABILITY <= 0.1 and 0.55 <= r.keyword_floor <= 0.7
    assert r.second_floor <= 0.7 and r.second_ratio <= 0.8 and r.refine_ratio <= 0.82
    assert 0.4 <= r.agreement <= 0.8 and 0.55 <= r.path_keyword_floor <= 0.65
    assert 0.5 <= r.cross_ratio <= 0.75 and 0.4 <= r.bed_ratio <= 0.6


def test_a_generic_class_on_top_with_a_specific_descendant():
    v = default_vocabulary()
    d = v.describe(labels(("Animal", 0.9), ("Domestic animals, pets", 0.85), ("Dog", 0.8), ("Bark", 0.78),
                          ("Growling", 0.75), ("Music", 0.12)))
    main = d.sounds.main
    assert [lb.label for lb in main.path][-1] == "Bark" and main.top == "animal"
    assert d.sounds.second is None                               # Music 0.12 is no second sound
    assert d.CatID == "ANMLDog" and d.Category == "ANIMALS"
    assert d.description == "Dog barking and growling" and d.fxname == "Dog Bark"
    assert {"dog", "bark", "barking", "growling", "animal"} <= words(d)
    assert "music" not in words(d)


def test_a_generic_class_on_top_whose_confident_descendants_give_no_catid():
    """The shape of a dog recording once filed as ALRMBuzr: Animal, Domestic animals, pets,
    Squeak, Buzzer, Alarm clock. It is filed under the generic class's own category."""
    v = default_vocabulary()
    d = v.describe(labels(("Animal", 0.68), ("Domestic animals, pets", 0.45), ("Squeak", 0.2),
                          ("Buzzer", 0.18), ("Alarm clock", 0.15)))
    assert d.CatID == "ANMLMisc" and d.Category == "ANIMALS"
    assert d.sounds.second is None
    assert d.description == "Animal" and "Alarm" not in d.description
    assert not words(d) & {"buzzer", "alarm clock", "squeak", "alarm"}
    # the same with a weak dog further down: the old rule let the dog take the pets' place, then
    # filed the file under the strongest leaf of any branch (ALRMBuzr)
    d = v.describe(labels(("Animal", 0.68), ("Domestic animals, pets", 0.45), ("Squeak", 0.2),
                          ("Buzzer", 0.18), ("Alarm clock", 0.15), ("Dog", 0.12)))
    assert d.CatID.startswith("ANML") and d.Category == "ANIMALS"
    # the top class alone, its one descendant giving no CatID: the top class files it
    d = v.describe(labels(("Animal", 0.7), ("Growling", 0.15), ("Buzzer", 0.2)))
    assert d.CatID.startswith("ANML") and not d.CatID.startswith("ALRM")
    # and when only the generic class is heard, it is still its own category
    assert v.describe(labels(("Animal", 0.5), ("Buzzer", 0.15))).CatID == "ANMLMisc"


def test_two_strong_unrelated_sounds():
    v = default_vocabulary()
    d = v.describe(labels(("Thunderstorm", 0.9), ("Thunder", 0.85), ("Rumble", 0.8), ("Rain", 0.8),
                          ("Rain on surface", 0.75), ("Water", 0.75)))
    assert d.sounds.main.top == "thunderstorm" and d.sounds.second.top == "water"
    assert d.CatID == "THUN"
    assert d.description == "Thunder rumble with rain falling on a surface"
    assert d.fxname == "Thunder Strike"
    assert {"thunder", "rumble", "rain", "water"} <= words(d)


def test_one_strong_sound_with_weak_strays_from_three_other_branches():
    """An engine recording once described "Snake, rattle and vehicle" with snake, sewing
    machine and crying among its keywords."""
    v = default_vocabulary()
    d = v.describe(labels(("Vehicle", 0.9), ("Motor vehicle (road)", 0.85), ("Car", 0.8), ("Engine", 0.8),
                          ("Idling", 0.78), ("Snake", 0.2), ("Sewing machine", 0.18), ("Crying, sobbing", 0.15)))
    assert len(d.sounds.groups) == 4 and d.sounds.second is None
    assert d.CatID == "VEHCar" and d.Category == "VEHICLES"
    assert d.description == "Car engine idling" and d.fxname == "Car Engine Idle"
    assert {"car", "engine", "idling", "vehicle"} <= words(d)
    stray = {"snake", "serpent", "sewing machine", "crying", "sobbing", "sob", "weeping"}
    assert not words(d) & stray


def test_no_keyword_from_a_label_below_its_threshold():
    v = default_vocabulary()
    floor = DEFAULT_RULES.keyword_floor
    d = v.describe(labels(("Domestic animals, pets", 0.95), ("Dog", 0.9), ("Bark", DEFAULT_RULES.path_keyword_floor - 0.1)))
    assert d.description == "Dog barking"                             # the action is said...
    assert not words(d) & {"bark", "barking", "barks", "woof", "arf"}  # ...but gives no keyword
    assert {"dog", "dogs", "canine"} <= words(d)                       # the kept label's synonyms
    # the same label above the floor gives its words
    assert {"bark", "barking", "woof"} <= words(v.describe(labels(("Domestic animals, pets", 0.95), ("Dog", 0.9),
                                                                  ("Bark", floor + 0.1))))
    # a label of the sound's branch that is neither what it is nor what it does gives none at all
    d = v.describe(labels(("Domestic animals, pets", 0.95), ("Dog", 0.9), ("Cat", 0.85)))
    assert "Cat" in [lb.label for lb in d.sounds.main.labels] and "cat" not in words(d)
    # a quality flag is a fact, whatever the sounds
    assert "clipping" in words(v.describe(labels(("Dog", 0.8), ("Clipping", 1.0))))


def test_what_a_sure_sound_is_gives_keywords_from_a_lower_floor_than_what_it_does():
    """A label of the sound's path (what it is) gives its words from path_keyword_floor when the
    sound as a whole scores at least keyword_floor; an action (what it does) only from keyword_floor."""
    v = default_vocabulary()
    rules = Rules(keyword_floor=0.7, path_keyword_floor=0.5, agreement=0.0, refine_ratio=0.4)
    d = v.describe(labels(("Animal", 0.9), ("Domestic animals, pets", 0.85), ("Dog", 0.6), ("Growling", 0.6)),
                   rules=rules)
    assert [lb.label for lb in d.sounds.main.path][-1] == "Dog" and d.description == "Dog growling"
    assert {"dog", "canine"} <= words(d)                   # Dog 0.6: on the path, its sound sure
    assert not words(d) & {"growling", "growl"}           # Growling 0.6: an action, under 0.7
    # under the path's floor: no word of it
    d = v.describe(labels(("Animal", 0.9), ("Domestic animals, pets", 0.85), ("Dog", 0.4)), rules=rules)
    assert d.sounds.main.lead.label == "Dog" and "dog" not in words(d) and "animal" in words(d)
    # a sound that is not sure as a whole: its path gives nothing under keyword_floor
    d = v.describe(labels(("Dog", 0.6), ("Music", 0.3)), rules=rules)
    assert d.sounds.main.lead.label == "Dog" and "dog" not in words(d)


def test_no_confident_label_no_description():
    v = default_vocabulary()
    d = v.describe(labels(("Dog", 0.05), ("Snake", 0.04)))
    assert d.description == "" and d.fxname == "" and d.CatID == "" and d.keywords == []


def test_the_rules_are_the_measured_ones_and_can_be_tried_otherwise():
    v = default_vocabulary()
    shape = labels(("Thunder", 0.8), ("Rain", 0.75))
    assert v.describe(shape).sounds.second is not None
    assert v.describe(shape, rules=Rules(second_floor=0.85)).sounds.second is None
    assert v.describe(shape, rules=Rules(second_ratio=0.99)).sounds.second is None


def test_a_second_sound_needs_the_floor_and_the_ratio_both():
    """Speech 1.0 with a trumpet: reported when the trumpet is at least second_floor and at least
    second_ratio of the speech; a weaker trumpet, or one beside a much stronger main sound, is not."""
    v = default_vocabulary()
    rules = Rules(second_floor=0.6, second_ratio=0.6, agreement=0.0)
    d = v.describe(labels(("Speech", 0.9), ("Trumpet", 0.7)), rules=rules)
    assert d.sounds.second is not None and d.description == "Speech with trumpet"
    # under the floor, whatever the ratio (0.5 of 0.55 would pass the ratio alone)
    assert v.describe(labels(("Speech", 0.55), ("Trumpet", 0.5)), rules=rules).sounds.second is None
    # over the floor, under the ratio: 0.65 beside 1.0 passes a ratio of 0.6, not one of 0.75
    assert v.describe(labels(("Speech", 1.0), ("Trumpet", 0.65)),
                      rules=Rules(second_floor=0.6, second_ratio=0.75, agreement=0.0)).sounds.second is None
    assert v.describe(labels(("Speech", 1.0), ("Trumpet", 0.65)), rules=rules).sounds.second is not None
    # the shipped values, on shapes well clear of them
    d = v.describe(labels(("Speech", 0.95), ("Trumpet", 0.9)))
    assert d.sounds.second is not None and "trumpet" in words(d)
    assert v.describe(labels(("Speech", 0.95), ("Trumpet", DEFAULT_RULES.second_floor - 0.1))).sounds.second is None
    assert v.describe(labels(("Speech", 1.0), ("Trumpet", DEFAULT_RULES.second_ratio * 0.95 - 0.1))).sounds.second is None


def test_a_sound_heard_at_two_levels_of_its_branch_beats_one_label_alone():
    """Typing 0.27 and Typewriter 0.32 agree; a lone Coin 0.38 is stronger than either, but not than
    both (score = 0.32 + agreement x (0.50 - 0.32) = 0.43 with the shipped agreement)."""
    v = default_vocabulary()
    shape = labels(("Coin (dropping)", 0.38), ("Typewriter", 0.32), ("Typing", 0.27))
    d = v.describe(shape)
    assert d.sounds.main.lead.label == "Typewriter" and d.CatID == "COMType"
    assert d.description == "Typewriter typing" and "coin" not in words(d)
    alone = v.describe(shape, rules=Rules(agreement=0.0))      # the strongest label alone decides
    assert alone.sounds.main.lead.label == "Coin (dropping)" and alone.CatID == "OBJCoin"


def test_a_generic_class_is_no_second_opinion():
    """A lion heard as Roaring cats 0.17 and Roar 0.11 was filed a car: Vehicle 0.14, Motor vehicle
    0.12 and Car 0.11 counted as three agreeing labels. A generic class is implied by any of its
    descendants, so only the narrower labels of a group add to its strongest."""
    v = default_vocabulary()
    shape = labels(("Vehicle", 0.5), ("Motor vehicle (road)", 0.48), ("Car", 0.15), ("Cat", 0.6))
    d = v.describe(shape)
    car = next(g for g in d.sounds.groups if g.top == "vehicle")
    # 0.5 + 0.6 x (1 - 0.5 x 0.85 - 0.5) = 0.545; counting Motor vehicle too it was 0.667
    assert abs(car.score(DEFAULT_RULES) - 0.545) < 1e-9
    assert d.sounds.main.lead.label == "Cat" and d.CatID == "ANMLCat"
    # narrower labels still agree: Car and Race car under a generic Vehicle, each 0.45, score
    # 0.45 + 0.6 x (1 - 0.55^3 - 0.45) = 0.68 and beat a lone Cat 0.5
    d = v.describe(labels(("Vehicle", 0.45), ("Car", 0.45), ("Race car, auto racing", 0.45), ("Cat", 0.5)))
    assert d.sounds.main.top == "vehicle" and d.CatID.startswith("VEH")
    # a generic class that is the strongest label stays the base the others agree with: a trumpet
    # heard as Music 0.6, Brass instrument 0.55 and Trumpet 0.55 beside speech is a second sound
    # (0.6 + 0.6 x (1 - 0.4 x 0.45 x 0.45 - 0.6) = 0.79)
    d = v.describe(labels(("Speech", 0.99), ("Music", 0.6), ("Brass instrument", 0.55), ("Trumpet", 0.55)))
    assert d.sounds.second is not None and d.sounds.second.lead.label == "Trumpet"
    assert d.description == "Speech with trumpet"


def test_a_narrower_label_moves_the_sound_into_another_category_only_on_evidence():
    """A dog heard as Animal, Wild animals and a weak Bird was filed BIRDMisc: below a generic
    class the path always took the strongest child. Into another UCS Category (ANIMALS to BIRDS)
    it now goes only when the child is at least cross_ratio as probable as the label it refines."""
    v = default_vocabulary()
    weak = labels(("Animal", 0.7), ("Wild animals", 0.6), ("Bird", 0.25))          # 0.42 of Wild animals
    d = v.describe(weak)
    assert d.sounds.main.lead.label == "Wild animals"
    assert d.CatID == "ANMLWild" and d.Category == "ANIMALS" and "bird" not in d.description.lower()
    # the old rule: a generic class always refines, whatever the Category
    assert v.describe(weak, rules=Rules(cross_ratio=0.0)).CatID == "BIRDMisc"
    # a bird as sure as its branch is a bird
    d = v.describe(labels(("Animal", 0.7), ("Wild animals", 0.6), ("Bird", 0.55)))   # 0.92
    assert d.CatID == "BIRDMisc" and d.Category == "BIRDS" and d.description.startswith("Bird")
    # a weak child in the same Category still refines below a generic class (big cats are ANIMALS)
    d = v.describe(labels(("Animal", 0.7), ("Wild animals", 0.6), ("Roaring cats (lions, tigers)", 0.25)))
    assert d.CatID == "ANMLWcat"
    # a farm bird heard at every level of its branch crosses: Fowl 0.95 of Livestock 0.97
    d = v.describe(labels(("Animal", 0.99), ("Livestock, farm animals, working animals", 0.97),
                          ("Fowl", 0.95), ("Chicken, rooster", 0.93)))
    assert d.CatID == "BIRDFowl" and d.description.startswith(("Chicken", "Rooster"))


def test_a_person_s_catid_decides_what_crossing_a_category_is():
    """The Categories compared are those the vocabulary files by, a person's [catid] included:
    Bird filed under ANIMALS crosses nothing, so a weak bird refines again."""
    from sidecar.vocabulary.user import UserVocabulary
    from sidecar.vocabulary.vocabulary import Vocabulary
    v = Vocabulary(user=UserVocabulary(catid={"bird": "ANMLMisc"}))
    d = v.describe(labels(("Animal", 0.7), ("Wild animals", 0.6), ("Bird", 0.25)))
    assert d.sounds.main.lead.label == "Bird" and d.CatID == "ANMLMisc"


def test_speech_not_sure_on_its_own_gives_way_to_a_named_sound():
    """A laughing man heard as Speech 0.35, Laughter 0.25 and Snicker 0.14 was written "Speech":
    Speech is what the engine says of nearly any voice-like sound. When it is not sure on its own
    (under second_floor), a named group scoring at least bed_ratio of it is the main sound."""
    v = default_vocabulary()
    shape = labels(("Speech", 0.4), ("Laughter", 0.3), ("Snicker", 0.15))   # Laughter's group: 0.37
    d = v.describe(shape)
    assert d.sounds.main.lead.label == "Laughter" and d.CatID == "VOXLaff"
    assert d.description.startswith("Laugh") and "Speech" in [g.lead.label for g in d.sounds.groups]
    assert v.describe(shape, rules=Rules(bed_ratio=1.01)).sounds.main.lead.label == "Speech"  # the old rule
    # speech far surer than the other sound stays the main sound
    d = v.describe(labels(("Speech", 0.6), ("Laughter", 0.2)))
    assert d.sounds.main.lead.label == "Speech" and d.CatID == "VOXMisc"
    # and so does speech sure enough to be reported on its own (over second_floor), however near
    d = v.describe(labels(("Speech", 0.95), ("Laughter", 0.6)))
    assert d.sounds.main.lead.label == "Speech" and d.CatID == "VOXMisc"
    # a generic class alone is still the strongest sound: a weak stray beside it never takes its
    # place (an engine heard as Vehicle 0.32 beside Snake 0.18 is no reptile)
    d = v.describe(labels(("Vehicle", 0.32), ("Snake", 0.18)))
    assert d.sounds.main.lead.label == "Vehicle" and d.Category == "VEHICLES"
    # nor does a bed yield to a generic class alone
    d = v.describe(labels(("Speech", 0.4), ("Vehicle", 0.35)))
    assert d.sounds.main.lead.label == "Speech" and d.CatID == "VOXMisc"


def test_a_quality_joins_one_sound_only():
    """Rumble describes a thunderstorm and a vehicle both; beside both it joined the first and then
    made the two one sound, so the car could be neither a second sound nor its own group."""
    v = default_vocabulary()
    d = v.describe(labels(("Thunderstorm", 0.85), ("Thunder", 0.8), ("Rumble", 0.75), ("Vehicle", 0.8),
                          ("Car", 0.75)))
    assert [g.top for g in d.sounds.groups] == ["thunderstorm", "vehicle"]
    assert "Rumble" in [lb.label for lb in d.sounds.main.labels]
    assert "Rumble" not in [lb.label for lb in d.sounds.groups[1].labels]
    assert d.sounds.second is not None and d.sounds.second.top == "vehicle"
    assert d.CatID == "THUN" and "with car" in d.description


def test_a_thump_says_how_an_impact_source_sounds():
    """Thump, thud is an impact described by how it sounds (the ontology's generic impact sounds),
    with no UCS home: beside an explosion, a door or footsteps it is how they sound. Fireworks
    heard as Thump 0.24, Fireworks 0.12 and Explosion 0.12 went without a CatID."""
    v = default_vocabulary()
    d = v.describe(labels(("Thump, thud", 0.4), ("Fireworks", 0.2), ("Explosion", 0.2), ("Percussion", 0.22),
                          ("Musical instrument", 0.2), ("Drum", 0.16)))
    assert d.sounds.main.top == "explosion" and d.CatID == "FRWKRec"
    assert d.description == "Fireworks thumping"
    # alone it is still said as itself, with no CatID
    d = v.describe(labels(("Thump, thud", 0.4)))
    assert d.description == "Thump" and d.CatID == ""


def test_phrases_say_a_quality_as_what_the_sound_does():
    v = default_vocabulary()
    # Burst, pop is how an explosion sounds, not a source of its own
    assert v.describe(labels(("Explosion", 0.8), ("Burst, pop", 0.85))).description == "Explosion bursting"
    # a label that only says an action names the sound when nothing else does, once
    assert v.describe(labels(("Growling", 0.6))).description == "Growling"
    assert v.describe(labels(("Burst, pop", 0.6))).description == "Burst"
    # a beep is how an alarm sounds: one sound, never "smoke alarm beeping with beep"
    d = v.describe(labels(("Smoke detector, smoke alarm", 0.8), ("Alarm", 0.75), ("Beep, bleep", 0.85)))
    assert d.sounds.second is None and len(d.sounds.groups) == 1
    assert d.description.lower().startswith("smoke alarm") and " with " not in d.description


# -- the upgrade of an index written by older rules --------------------------------------------

STRAYS = [("Vehicle", 0.9), ("Car", 0.85), ("Engine", 0.8), ("Idling", 0.78), ("Snake", 0.2),
          ("Sewing machine", 0.18), ("Crying, sobbing", 0.15)]


def _scan(lib, db):
    out = run_sidecar("scan", str(lib), "--json", "--db", db)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_an_index_written_by_older_rules_is_described_again_without_listening(tmp_path):
    """The index keeps what was heard; the next scan writes the current rules' words from it.
    The audio is noise, so words about a car engine can only come from the labels the index
    holds. A person's Description stays."""
    lib = tmp_path / "lib"
    audiogen.write(str(lib / "engine"), "flac", audiogen.noise(1.0, seed=3))
    audiogen.write(str(lib / "edited"), "flac", audiogen.noise(1.0, seed=4))
    machine, edited = str(lib / "engine.flac"), str(lib / "edited.flac")
    f = FLAC(edited)
    f["DESCRIPTION"] = ["Idling pickup truck, recorded by the depot"]
    f.save()
    db = str(tmp_path / "index.db")
    _scan(lib, db)

    # make the index what older rules left: their labels, no rules named, the upgrade not noted
    store = open_store(db)
    for path in (machine, edited):
        item = store.files.get(path)
        item.record.provenance.labels = labels(*STRAYS)
        item.record.provenance.rules = ""
        store.files.upsert(item)
    store.meta.set(RULES_APPLIED_KEY, "")
    store.close()

    summary = _scan(lib, db)
    assert summary["classified"] == 2
    store = open_store(db)
    rec = store.files.get(machine).record
    assert rec.provenance.labels == labels(*STRAYS)                 # not heard again
    assert rec.provenance.rules == RULES_VERSION
    assert rec.Description == "Car engine idling" and rec.CatID == "VEHCar" and rec.FXName == "Car Engine Idle"
    tags = FLAC(machine)                                            # written into the file, as mutagen reads it
    assert tags["DESCRIPTION"] == ["Car engine idling"]
    assert "snake" not in tags["KEYWORDS"][0].lower().split(", ")
    doc = etree.parse(machine + ".xml")
    ns = {"sc": doc.getroot().nsmap[None]}
    assert doc.find(".//sc:Provenance/sc:Rules", ns).text == RULES_VERSION

    person = store.files.get(edited)
    assert person.record.Description == "Idling pickup truck, recorded by the depot"
    assert FLAC(edited)["DESCRIPTION"] == ["Idling pickup truck, recorded by the depot"]
    assert person.record.CatID == "VEHCar"                          # the machine's fields follow the new rules
    assert store.meta.get(RULES_APPLIED_KEY) == RULES_VERSION
    store.close()

    again = _scan(lib, db)
    assert again["unchanged"] == 2 and again["classified"] == 0


def test_the_daemon_describes_again_what_older_rules_wrote(tmp_path):
    """At start the daemon takes the files older rules described, from the labels the index
    holds, as the scan does; a later start finds nothing left to do."""
    from daemon_support import Daemon, indexed, write_config
    lib = tmp_path / "lib"
    audiogen.write(str(lib / "engine"), "flac", audiogen.tone(seconds=0.5))
    path = str(lib / "engine.flac")
    db = str(tmp_path / "index.db")
    _scan(lib, db)
    store = open_store(db)
    item = store.files.get(path)
    item.record.provenance.labels = labels(*STRAYS)
    item.record.provenance.rules = ""
    store.files.upsert(item)
    store.meta.set(RULES_APPLIED_KEY, "")
    store.close()

    config = write_config(tmp_path / "sidecar.toml", [{"path": str(lib)}])
    daemon = Daemon(tmp_path, config, db).start()
    try:
        daemon.wait_for(lambda: daemon.events("revisit_queued"), what="the files older rules described")
        daemon.wait_for(lambda: indexed(db)[path]["provenance"].get("rules") == RULES_VERSION,
                        what="the file described by the current rules")
        rec = indexed(db)[path]
        assert rec["Description"] == "Car engine idling" and rec["CatID"] == "VEHCar"
        assert [lb["label"] for lb in rec["provenance"]["labels"]] == [name for name, _ in STRAYS]  # not heard again
        assert FLAC(path)["DESCRIPTION"] == ["Car engine idling"]
    finally:
        daemon.stop()

    def noted() -> bool:
        with sqlite3.connect(db, timeout=30) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (RULES_APPLIED_KEY,)).fetchone()
        return row is not None and row[0] == RULES_VERSION

    assert not noted()          # noted at the start that finds every file described by these rules
    again = Daemon(tmp_path, config, db, name="again").start()
    try:
        again.wait_for(noted, what="the index noting the rules applied")
        assert not again.events("revisit_queued")
    finally:
        again.stop()
