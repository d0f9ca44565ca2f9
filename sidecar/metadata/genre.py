"""A genre field is music's, not a UCS category.

RIFF INFO IGNR, ID3 TCON, Vorbis GENRE and MP4 ©gen hold a genre ("Blues") that another
tool or a person wrote. The record's Category is mirrored into an empty one, as UCS tools
do, so players show it; but a genre is never read back as the Category (it would stand in
for the file's UCS category and leave it without a CatID), and one the service did not
write stays whatever the policy or the edit.
"""

from __future__ import annotations

from collections.abc import Iterable

from .merge import Ownership

GENRE_SLOTS = frozenset({"IGNR", "TCON", "GENRE", "\xa9gen"})


def genre_owner(owner: Ownership) -> Ownership:
    """Who may replace a genre: only the service, over a value it wrote itself."""
    return Ownership(ours=owner.ours)


def foreign_genre(held: Iterable[str], owner: Ownership) -> bool:
    """Does one of a file's genre fields hold a genre the service did not write? Then none of
    its genre fields gets the Category: one file, one genre (a WAV holds INFO and ID3)."""
    mine = genre_owner(owner)
    return any(h and not mine.may_replace("Category", h) for h in held)
