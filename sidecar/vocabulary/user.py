"""The user's own vocabulary: a TOML file that adds synonyms, overrides CatIDs and bans terms.

Format (every table optional)::

    # Each key and its list form one group of words that mean the same;
    # a search for any of them finds the others.
    [synonyms]
    applause = ["ovation", "clapping"]

    # A label's CatID, keyed by the label as the classifier names it (or its
    # AudioSet MID). "" means the label gives no CatID.
    [catid]
    "Dog" = "ANMLDog"
    "/m/068hy" = "ANMLMisc"

    # Terms the service never adds as keywords or synonyms. Keywords a person
    # wrote are kept all the same.
    [ban]
    terms = ["chicken"]

The file is named by ``--vocab FILE`` or the ``SIDECAR_VOCAB`` environment variable.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sidecar.vocabulary.errors import VocabularyError


@dataclass
class UserVocabulary:
    synonyms: list[list[str]] = field(default_factory=list)
    catid: dict[str, str] = field(default_factory=dict)   # label name (lower-case) or MID -> CatID
    ban: set[str] = field(default_factory=set)             # lower-case
    path: str = ""


def _strings(value: object, where: str, path: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise VocabularyError(f"{path}: {where} must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def load_user_vocabulary(path: str | Path) -> UserVocabulary:
    path = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise VocabularyError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{path}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"synonyms", "catid", "ban"}
    if unknown:
        raise VocabularyError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}; "
                              "expected [synonyms], [catid], [ban]")
    user = UserVocabulary(path=path)
    for key, section in (("synonyms", data.get("synonyms", {})), ("catid", data.get("catid", {})),
                         ("ban", data.get("ban", {}))):
        if not isinstance(section, dict):
            raise VocabularyError(f"{path}: [{key}] must be a table")
    for word, others in data.get("synonyms", {}).items():
        user.synonyms.append([word.strip()] + _strings(others, f"synonyms.{word}", path))
    for label, catid in data.get("catid", {}).items():
        if not isinstance(catid, str):
            raise VocabularyError(f"{path}: catid.{label} must be a string")
        key = label.strip() if label.strip().startswith("/") else label.strip().lower()
        user.catid[key] = catid.strip()
    user.ban = {t.lower() for t in _strings(data.get("ban", {}).get("terms", []), "ban.terms", path)}
    return user
