"""From classifier labels to UCS CatID, keywords, synonyms and a short description."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sidecar.metadata.record import Label
from sidecar.vocabulary import tables, wording
from sidecar.vocabulary.errors import UserVocabularyError
from sidecar.vocabulary.sounds import (
    DEFAULT_RULES, DESCRIPTOR_PREFIX, MIN_PROBABILITY, Branches, Rules, Sound, Sounds, find_sounds,
)
from sidecar.vocabulary.synonyms import SynonymGroups
from sidecar.vocabulary.ucs_list import UcsList
from sidecar.vocabulary.ucs_name import UcsName, parse_ucs_filename
from sidecar.vocabulary.user import UserVocabulary, load_user_vocabulary, normalise

#: Descriptor labels that stay keywords beside sound labels: facts an editor searches for.
QUALITY_FLAGS = ("Clipping", "DC offset", "Dual mono")
#: A class with this many descendants in the ontology is too broad to name a source.
GENERIC_DESCENDANTS = 20
#: The rules this module describes a file by; provenance names them, and a file described by
#: older rules is described again from the labels its index row keeps (never heard again).
RULES_VERSION = "sounds-3"


@dataclass
class Description:
    CatID: str = ""
    Category: str = ""
    SubCategory: str = ""
    UserCategory: str = ""   # a "-UserCategory" suffix the user's [catid] gave with the CatID
    keywords: list[str] = field(default_factory=list)        # best first, existing keywords first
    synonyms_added: list[str] = field(default_factory=list)  # which keywords came from synonym expansion
    description: str = ""                                    # "Dog growling and barking"
    fxname: str = ""                                         # "Dog Bark"
    sounds: Sounds = field(default_factory=Sounds)           # what the words were taken from


class _Keywords:
    """An ordered, case-insensitively unique keyword list that remembers where words came from."""

    def __init__(self, banned: set[str], limit: int):
        self.words: list[str] = []
        self.synonyms: list[str] = []
        self._seen: set[str] = set()
        self._banned = banned
        self._limit = limit

    def add(self, word: str, *, synonym: bool = False, keep: bool = False) -> None:
        word = " ".join(word.replace(",", " ").replace(";", " ").split())
        key = word.lower()
        if not word or key in self._seen or len(self.words) >= self._limit:
            return
        if key in self._banned and not keep:
            return
        self._seen.add(key)
        self.words.append(word)
        if synonym:
            self.synonyms.append(word)


def limit_keywords(words: Iterable[str], max_bytes: int, sep: str = ", ") -> list[str]:
    """The keywords, best first, that fit in max_bytes of UTF-8 once joined with sep.

    A word too long for the room left is skipped so that shorter, later ones still fit.
    """
    out: list[str] = []
    used = 0
    step = len(sep.encode("utf-8"))
    for word in words:
        size = len(word.encode("utf-8")) + (step if out else 0)
        if used + size <= max_bytes:
            out.append(word)
            used += size
    return out


class Vocabulary:
    rules_version = RULES_VERSION

    def __init__(self, user: UserVocabulary | None = None, ucs_list: UcsList | None = None):
        self.user = user or UserVocabulary()
        self.ucs_list = ucs_list if ucs_list else None
        self._catids = tables.catids()
        self._entries = tables.label_entries()
        self._by_mid = {e.mid: e for e in self._entries}
        self._by_name = {e.label.lower(): e for e in self._entries}
        self._by_catid: dict[str, list[tables.LabelEntry]] = {}
        descendants = Counter(b.lower() for e in self._entries for b in e.broader)
        # classes as broad as Animal, Music or Vehicle: they name no source an editor files by
        self._generic = {name for name, n in descendants.items() if n >= GENERIC_DESCENDANTS}
        self.branches = Branches(self._entries, self._generic,
                                 lambda e: self.cat_info(self.catid_of(e))["Category"] if self.catid_of(e) else "")
        self.synonym_groups = SynonymGroups()
        for e in self._entries:
            self.synonym_groups.add(list(e.terms) + list(e.synonyms))
        for group in self.user.synonyms:
            self.synonym_groups.add(group)
        for key, catid in self.user.catid.items():
            if catid and self._known_catid(catid) is None:
                written = self.user.written.get(key, key)
                raise UserVocabularyError(f"{self.user.path}: catid.{written}: {catid} is not a UCS CatID")

    @classmethod
    def load(cls, user_file: str | None = None, ucs_list: UcsList | None = None) -> "Vocabulary":
        """The project's vocabulary with the user's file (``~`` expanded) and the official list."""
        user = load_user_vocabulary(user_file) if user_file else None
        return cls(user=user, ucs_list=ucs_list)

    # -- tables ---------------------------------------------------------------

    def entry(self, label: str = "", mid: str = "") -> tables.LabelEntry | None:
        return self._by_mid.get(mid) if mid in self._by_mid else self._by_name.get(label.strip().lower())

    def catid_of(self, entry: tables.LabelEntry) -> str:
        """The label's CatID after the user's overrides; "" when none. Always a plain UCS CatID."""
        for key in (entry.mid, entry.label.lower()):
            if key in self.user.catid:
                return self.user.catid[key]
        return entry.catid

    def _user_says_no_catid(self, entry: tables.LabelEntry) -> bool:
        return any(self.user.catid.get(key, None) == "" for key in (entry.mid, entry.label.lower()))

    def user_category_of(self, entry: tables.LabelEntry) -> str:
        """The "-UserCategory" suffix the user's [catid] override gave the label; "" when none."""
        for key in (entry.mid, entry.label.lower()):
            if key in self.user.catid:
                return self.user.user_category.get(key, "")
        return ""

    def _known_catid(self, catid: str) -> tables.CatInfo | None:
        if self.ucs_list and catid in self.ucs_list:
            e = self.ucs_list.get(catid)
            return tables.CatInfo(e.CatID, e.Category, e.SubCategory)
        return self._catids.get(catid)

    def cat_info(self, catid: str) -> dict[str, str]:
        info = self._known_catid(catid.partition("-")[0])
        if info is None:
            return {"CatID": catid, "Category": "", "SubCategory": ""}
        return {"CatID": catid, "Category": info.Category, "SubCategory": info.SubCategory}

    def _broader_terms(self, entry: tables.LabelEntry) -> list[str]:
        out: list[str] = []
        for name in entry.broader:
            parent = self._by_name.get(name.lower())
            out.extend(parent.terms if parent else tables.terms_of(name))
        return out

    def _terms(self, label: Label) -> list[str]:
        entry = self.entry(label.label, label.mid)
        return list(entry.terms) if entry else tables.terms_of(label.label)

    # -- describe -------------------------------------------------------------

    def sounds(self, labels: Sequence[Label], rules: Rules = DEFAULT_RULES) -> Sounds:
        """The labels grouped by branch of the ontology: the main sound and a second one."""
        return find_sounds(labels, self.branches, rules)

    def describe(self, labels: Sequence[Label], existing_keywords: Sequence[str] = (), *,
                 expand: bool = True, max_keywords: int = 40, rules: Rules = DEFAULT_RULES) -> Description:
        """What the labels say about a file: everything from the main sound (and the second
        one when it is really there), nothing from a weak label of another branch.

        The official UCS list's synonyms of the CatID are never added as
        keywords: they cover the whole category (those of TEST name every test
        signal), so they would give a file words that contradict what it holds.
        """
        sounds = self.sounds(labels, rules)
        out = Description(sounds=sounds)
        chosen = self._category_label(sounds.main) if sounds.main else None
        if chosen is not None:
            catid = self.catid_of(chosen)
            info = self.cat_info(catid)
            out.CatID, out.Category, out.SubCategory = info["CatID"], info["Category"], info["SubCategory"]
            out.UserCategory = self.user_category_of(chosen)

        kw = _Keywords(self.user.ban, max_keywords)
        for word in existing_keywords:
            kw.add(word, keep=True)
        # words only from what each sound is and does (never a neighbour in its branch: a duck's
        # goose), and only from a label sure enough: a wrong keyword costs trust in every search
        kept = [lb for s in sounds.written for lb in wording.sound_labels(s, self.branches)
                if lb.probability >= rules.keyword_floor
                or (lb in s.path and lb.probability >= rules.path_keyword_floor
                    and s.score(rules) >= rules.keyword_floor)]
        if sounds.main is None:
            # measures only (the descriptor engine): they are what is known of the file
            kept = [lb for lb in labels if lb.probability >= MIN_PROBABILITY]
        for lb in kept:
            for term in self._terms(lb):
                kw.add(term)
        if expand:
            for lb in kept:
                for term in self._terms(lb):
                    for word in self.expand_term(term):
                        kw.add(word, synonym=True)
        for lb in kept:
            entry = self.entry(lb.label, lb.mid)
            if entry:
                for term in self._broader_terms(entry):
                    kw.add(term)
        if expand:
            for word in existing_keywords:
                for other in self.expand_term(word):
                    kw.add(other, synonym=True)
        for lb in labels:
            if lb.mid.startswith(DESCRIPTOR_PREFIX) and lb.label in QUALITY_FLAGS:
                kw.add(lb.label.lower())
        out.keywords = kw.words
        out.synonyms_added = kw.synonyms
        if sounds.main is not None:
            out.description, out.fxname = wording.describe(sounds, self.branches)
        else:
            measured = [lb.label.lower() for lb in kept if lb.label not in QUALITY_FLAGS]
            out.description = ", ".join(measured[:3]).capitalize()
        return out

    def _category_label(self, sound: Sound) -> tables.LabelEntry | None:
        """The label that files the main sound: the most specific of its path that has a CatID,
        else the branch's top class (Animal for Animal, Domestic animals); never a label of
        another branch."""
        for lb in reversed(sound.path):
            entry = self.entry(lb.label, lb.mid)
            if entry is not None and self.catid_of(entry):
                return entry
            if entry is not None and self._user_says_no_catid(entry):
                return None     # the user's vocabulary files this sound nowhere
        top = self._by_name.get(sound.top)
        return top if top is not None and self.catid_of(top) else None

    # -- search and lookup ----------------------------------------------------

    def expand_term(self, word: str) -> list[str]:
        """The word's synonyms for search-time expansion; banned terms are neither given nor expanded."""
        ban = self.user.ban
        if not ban:
            return self.synonym_groups.expand(word)
        if normalise(word) in ban:
            return []
        return [w for w in self.synonym_groups.expand(word) if normalise(w) not in ban]

    def parse_ucs_filename(self, filename: str) -> UcsName | None:
        known = self.ucs_list.entries if self.ucs_list else self._catids
        return parse_ucs_filename(filename, known)

    def explain(self, catid: str) -> str:
        return self.ucs_list.explain(catid) if self.ucs_list else ""

    def lookup(self, text: str) -> dict:
        """How a label, a CatID or a word is mapped: what `sidecar vocab` prints."""
        query = " ".join(text.split())
        catid = self._match_catid(query)
        if catid:
            return self._lookup_catid(query, catid)
        entry = self.entry(query, query)
        if entry:
            return self._lookup_label(query, entry)
        return self._lookup_word(query)

    def _match_catid(self, query: str) -> str:
        base, dash, suffix = query.partition("-")
        pool = self.ucs_list.entries if self.ucs_list else self._catids
        if base in pool:
            return query
        if self.entry(query) is None:   # "Dog" is a label; "anmldog" is a CatID
            folded = {k.lower(): k for k in pool}
            if base.lower() in folded:
                return folded[base.lower()] + dash + suffix
        return ""

    def _lookup_label(self, query: str, entry: tables.LabelEntry) -> dict:
        catid = self.catid_of(entry)
        result = {"query": query, "kind": "label", "label": entry.label, "mid": entry.mid,
                  **self.cat_info(catid),
                  "alternatives": [self.cat_info(a) for a in entry.alternatives if a != catid],
                  "broader": list(entry.broader), "terms": list(entry.terms),
                  "synonyms": self._label_synonyms(entry)}
        if self.user_category_of(entry):
            result["UserCategory"] = self.user_category_of(entry)
        if not catid:
            result["note"] = entry.note or "none: the user's vocabulary gives this label no CatID"
        elif catid != entry.catid:
            result["note"] = f"CatID set by {self.user.path or 'the user vocabulary'}"
        return result

    def _label_synonyms(self, entry: tables.LabelEntry) -> list[str]:
        out: list[str] = []
        for term in entry.terms:
            out += [w for w in self.expand_term(term) if w not in out and w not in entry.terms]
        return out

    def _lookup_catid(self, query: str, catid: str) -> dict:
        base = catid.partition("-")[0]
        best = [e.label for e in self._entries if self.catid_of(e) == base]
        alt = [e.label for e in self._entries if base in e.alternatives and self.catid_of(e) != base]
        result = {"query": query, "kind": "catid", **self.cat_info(catid),
                  "labels": best, "alternative_for": alt}
        if self.ucs_list and base in self.ucs_list:
            result["explanation"] = self.ucs_list.explain(base)
            result["ucs_synonyms"] = self.ucs_list.synonyms(base)
            result["names"] = self.ucs_list.names(base)
        return result

    def _lookup_word(self, query: str) -> dict:
        key = query.lower()
        labels = [e for e in self._entries if key in e.terms or key in e.synonyms]
        result = {"query": query, "kind": "word", "word": query, "synonyms": self.expand_term(query),
                  "labels": [e.label for e in labels],
                  "CatIDs": list(dict.fromkeys(c for c in (self.catid_of(e) for e in labels) if c)),
                  "banned": normalise(key) in self.user.ban}
        if self.ucs_list:
            result["ucs_CatIDs"] = [c for c, e in self.ucs_list.entries.items()
                                    if key in (s.lower() for s in e.Synonyms)]
        return result


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The project's vocabulary alone: no user file, no official UCS list."""
    return Vocabulary()
