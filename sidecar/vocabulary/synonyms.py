"""Synonym groups: symmetric sets of words, so "applause" finds "clapping" and back.

A word's synonyms are the other members of every group it belongs to; groups are
not merged transitively, which keeps one ambiguous word from chaining two meanings.
"""

from __future__ import annotations

from collections.abc import Iterable


class SynonymGroups:
    def __init__(self) -> None:
        self._groups: list[list[str]] = []
        self._index: dict[str, list[int]] = {}

    def add(self, words: Iterable[str]) -> None:
        group: list[str] = []
        for word in words:
            word = " ".join(word.split())
            if word and word.lower() not in {w.lower() for w in group}:
                group.append(word)
        if len(group) < 2:
            return
        gid = len(self._groups)
        self._groups.append(group)
        for word in group:
            self._index.setdefault(word.lower(), []).append(gid)

    def expand(self, word: str) -> list[str]:
        """The other members of the groups holding word, in group order; [] when none."""
        key = " ".join(word.split()).lower()
        out: list[str] = []
        seen = {key}
        for gid in self._index.get(key, ()):
            for other in self._groups[gid]:
                if other.lower() not in seen:
                    seen.add(other.lower())
                    out.append(other)
        return out

    def __contains__(self, word: str) -> bool:
        return " ".join(word.split()).lower() in self._index
