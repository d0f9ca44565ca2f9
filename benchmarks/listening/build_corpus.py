#!/usr/bin/env python3
"""Rebuild the listening corpus: clips of known content, each at most 10 s, and manifest.tsv.

Needs sox, espeak-ng and these Debian packages installed: sound-theme-freedesktop alsa-utils
espeak-ng tuxpaint-stamps-default wesnoth-1.16-data frozen-bubble-data lincity-ng-data
openarena-data; and, for the clips taken from them, git clones of librosa/data and
iver56/audiomentations named by LIBROSA_DATA_GIT and AUDIOMENTATIONS_GIT (their .git folders);
without them those clips are left out.

    python benchmarks/listening/build_corpus.py [OUT]   # default ~/.cache/sfx-sidecar/listening

Every expected label is checked against the AudioSet display names in
../shared/reference/max-class-labels.csv before anything is written. What a person accepts for
each clip (UCS Categories and CatIDs, keywords) comes from expected.tsv beside this script.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.expanduser("~/.cache/sfx-sidecar/listening")
CLIPS = os.path.join(HERE, "clips")
LABELS_CSV = os.path.join(os.path.dirname(REPO), "shared", "reference", "max-class-labels.csv")
EXPECTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected.tsv")
MAX_SECONDS = 10

TUX = "/usr/share/tuxpaint/stamps"
WES = "/usr/share/games/wesnoth/1.16/data/core/sounds"
FB = "/usr/share/games/frozen-bubble/snd"
FD = "/usr/share/sounds/freedesktop/stereo"
LC = "/usr/share/games/lincity-ng/sounds"
OA_PK3 = "/usr/share/games/openarena/baseoa/pak0.pk3"
LIBROSA = (os.environ.get("LIBROSA_DATA_GIT", ""), "450cdd8")
AUGM = (os.environ.get("AUDIOMENTATIONS_GIT", ""), "73b94488279feda6542a2813c70ed0d00b49ee4f")

GPL2_TUX = "GPL-2+ (Debian tuxpaint-stamps-default copyright)"
GPL2_WES = "GPL-2+ (Debian wesnoth-1.16-data copyright)"
GPL2_FB = "GPL-2 (Debian frozen-bubble-data copyright)"
GPL2_LC = "GPL-2+ (Debian lincity-ng-data copyright)"
GPL2_OA = "GPL-2+ (Debian openarena-data copyright)"
AUGM_LIC = "MIT (audiomentations repository licence; per-file origin not stated)"

# (clip name, how to get it, truth, expected labels ';'-separated, source, licence)
# how: ("file", path) | ("git", repo, path) | ("pk3", member...) | ("espeak", voice, text) | ("sox", args...)
ENTRIES = [
    # --- animals ---
    ("dog_bark", ("file", f"{TUX}/animals/mammals/dogs/dog.ogg"), "dog barking",
     "Dog;Bark;Domestic animals, pets;Canidae, dogs, wolves", "Debian tuxpaint-stamps-default animals/mammals/dogs/dog.ogg", GPL2_TUX),
    ("cat_meow", ("file", f"{TUX}/seasonal/halloween/blackcat.ogg"), "cat meowing",
     "Cat;Meow;Caterwaul;Domestic animals, pets", "Debian tuxpaint-stamps-default seasonal/halloween/blackcat.ogg", GPL2_TUX),
    ("rooster_crow", ("file", f"{TUX}/animals/birds/rooster.ogg"), "rooster crowing",
     "Chicken, rooster;Crowing, cock-a-doodle-doo;Fowl", "Debian tuxpaint-stamps-default animals/birds/rooster.ogg", GPL2_TUX),
    ("cow_moo", ("file", f"{TUX}/animals/mammals/bovines/cow.ogg"), "cow mooing",
     "Cattle, bovinae;Moo;Livestock, farm animals, working animals", "Debian tuxpaint-stamps-default animals/mammals/bovines/cow.ogg", GPL2_TUX),
    ("horse_neigh", ("file", f"{TUX}/animals/mammals/equines/horse.ogg"), "horse neighing",
     "Horse;Neigh, whinny;Livestock, farm animals, working animals", "Debian tuxpaint-stamps-default animals/mammals/equines/horse.ogg", GPL2_TUX),
    ("pig_oink", ("file", f"{TUX}/animals/mammals/pig.ogg"), "pig grunting",
     "Pig;Oink;Livestock, farm animals, working animals", "Debian tuxpaint-stamps-default animals/mammals/pig.ogg", GPL2_TUX),
    ("duck_quack", ("file", f"{TUX}/animals/birds/duck.ogg"), "duck quacking",
     "Duck;Quack;Fowl", "Debian tuxpaint-stamps-default animals/birds/duck.ogg", GPL2_TUX),
    ("frog_croak", ("file", f"{TUX}/animals/amphibians/frog.ogg"), "frog croaking",
     "Frog;Croak", "Debian tuxpaint-stamps-default animals/amphibians/frog.ogg", GPL2_TUX),
    ("owl_hoot", ("file", f"{TUX}/animals/birds/owl.ogg"), "owl hooting",
     "Owl;Hoot;Bird;Bird vocalization, bird call, bird song", "Debian tuxpaint-stamps-default animals/birds/owl.ogg", GPL2_TUX),
    ("crow_caw", ("file", f"{TUX}/animals/birds/crow.ogg"), "crow cawing",
     "Crow;Caw;Bird;Bird vocalization, bird call, bird song", "Debian tuxpaint-stamps-default animals/birds/crow.ogg", GPL2_TUX),
    ("lion_roar", ("file", f"{TUX}/animals/mammals/cats/lion.ogg"), "lion roaring",
     "Roaring cats (lions, tigers);Roar;Wild animals", "Debian tuxpaint-stamps-default animals/mammals/cats/lion.ogg", GPL2_TUX),
    ("bee_buzz", ("file", f"{TUX}/animals/insects/bee.ogg"), "bee buzzing",
     "Bee, wasp, etc.;Insect;Buzz", "Debian tuxpaint-stamps-default animals/insects/bee.ogg", GPL2_TUX),
    ("robin_song", ("git", LIBROSA, "audio/456440__inspectorj__bird-whistling-robin-single-13.ogg"), "robin bird call",
     "Bird;Bird vocalization, bird call, bird song;Chirp, tweet", "github librosa/data audio/456440__inspectorj__bird-whistling-robin-single-13.ogg (Freesound InspectorJ 456440)", "CC-BY-3.0"),
    ("birds_ambience", ("file", f"{WES}/ambient/birds1.ogg"), "birds singing (ambience)",
     "Bird;Bird vocalization, bird call, bird song;Chirp, tweet", "Debian wesnoth-1.16-data sounds/ambient/birds1.ogg", GPL2_WES),
    ("humpback_whale", ("git", LIBROSA, "audio/glacier-bay-humpback.ogg"), "humpback whale song (underwater)",
     "Whale vocalization", "github librosa/data audio/glacier-bay-humpback.ogg (US NPS Glacier Bay)", "Public domain (US NPS)"),
    ("dog_howl_sleep", ("git", LIBROSA, "audio/pibble.ogg"), "dog howling in her sleep [quiet: -45 dB RMS]",
     "Dog;Howl;Whimper (dog);Canidae, dogs, wolves", "github librosa/data audio/pibble.ogg (Brian McFee)", "CC-BY-NC-3.0"),
    ("hens", ("git", AUGM, "demo/background_noises/hens.ogg"), "hens clucking",
     "Chicken, rooster;Cluck;Fowl", "github iver56/audiomentations demo/background_noises/hens.ogg", AUGM_LIC),
    ("sheep_flock", ("git", AUGM, "demo/background_noises/sheep.ogg"), "sheep bleating",
     "Sheep;Bleat;Livestock, farm animals, working animals", "github iver56/audiomentations demo/background_noises/sheep.ogg", AUGM_LIC),
    # --- water, weather, fire ---
    ("thunder", ("file", f"{TUX}/naturalforces/lightningbolt.ogg"), "thunder / lightning strike",
     "Thunder;Thunderstorm", "Debian tuxpaint-stamps-default naturalforces/lightningbolt.ogg", GPL2_TUX),
    ("campfire", ("file", f"{WES}/ambient/campfire.ogg"), "campfire crackling",
     "Fire;Crackle", "Debian wesnoth-1.16-data sounds/ambient/campfire.ogg", GPL2_WES),
    ("waterfall", ("pk3", "sound/world/waterfall.wav"), "waterfall / rushing water",
     "Waterfall;Water;Stream;Gurgling", "Debian openarena-data baseoa/pak0.pk3 sound/world/waterfall.wav", GPL2_OA),
    ("water_city", ("file", f"{LC}/Water1.wav"), "water ambience [game 'water' tile; its spectrogram shows pulsed harmonic calls, frogs or birds by water more likely: truth doubtful]",
     "Water;Stream;Waves, surf;Ocean;Gurgling;Splash, splatter", "Debian lincity-ng-data sounds/Water1.wav", GPL2_LC),
    ("toilet_flush", ("file", f"{TUX}/household/toilet.ogg"), "toilet flushing",
     "Toilet flush;Water", "Debian tuxpaint-stamps-default household/toilet.ogg", GPL2_TUX),
    # --- vehicles, city ---
    ("siren_firetruck", ("file", f"{TUX}/vehicles/emergency/firetruck.ogg"), "fire engine siren",
     "Fire engine, fire truck (siren);Siren;Emergency vehicle", "Debian tuxpaint-stamps-default vehicles/emergency/firetruck.ogg", GPL2_TUX),
    ("traffic", ("file", f"{LC}/TraficHigh1.wav"), "road traffic",
     "Traffic noise, roadway noise;Vehicle;Car;Car passing by", "Debian lincity-ng-data sounds/TraficHigh1.wav", GPL2_LC),
    ("sports_crowd", ("file", f"{LC}/SportsCroud1.wav"), "sports crowd cheering",
     "Crowd;Cheering;Applause", "Debian lincity-ng-data sounds/SportsCroud1.wav", GPL2_LC),
    # --- impacts, tools, household ---
    ("explosion", ("file", f"{WES}/explosion.ogg"), "explosion",
     "Explosion;Boom", "Debian wesnoth-1.16-data sounds/explosion.ogg", GPL2_WES),
    ("gunshot", ("file", f"{WES}/gunshot.wav"), "gunshot",
     "Gunshot, gunfire;Explosion", "Debian wesnoth-1.16-data sounds/gunshot.wav", GPL2_WES),
    ("fireworks", ("file", f"{TUX}/seasonal/newyears/fireworks.ogg"), "fireworks",
     "Fireworks;Firecracker;Explosion", "Debian tuxpaint-stamps-default seasonal/newyears/fireworks.ogg", GPL2_TUX),
    ("door_mover", ("pk3", "sound/movers/doors/dr1_strt.wav"), "door opening [game sliding/mechanical door]",
     "Door;Sliding door", "Debian openarena-data baseoa/pak0.pk3 sound/movers/doors/dr1_strt.wav", GPL2_OA),
    ("footsteps_boots", ("pk3-seq", "sound/player/footsteps/boot1.wav", "sound/player/footsteps/boot2.wav",
                         "sound/player/footsteps/boot3.wav", "sound/player/footsteps/boot4.wav"),
     "footsteps, boots (4 steps joined)", "Walk, footsteps", "Debian openarena-data baseoa/pak0.pk3 sound/player/footsteps/boot1-4.wav", GPL2_OA),
    ("saw", ("file", f"{TUX}/household/tools/saw.ogg"), "hand saw sawing",
     "Sawing;Tools", "Debian tuxpaint-stamps-default household/tools/saw.ogg", GPL2_TUX),
    ("blacksmith", ("file", f"{LC}/Blacksmith1.wav"), "hammer on anvil [game 'blacksmith' sound]",
     "Hammer;Tools;Clang", "Debian lincity-ng-data sounds/Blacksmith1.wav", GPL2_LC),
    ("vacuum_cleaner", ("file", f"{TUX}/household/vacuum_cleaner.ogg"), "vacuum cleaner",
     "Vacuum cleaner", "Debian tuxpaint-stamps-default household/vacuum_cleaner.ogg", GPL2_TUX),
    ("scissors", ("file", f"{TUX}/household/arttools/scissors_small_open.ogg"), "scissors snipping",
     "Scissors", "Debian tuxpaint-stamps-default household/arttools/scissors_small_open.ogg", GPL2_TUX),
    ("camera_shutter", ("file", f"{FD}/camera-shutter.oga"), "camera shutter",
     "Camera;Single-lens reflex camera;Clicking;Mechanisms", "Debian sound-theme-freedesktop stereo/camera-shutter.oga", "CC-BY-SA-3.0"),
    ("typewriter", ("file", f"{FB}/typewriter.ogg"), "typewriter [one key strike, 0.26 s]",
     "Typewriter;Typing", "Debian frozen-bubble-data snd/typewriter.ogg", GPL2_FB),
    # --- people ---
    ("applause", ("file", f"{FB}/applause.ogg"), "applause [dense, 2 s, band-limited to 15 kHz]",
     "Applause;Clapping;Crowd;Cheering", "Debian frozen-bubble-data snd/applause.ogg", GPL2_FB),
    ("snoring", ("file", f"{FB}/snore.ogg"), "snoring",
     "Snoring;Breathing", "Debian frozen-bubble-data snd/snore.ogg", GPL2_FB),
    ("laugh", ("file", f"{WES}/dwarf-laugh.wav"), "man laughing (game character)",
     "Laughter;Belly laugh;Chuckle, chortle;Giggle", "Debian wesnoth-1.16-data sounds/dwarf-laugh.wav", GPL2_WES),
    ("speech_female_libri", ("git", LIBROSA, "audio/198-209-0000.ogg"), "woman reading aloud (LibriSpeech)",
     "Speech;Female speech, woman speaking;Narration, monologue", "github librosa/data audio/198-209-0000.ogg (LibriSpeech 198-209-0000)", "CC-BY-4.0"),
    ("speech_male_libri", ("git", LIBROSA, "audio/3436-172162-0000.ogg"), "man reading aloud (LibriSpeech)",
     "Speech;Male speech, man speaking;Narration, monologue", "github librosa/data audio/3436-172162-0000.ogg (LibriSpeech 3436-172162-0000)", "CC-BY-4.0"),
    ("speech_vctk", ("git", AUGM, "demo/p286_011.wav"), "man speaking one sentence (VCTK p286)",
     "Speech;Male speech, man speaking", "github iver56/audiomentations demo/p286_011.wav (Edinburgh CSTR noisy VCTK)", "CC-BY-4.0"),
    ("speech_alsa", ("file", "/usr/share/sounds/alsa/Front_Center.wav"), "woman saying 'front center'",
     "Speech;Female speech, woman speaking", "Debian alsa-utils /usr/share/sounds/alsa/Front_Center.wav", "GPL-2 (Debian alsa-utils copyright)"),
    ("espeak_en", ("espeak", "en", "The quick brown fox jumps over the lazy dog. Sound effects libraries need good names."),
     "synthetic speech, English (espeak-ng)", "Speech;Speech synthesizer;Male speech, man speaking", "Debian espeak-ng, voice en", "GPL-3+ (espeak-ng); output of the program"),
    ("espeak_de", ("espeak", "de", "Der Hund bellt im Garten, und die Tür schlägt zu."),
     "synthetic speech, German (espeak-ng)", "Speech;Speech synthesizer;Male speech, man speaking", "Debian espeak-ng, voice de", "GPL-3+ (espeak-ng); output of the program"),
    ("espeak_fr_f", ("espeak", "fr+f3", "Le chien aboie dans le jardin et la porte claque."),
     "synthetic speech, French, female variant (espeak-ng)", "Speech;Speech synthesizer;Female speech, woman speaking",
     "Debian espeak-ng, voice fr+f3", "GPL-3+ (espeak-ng); output of the program"),
    # --- music, bells, alarms ---
    ("trumpet", ("git", LIBROSA, "audio/sorohanro_-_solo-trumpet-06.ogg"), "solo jazz trumpet [phrase, then about 3 s of silence]",
     "Trumpet;Brass instrument;Jazz", "github librosa/data audio/sorohanro_-_solo-trumpet-06.ogg (Freesound 77711, Mihai Sorohan)", "CC-BY-3.0"),
    ("acoustic_guitar", ("git", AUGM, "demo/acoustic_guitar_0.wav"), "acoustic guitar",
     "Acoustic guitar;Guitar;Plucked string instrument;Strum", "github iver56/audiomentations demo/acoustic_guitar_0.wav", AUGM_LIC),
    ("ragtime_piano", ("git", LIBROSA, "audio/442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime.ogg"), "ragtime solo piano",
     "Piano;Keyboard (musical)", "github librosa/data audio/442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime.ogg (Freesound 442789)", "CC-BY-NC-3.0"),
    ("string_orchestra", ("git", LIBROSA, "audio/Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).ogg"),
     "string orchestra (Brahms Hungarian Dance no. 5)", "String section;Orchestra;Bowed string instrument;Violin, fiddle;Classical music",
     "github librosa/data audio/Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).ogg (Musopen, US Army Strings)", "Public domain"),
    ("violin", ("file", f"{TUX}/hobbies/music/string/violin.ogg"), "violin",
     "Violin, fiddle;Bowed string instrument;String section", "Debian tuxpaint-stamps-default hobbies/music/string/violin.ogg", GPL2_TUX),
    ("drumkit", ("file", f"{TUX}/hobbies/music/percussion/drumkit.ogg"), "drum kit",
     "Drum kit;Drum;Snare drum;Bass drum;Percussion", "Debian tuxpaint-stamps-default hobbies/music/percussion/drumkit.ogg", GPL2_TUX),
    ("cymbal_crash", ("file", f"{TUX}/hobbies/music/percussion/cymbal_crash.ogg"), "crash cymbal",
     "Cymbal;Percussion", "Debian tuxpaint-stamps-default hobbies/music/percussion/cymbal_crash.ogg", GPL2_TUX),
    ("bell", ("file", f"{FD}/bell.oga"), "bell [a 0.14 s ding]",
     "Bell;Ding;Jingle bell;Church bell", "Debian sound-theme-freedesktop stereo/bell.oga", "CC-BY-3.0"),
    ("alarm_clock", ("file", f"{FD}/alarm-clock-elapsed.oga"), "alarm clock ringing",
     "Alarm clock;Alarm;Bell;Beep, bleep", "Debian sound-theme-freedesktop stereo/alarm-clock-elapsed.oga", "CC-BY-SA-3.0"),
    ("phone_ring", ("file", f"{FD}/phone-incoming-call.oga"), "telephone ringing (incoming call tone)",
     "Telephone;Telephone bell ringing;Ringtone", "Debian sound-theme-freedesktop stereo/phone-incoming-call.oga", "GPL-2+"),
    # --- synthesized references ---
    ("sox_pluck", ("sox", "synth", "4", "pluck", "G2", "pluck", "B2", "pluck", "D3", "pluck", "G3", "pluck", "D4",
                   "pluck", "G4", "delay", "0", ".05", ".1", ".15", ".2", ".25", "remix", "-", "fade", "0", "4", ".1",
                   "norm", "-1"),
     "synthesized guitar-like strum (sox pluck, G chord)", "Plucked string instrument;Guitar;Musical instrument;Harp",
     "sox synth pluck", "generated here"),
    ("sox_sine_1k", ("sox", "synth", "4", "sine", "1000", "gain", "-12", "remix", "-"), "1 kHz sine tone",
     "Sine wave;Beep, bleep", "sox synth sine 1000", "generated here"),
    ("sox_pinknoise", ("sox", "synth", "4", "pinknoise", "gain", "-12", "remix", "-"), "pink noise",
     "Pink noise;Noise;White noise;Static", "sox synth pinknoise", "generated here"),
]


def known_labels() -> set[str]:
    with open(LABELS_CSV, newline="") as f:
        return {row["display_name"] for row in csv.DictReader(f)}


def accepted() -> dict[str, list[str]]:
    """clip -> [categories, catids, keywords] as expected.tsv gives them."""
    with open(EXPECTED, newline="") as f:
        rows = csv.DictReader((ln for ln in f if not ln.startswith("#")), delimiter="\t")
        return {r["clip"]: [r["categories"], r["catids"], r["keywords"]] for r in rows}


def run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, **kw)


def trim(src: str, dst: str) -> None:
    """At most MAX_SECONDS, 16-bit WAV; channels and rate as the source."""
    run(["sox", "-V1", src, "-b", "16", dst, "trim", "0", str(MAX_SECONDS)])


def build_one(name: str, how: tuple, tmp: str) -> str:
    dst = os.path.join(CLIPS, name + ".wav")
    kind = how[0]
    if kind == "file":
        trim(how[1], dst)
    elif kind == "git":
        (gitdir, commit), path = how[1], how[2]
        raw = os.path.join(tmp, name + os.path.splitext(path)[1])
        with open(raw, "wb") as f:
            run(["git", "--git-dir", gitdir, "show", f"{commit}:{path}"], stdout=f)
        trim(raw, dst)
    elif kind in ("pk3", "pk3-seq"):
        parts = []
        for i, member in enumerate(how[1:]):
            raw = os.path.join(tmp, f"{name}{i}.wav")
            with open(raw, "wb") as f:
                run(["unzip", "-p", OA_PK3, member], stdout=f)
            parts.append(raw)
        if kind == "pk3":
            trim(parts[0], dst)
        else:  # single steps joined with 0.35 s gaps into a walk
            padded = []
            for i, p in enumerate(parts):
                q = os.path.join(tmp, f"{name}_pad{i}.wav")
                run(["sox", "-V1", p, q, "pad", "0", "0.35"])
                padded.append(q)
            joined = os.path.join(tmp, f"{name}_joined.wav")
            run(["sox", "-V1", *padded, *padded, joined])
            trim(joined, dst)
    elif kind == "espeak":
        raw = os.path.join(tmp, name + ".wav")
        run(["espeak-ng", "-v", how[1], "-w", raw, how[2]])
        trim(raw, dst)
    elif kind == "sox":
        run(["sox", "-V1", "-n", "-r", "44100", "-b", "16", dst, *how[1:]])
    else:
        raise ValueError(kind)
    return dst


def main() -> int:
    names = known_labels()
    bad = [(e[0], lab) for e in ENTRIES for lab in e[3].split(";") if lab not in names]
    if bad:
        for clip, lab in bad:
            print(f"{clip}: '{lab}' is not an AudioSet display name", file=sys.stderr)
        return 2
    person = accepted()
    missing = [e[0] for e in ENTRIES if e[0] not in person]
    if missing:
        print(f"{EXPECTED}: no line for {', '.join(missing)}", file=sys.stderr)
        return 2
    os.makedirs(CLIPS, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, how, truth, expected, source, licence in ENTRIES:
            if how[0] == "git" and not how[1][0]:
                print(f"{name}: left out (no git clone of its source named)", file=sys.stderr)
                continue
            build_one(name, how, tmp)
            rows.append([f"clips/{name}.wav", truth, expected, source, licence, *person[name]])
    with open(os.path.join(HERE, "manifest.tsv"), "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(["file", "truth", "expected", "source", "licence", "categories", "catids", "keywords"])
        w.writerows(rows)
    print(f"{len(rows)} clips in {CLIPS}; manifest.tsv written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
