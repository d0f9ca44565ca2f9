"""The user's own vocabulary: a TOML file that adds synonyms, overrides CatIDs and bans terms.

Format (every table optional)::

    # Each key and its list form one group of words that mean the same;
    # a search for any of them finds the others.
    [synonyms]
    applause = ["ovation", "clapping"]

    # A label's CatID, keyed by the label as the classifier names it (or its
    # AudioSet MID). "" means the label gives no CatID. A "-UserCategory"
    # suffix ("UIBeep-Kitchen") is split off like in UCS file names.
    [catid]
    "Dog" = "ANMLDog"
    "/m/068hy" = "ANMLMisc"

    # Terms the service never adds as keywords or synonyms. Keywords a person
    # wrote are kept all the same.
    [ban]
    terms = ["chicken"]

The file is named by ``--vocab FILE``, the ``SIDECAR_VOCAB`` environment variable or
``[scan] vocabulary`` in the configuration; ``~`` is expanded. Unknown tables, unknown
keys and labels the project does not know are errors, so a typo is never ignored.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sidecar.vocabulary import tables
from sidecar.vocabulary.errors import UserVocabularyError

TABLES = ("synonyms", "catid", "ban")
BAN_KEYS = ("terms",)


@dataclass
class UserVocabulary:
    synonyms: list[list[str]] = field(default_factory=list)
    catid: dict[str, str] = field(default_factory=dict)           # label name (lower-case) or MID -> CatID
    user_category: dict[str, str] = field(default_factory=dict)   # same keys -> the "-UserCategory" suffix
    ban: set[str] = field(default_factory=set)                    # lower-case, single spaces
    path: str = ""
    written: dict[str, str] = field(default_factory=dict)         # catid keys as the file spells them


def normalise(word: str) -> str:
    """The form words are compared in: lower-case, single spaces."""
    return " ".join(word.split()).lower()


def _strings(value: object, where: str, path: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserVocabularyError(f"{path}: {where}: must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def _label_key(label: str, path: str) -> str:
    """The key a [catid] entry is stored under; an error when no label has that name or MID."""
    name = label.strip()
    entries = tables.label_entries()
    if name.startswith("/"):
        if any(e.mid == name for e in entries):
            return name
    elif any(e.label.lower() == name.lower() for e in entries):
        return name.lower()
    raise UserVocabularyError(f"{path}: catid.{label}: no such label (expected a label as the "
                              "classifier names it, such as \"Dog\", or its AudioSet MID)")


def load_user_vocabulary(path: str | Path) -> UserVocabulary:
    path = os.path.expanduser(str(path))
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise UserVocabularyError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UserVocabularyError(f"{path}: not valid TOML: {exc}") from exc
    for key in sorted(set(data) - set(TABLES)):
        near = [t for t in TABLES if t.startswith(key.lower()[:3])]
        hint = f" (did you mean [{near[0]}]?)" if near else ""
        raise UserVocabularyError(f"{path}: {key}: unknown table{hint}; expected "
                                  + ", ".join(f"[{t}]" for t in TABLES))
    for key in TABLES:
        if not isinstance(data.get(key, {}), dict):
            raise UserVocabularyError(f"{path}: {key}: must be a table ([{key}])")
    user = UserVocabulary(path=path)
    for word, others in data.get("synonyms", {}).items():
        user.synonyms.append([word.strip()] + _strings(others, f"synonyms.{word}", path))
    for label, catid in data.get("catid", {}).items():
        if not isinstance(catid, str):
            raise UserVocabularyError(f"{path}: catid.{label}: must be a string (a UCS CatID or \"\")")
        key = _label_key(label, path)
        user.written[key] = label
        plain, _, user_category = catid.strip().partition("-")
        user.catid[key] = plain.strip()
        if user_category.strip():
            user.user_category[key] = user_category.strip()
    ban = data.get("ban", {})
    for key in ban:
        if key not in BAN_KEYS:
            raise UserVocabularyError(f"{path}: ban.{key}: unknown key; expected ban.terms")
    user.ban = {normalise(t) for t in _strings(ban.get("terms", []), "ban.terms", path)}
    return user
