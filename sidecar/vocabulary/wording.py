"""What an editor writes for the sounds found: "Dog growling and barking", "Thunder rumble with
rain"; and an FXName in UCS style ("Dog Bark"). The words come from the project's phrase table
(data/phrases.tsv, keyed by AudioSet MID); a label without a row is said with its first keyword."""

from __future__ import annotations

from sidecar.metadata.record import Label
from sidecar.vocabulary import tables
from sidecar.vocabulary.sounds import Branches, Sound, Sounds

#: at most this many actions follow the main sound ("Dog growling and barking")
MAX_ACTIONS = 2
#: an FXName has at most this many words
MAX_TITLE_WORDS = 4


def _first_term(lb: Label, branches: Branches) -> str:
    e = branches.entry(lb)
    terms = list(e.terms) if e and e.terms else tables.terms_of(lb.label)
    return terms[0] if terms else lb.label.lower()


def noun_of(sound: Sound, branches: Branches) -> tuple[str, Label]:
    """What sounds: the most specific label of the path that names a source ("rooster" for
    Crowing, "dog" for Bark), skipping labels that only say an action (Growling)."""
    for lb in reversed(sound.path):
        p = branches.phrase(lb)
        if p is None:
            return _first_term(lb, branches), lb
        if p.noun:
            return p.noun, lb
    lb = sound.path[0]
    return _first_term(lb, branches), lb


def actions_of(sound: Sound, noun: str, branches: Branches) -> list[tuple[str, Label]]:
    """What the sound does, most probable first: labels of its own branch on or just below its
    path whose verb fits its noun (never "cat barking"), and labels of other branches that
    describe it (Rumble for Thunder, Idling for a car: "engine idling")."""
    on_path = {lb.label.lower() for lb in sound.path}
    in_group = {lb.label.lower() for lb in sound.labels}
    out: list[tuple[str, Label]] = []
    for lb in sorted(sound.labels, key=lambda x: -x.probability):
        p = branches.phrase(lb)
        if p is None or not p.verb:
            continue
        if lb in sound.fitted:
            word = p.verb if not p.noun or p.noun in noun else f"{p.noun} {p.verb}"
        else:
            nearest = next((a for a in branches.ancestors(lb) if a in in_group), None)
            if lb.label.lower() not in on_path and nearest not in on_path:
                continue
            if p.noun and p.noun != noun:
                continue
            word = p.verb
        if word not in [w for w, _ in out]:
            out.append((word, lb))
    return out[:MAX_ACTIONS]


def sound_labels(sound: Sound, branches: Branches) -> list[Label]:
    """The labels that say what the sound is and does: its path and its actions, best first."""
    noun, _ = noun_of(sound, branches)
    out = list(sound.path)
    out += [lb for _, lb in actions_of(sound, noun, branches) if all(lb is not x for x in out)]
    return sorted(out, key=lambda lb: -lb.probability)


def _phrase(sound: Sound, branches: Branches, actions: int) -> tuple[str, str, list[tuple[str, Label]]]:
    noun, source = noun_of(sound, branches)
    # a label that only says an action names the sound itself when nothing else does: "Growling",
    # never "Growling growling"
    said = branches.phrase(source)
    verbs = [(w, lb) for w, lb in actions_of(sound, noun, branches)
             if lb is not source or (said is not None and said.noun)][:actions]
    text = noun + (" " + " and ".join(w for w, _ in verbs) if verbs else "")
    return text, noun, verbs


def _title_case(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def describe(sounds: Sounds, branches: Branches) -> tuple[str, str]:
    """(Description, FXName) for the sounds found; ("", "") when there is none."""
    main = sounds.main
    if main is None:
        return "", ""
    text, noun, verbs = _phrase(main, branches, MAX_ACTIONS)
    second_noun = ""
    if sounds.second is not None:
        other, second_noun, _ = _phrase(sounds.second, branches, 1)
        if second_noun != noun:
            text = f"{text} with {other}"
        else:
            second_noun = ""
    return text[:1].upper() + text[1:], _fxname(main, noun, verbs, second_noun, branches)


def _fxname(main: Sound, noun: str, verbs: list[tuple[str, Label]], second_noun: str,
            branches: Branches) -> str:
    """A short title: the phrase table's, else the noun and its action; 2 to 4 words."""
    title = ""
    if verbs:
        lead = verbs[0][1]
        p = branches.phrase(lead)
        if p and p.title:
            title = p.title if lead not in main.fitted or p.noun in ("", noun) else f"{noun} {p.title}"
    if not title:
        _, source = noun_of(main, branches)
        p = branches.phrase(source)
        title = p.title if p and p.title else (f"{noun} {verbs[0][0]}" if verbs else noun)
    words = _title_case(title).split()
    if len(words) < 2 and second_noun:
        words += _title_case(second_noun).split()
    return " ".join(words[:MAX_TITLE_WORDS])
