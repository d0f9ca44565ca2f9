"""From classifier labels to UCS CatID, keywords, synonyms and a short description."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sidecar.metadata.record import Label
from sidecar.vocabulary import tables
from sidecar.vocabulary.errors import UserVocabularyError
from sidecar.vocabulary.synonyms import SynonymGroups
from sidecar.vocabulary.ucs_list import UcsList
from sidecar.vocabulary.ucs_name import UcsName, parse_ucs_filename
from sidecar.vocabulary.user import UserVocabulary, load_user_vocabulary, normalise

#: Below this a label is a guess: it gives keywords only when no label is surer, and never a CatID.
MIN_PROBABILITY = 0.1
#: Labels the descriptor engine makes up about the signal, not the source.
DESCRIPTOR_PREFIX = "/x/sidecar/"
#: A label refines its (not top-level) parent when at least this share as probable.
REFINE_RATIO = 0.25
SILENCE = "Silence"
#: A class with this many descendants in the ontology is too broad to name a source.
GENERIC_DESCENDANTS = 20
#: Another label joins the description when at least this share as probable as the first.
DESCRIBE_RATIO = 0.5
#: Labels that describe nothing beside another one.
UNDESCRIPTIVE = ("Silence", "Sound effect", "Inside, small room", "Inside, large room or hall",
                 "Inside, public space", "Outside, urban or manmade", "Outside, rural or natural",
                 "Reverberation", "Echo", "Environmental noise")
#: Descriptor labels that stay keywords beside sound labels: facts an editor searches for.
QUALITY_FLAGS = ("Clipping", "DC offset", "Dual mono")


@dataclass
class Description:
    CatID: str = ""
    Category: str = ""
    SubCategory: str = ""
    UserCategory: str = ""   # a "-UserCategory" suffix the user's [catid] gave with the CatID
    keywords: list[str] = field(default_factory=list)        # best first, existing keywords first
    synonyms_added: list[str] = field(default_factory=list)  # which keywords came from synonym expansion
    description: str = ""                                    # short machine text, e.g. "Dog bark"


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

    def describe(self, labels: Sequence[Label], existing_keywords: Sequence[str] = (), *,
                 expand: bool = True, max_keywords: int = 40) -> Description:
        """What the labels say about a file.

        The official UCS list's synonyms of the CatID are never added as
        keywords: they cover the whole category (those of TEST name every test
        signal), so they would give a file words that contradict what it holds.
        """
        active = self._written_labels(labels)
        out = Description()
        chosen = self._most_specific(active)
        if chosen is not None:
            catid = self.catid_of(chosen)
            info = self.cat_info(catid)
            out.CatID, out.Category, out.SubCategory = info["CatID"], info["Category"], info["SubCategory"]
            out.UserCategory = self.user_category_of(chosen)

        kw = _Keywords(self.user.ban, max_keywords)
        for word in existing_keywords:
            kw.add(word, keep=True)
        entries = [(lb, self.entry(lb.label, lb.mid)) for lb in active]
        for lb, _ in entries:
            for term in self._terms(lb):
                kw.add(term)
        if expand:
            for lb, entry in entries:
                for term in self._terms(lb):
                    for word in self.expand_term(term):
                        kw.add(word, synonym=True)
        for _, entry in entries:
            if entry:
                for term in self._broader_terms(entry):
                    kw.add(term)
        if expand:
            for word in existing_keywords:
                for other in self.expand_term(word):
                    kw.add(other, synonym=True)
        out.keywords = kw.words
        out.synonyms_added = kw.synonyms
        out.description = self._description(active, chosen)
        return out

    @staticmethod
    def _written_labels(labels: Sequence[Label]) -> list[Label]:
        """The labels that give a file words: none under MIN_PROBABILITY, and no descriptor
        adjective (tonal, noisy, bright...) once a label names what sounds."""
        confident = [lb for lb in labels if lb.probability >= MIN_PROBABILITY]
        sounds = [lb for lb in confident if not lb.mid.startswith(DESCRIPTOR_PREFIX)]
        if sounds:
            confident = [lb for lb in confident
                         if not lb.mid.startswith(DESCRIPTOR_PREFIX) or lb.label in QUALITY_FLAGS]
        if any(lb.label != SILENCE for lb in sounds):
            # pauses between ticks are no reason to call a clock silent
            confident = [lb for lb in confident if lb.label != SILENCE]
        return confident

    def _most_specific(self, labels: Sequence[Label]) -> tables.LabelEntry | None:
        """The label that gives the CatID: the most probable of the confident labels with a CatID
        that no other one refines. A top class of the ontology (Animal, Music, Vehicle) gives way
        to any confident descendant (Animal .29 and Domestic animals .25 to Dog .10); a deeper one
        only to a descendant at least a quarter as probable (Speech 1.0 keeps its place against
        Speech synthesizer .14)."""
        entries = [(lb, self.entry(lb.label, lb.mid)) for lb in labels]
        with_catid = [(lb, e) for lb, e in entries if e is not None and self.catid_of(e)]
        if len(with_catid) > 1:
            with_catid = [(lb, e) for lb, e in with_catid if lb.label not in UNDESCRIPTIVE] or with_catid
        refined: set[str] = set()
        for parent_lb, parent in with_catid:
            generic = not parent.broader or parent.label.lower() in self._generic
            for child_lb, child in with_catid:
                if parent.label in child.broader and (
                        generic or child_lb.probability >= REFINE_RATIO * parent_lb.probability):
                    refined.add(parent.label)
        leaves = [(lb, e) for lb, e in with_catid if e.label not in refined]
        if not leaves:
            return None
        return max(leaves, key=lambda pair: pair[0].probability)[1]

    def _description(self, labels: Sequence[Label], first: tables.LabelEntry | None = None) -> str:
        """A short phrase from the most specific labels, the one that gave the CatID first, then
        those nearly as sure: "Dog bark and growling"."""
        known = [(lb, self.entry(lb.label, lb.mid)) for lb in labels if not lb.mid.startswith(DESCRIPTOR_PREFIX)]
        if first is not None:
            known.sort(key=lambda pair: pair[1] is not first)   # stable: the rest keep their order
        if len(known) > 1:
            known = [(lb, e) for lb, e in known if lb.label not in UNDESCRIPTIVE] or known
        if known:
            lead = known[0][0].probability
            known = known[:1] + [(lb, e) for lb, e in known[1:] if lb.probability >= DESCRIBE_RATIO * lead]
        names = {lb.label.lower() for lb, _ in known}
        broader_of_others = {b.lower() for _, e in known if e for b in e.broader}
        phrases: list[str] = []
        for lb, entry in known:
            if lb.label.lower() in broader_of_others and entry is not first:
                continue   # "Dog" is said by "Dog bark"
            terms = self._terms(lb)
            if not terms:
                continue
            phrase = terms[0]
            if entry and entry.broader and entry.broader[0].lower() in names:
                parent = self._by_name.get(entry.broader[0].lower())
                head = parent.terms[0] if parent and parent.terms else entry.broader[0].lower()
                # "dog bark", never "domestic animals dog" nor "animal growling"
                if " " not in head and head not in phrase and entry.broader[0].lower() not in self._generic:
                    phrase = f"{head} {phrase}"
            if phrase not in phrases:
                phrases.append(phrase)
            if len(phrases) == 3:
                break
        if not phrases:     # measures only (the descriptor engine): say what was measured
            measured = [lb.label.lower() for lb in labels if lb.label not in QUALITY_FLAGS]
            return ", ".join(measured[:3]).capitalize()
        text = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
        return text[:1].upper() + text[1:]

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
