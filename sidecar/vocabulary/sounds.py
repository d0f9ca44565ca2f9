"""The sounds in a file, from its labels: which one is the main sound, and whether a second one
is really there.

An engine names one sound with several labels of one branch of the AudioSet ontology (Animal,
Domestic animals, Dog, Bark) and adds weak labels from unrelated branches (Snake beside an
engine). The labels are grouped by branch; the surest group is the main sound (unless it is
Speech alone, which the engine says of many sounds, and a named sound is nearly as sure), and another group
is a second sound only when it is strong on its own. The CatID, the
Description, the FXName and the keywords are all taken from these groups (vocabulary.py), so
a weak stray label never files, names or tags a file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sidecar.metadata.record import Label
from sidecar.vocabulary import tables

#: Below this a label is a guess: it never joins a sound.
MIN_PROBABILITY = 0.1
#: Labels the descriptor engine makes up about the signal (and quality flags): never a sound.
DESCRIPTOR_PREFIX = "/x/sidecar/"
#: Labels that describe nothing beside another one: a room, a silence, a generic "sound effect".
UNDESCRIPTIVE = ("Silence", "Sound effect", "Inside, small room", "Inside, large room or hall",
                 "Inside, public space", "Outside, urban or manmade", "Outside, rural or natural",
                 "Reverberation", "Echo", "Environmental noise")
#: Labels an engine says of nearly any voice-like sound (a horse, scissors and a sports crowd were
#: Speech on the listening corpus): beside a named sound nearly as sure, that sound is the one an
#: editor names. A generic class alone (Vehicle 0.32) is not one: it is still the strongest sound,
#: and yielding to a weak stray beside it (Snake 0.18) is what issue 26 set out to stop.
BEDS = ("Speech",)


@dataclass(frozen=True)
class Rules:
    """The thresholds that decide what is written, chosen on the listening corpus and
    cross-validated (benchmarks/listening/tune.py; README's "Listening quality"); the second
    sound's floor and ratio on mixtures of its clips (benchmarks/listening/mixtures.py)."""

    #: a second sound is reported when its group scores at least this...
    second_floor: float = 0.7
    #: ...and at least this share of the main sound's score
    second_ratio: float = 0.75
    #: a label gives its own words (and their synonyms) as keywords only from this probability
    keyword_floor: float = 0.7
    #: ...and a label of a sound's path (what it is, not what it does), from this probability when
    #: its sound as a whole scores at least keyword_floor (Fire engine 0.55 under Emergency vehicle 0.89)
    path_keyword_floor: float = 0.6
    #: a narrower class refines a class that is not generic when at least this share as probable
    #: (Explosion 0.9 stays Explosion beside Gunshot 0.53; Speech 1.0 beside Speech synthesizer 0.14)
    refine_ratio: float = 0.78
    #: how much a group's other labels add to its strongest one: a sound heard at several levels
    #: of its branch (Typing 0.27, Typewriter 0.32) is surer than one label alone (Coin 0.34).
    #: score = strongest + agreement x (1 - product of (1 - p) - strongest)
    agreement: float = 0.6
    #: a narrower label that would file the sound under another UCS Category refines only when at
    #: least this share as probable as the label it refines, below a generic class too: the
    #: Category is the coarsest choice, so it moves on evidence, not on the strongest of weak
    #: labels (Bird 0.26 under Wild animals 0.49 stays an animal; Fowl 0.98 under Livestock 0.99 is a bird)
    cross_ratio: float = 0.65
    #: a main sound that is a bed (Speech, which the engine says of voices, crowds and animals
    #: alike) and is not sure on its own (under second_floor) gives way to a group that names a
    #: source and scores at least this share of it (Laughter 0.25 with Snicker 0.14 beside a lone
    #: Speech 0.35)
    bed_ratio: float = 0.5


DEFAULT_RULES = Rules()


@dataclass
class Sound:
    """One group of labels from one branch of the ontology."""

    labels: list[Label]                 # the group's labels, most probable first
    path: list[Label]                   # from the group's broadest label down to its most specific
    top: str                            # the ontology's top class of the branch ("Animal")
    fitted: list[Label] = field(default_factory=list)   # labels of another branch that describe it
    implied: list[Label] = field(default_factory=list)  # its generic classes (Vehicle, Animal)

    @property
    def strength(self) -> float:
        return self.labels[0].probability

    @property
    def together(self) -> float:
        """The strongest label and the group's other own labels taken together: 1 - product of
        (1 - p). A generic class other than the strongest is left out: any of its descendants
        implies it, so it is no second opinion (Vehicle 0.14 with Motor vehicle 0.12 and Car 0.11
        is one weak car, not three agreeing labels)."""
        miss = 1.0 - self.strength
        for lb in self.labels[1:]:
            if lb not in self.fitted and lb not in self.implied:
                miss *= 1.0 - lb.probability
        return 1.0 - miss

    def score(self, rules: Rules) -> float:
        """How sure the group is: its strongest label, raised by the others' agreement."""
        return self.strength + rules.agreement * max(0.0, self.together - self.strength)

    @property
    def lead(self) -> Label:
        """The most specific label of the path: what the sound is."""
        return self.path[-1]


@dataclass
class Sounds:
    main: Sound | None = None
    second: Sound | None = None
    groups: list[Sound] = field(default_factory=list)   # all of them, strongest first

    @property
    def written(self) -> list[Sound]:
        """The sounds whose words are written: the main one, and the second when reported."""
        return [s for s in (self.main, self.second) if s is not None]


class Branches:
    """The ontology relations the grouping needs, from the project's tables."""

    def __init__(self, entries: Sequence[tables.LabelEntry], generic: set[str],
                 category: Callable[[tables.LabelEntry], str] | None = None):
        self._by_mid = {e.mid: e for e in entries}
        self._category = category
        self._by_name = {e.label.lower(): e for e in entries}
        self._generic = generic
        self._phrases = tables.phrases()
        self._name_of_mid = {e.mid: e.label.lower() for e in entries}

    def entry(self, label: Label) -> tables.LabelEntry | None:
        return self._by_mid.get(label.mid) or self._by_name.get(label.label.strip().lower())

    def ancestors(self, label: Label) -> tuple[str, ...]:
        """Lower-case names of the label's ancestors, nearest first."""
        e = self.entry(label)
        return tuple(b.lower() for b in e.broader) if e else ()

    def top(self, label: Label) -> str:
        up = self.ancestors(label)
        return up[-1] if up else label.label.lower()

    def is_generic(self, label: Label) -> bool:
        """A class with many descendants (Animal, Music, Vehicle): it names no source."""
        return label.label.lower() in self._generic

    def is_bed(self, label: Label) -> bool:
        """A label the engine gives nearly any voice-like sound (Speech)."""
        return label.label in BEDS

    def names_no_source(self, label: Label) -> bool:
        """A generic class or a bed."""
        return self.is_generic(label) or self.is_bed(label)

    def category(self, label: Label) -> str:
        """The UCS Category the label files a sound under; "" when it has none."""
        e = self.entry(label)
        return self._category(e) if e is not None and self._category is not None else ""

    def phrase(self, label: Label) -> tables.Phrase | None:
        e = self.entry(label)
        return self._phrases.get(e.mid) if e else None

    def fits(self, quality: Label, other: Label) -> bool:
        """Whether a label of another branch describes other's sound (Rumble describes Thunder)."""
        p = self.phrase(quality)
        if p is None or not p.fits:
            return False
        tops = {self._name_of_mid.get(m, "") for m in p.fits}
        return bool(tops & ({other.label.lower()} | set(self.ancestors(other))))

    def related(self, a: Label, b: Label) -> bool:
        """Same branch: one is an ancestor of the other, or both have the same parent (below a
        top class: Dog and Cat under Domestic animals, never Domestic and Wild animals)."""
        up_a, up_b = self.ancestors(a), self.ancestors(b)
        if a.label.lower() in up_b or b.label.lower() in up_a:
            return True
        return bool(up_a and up_b and up_a[0] == up_b[0] and len(up_a) > 1)


def confident_sounds(labels: Sequence[Label]) -> list[Label]:
    """The labels that may name a sound: confident, not made up by the descriptor engine, and
    no room or silence beside a label that names something."""
    out = [lb for lb in labels if lb.probability >= MIN_PROBABILITY and not lb.mid.startswith(DESCRIPTOR_PREFIX)]
    named = [lb for lb in out if lb.label not in UNDESCRIPTIVE]
    out = named or out
    return sorted(out, key=lambda lb: -lb.probability)


def find_sounds(labels: Sequence[Label], branches: Branches, rules: Rules = DEFAULT_RULES) -> Sounds:
    """Group the confident labels by branch and choose the main sound and a second one."""
    heard = confident_sounds(labels)
    if not heard:
        return Sounds()
    # union-find over the labels: linked when related, or when one describes the other's branch
    parent = list(range(len(heard)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    fitted: set[int] = set()
    for i, a in enumerate(heard):
        for j in range(i + 1, len(heard)):
            b = heard[j]
            if branches.related(a, b):
                parent[root(i)] = root(j)
    for i, a in enumerate(heard):
        # a quality joins the strongest sound it describes, and only that one: Rumble beside a
        # thunderstorm and a car must not make them one sound
        j = next((j for j, b in enumerate(heard) if i != j and root(i) != root(j)
                  and branches.fits(a, b) and not branches.fits(b, a)), None)
        if j is not None:
            fitted.add(i)
            parent[root(i)] = root(j)
    members: dict[int, list[int]] = {}
    for i in range(len(heard)):
        members.setdefault(root(i), []).append(i)
    groups = []
    for idx in members.values():
        own = [heard[i] for i in idx if i not in fitted] or [heard[i] for i in idx]
        path = _path(own, branches, rules)
        groups.append(Sound(labels=[heard[i] for i in idx], path=path, top=branches.top(path[0]),
                            fitted=[heard[i] for i in idx if i in fitted and heard[i] not in own],
                            implied=[heard[i] for i in idx if branches.is_generic(heard[i])]))
    # surest first; between equals, the one more labels agree on
    groups.sort(key=lambda g: (-g.score(rules), -sum(lb.probability for lb in g.labels)))
    main = groups[0]
    if branches.is_bed(main.lead) and main.score(rules) < rules.second_floor:
        # a bed (Speech alone) yields to a sound an editor would name when nearly as sure; one
        # sure enough to be reported on its own (Speech 0.9 beside a trumpet) stays first
        named = next((g for g in groups[1:] if not branches.names_no_source(g.lead)), None)
        if named is not None and named.score(rules) >= rules.bed_ratio * main.score(rules):
            groups.remove(named)
            groups.insert(0, named)
            main = named
    second = next((g for g in groups[1:] if g.score(rules) >= rules.second_floor
                   and g.score(rules) >= rules.second_ratio * main.score(rules)), None)
    return Sounds(main=main, second=second, groups=groups)


def _path(labels: list[Label], branches: Branches, rules: Rules) -> list[Label]:
    """From the group's broadest label down, at each step into the narrower branch holding the
    strongest label, while the step is believable: below a generic class always, below a
    narrower one when the branch is at least refine_ratio as probable; and into another UCS
    Category only when the branch is at least cross_ratio as probable."""
    names = {lb.label.lower(): lb for lb in labels}

    def parent_of(lb: Label) -> str | None:
        return next((a for a in branches.ancestors(lb) if a in names), None)

    children: dict[str | None, list[Label]] = {}
    for lb in labels:
        children.setdefault(parent_of(lb), []).append(lb)

    def strength(lb: Label) -> float:
        below = children.get(lb.label.lower(), [])
        return max([lb.probability] + [strength(c) for c in below])

    def best(candidates: list[Label]) -> Label:
        return max(candidates, key=lambda lb: (strength(lb), lb.probability))

    node = best(children[None])
    path = [node]
    while True:
        below = children.get(node.label.lower(), [])
        if not below:
            return path
        child = best(below)
        if not branches.is_generic(node) and strength(child) < rules.refine_ratio * node.probability:
            return path
        if strength(child) < rules.cross_ratio * node.probability and _crosses(path, child, branches):
            return path
        path.append(child)
        node = child


def _crosses(path: list[Label], child: Label, branches: Branches) -> bool:
    """Whether child files the sound under another UCS Category than the path so far does."""
    here = next((c for c in (branches.category(lb) for lb in reversed(path)) if c), "")
    there = branches.category(child)
    return bool(here and there and here != there)
