"""The vocabulary: AudioSet labels to UCS CatIDs, keywords and synonyms; UCS file names; the official UCS list."""

from sidecar.vocabulary.errors import UserVocabularyError, VocabularyError
from sidecar.vocabulary.ucs_list import UcsEntry, UcsList
from sidecar.vocabulary.ucs_name import UcsName, parse_ucs_filename
from sidecar.vocabulary.user import UserVocabulary, load_user_vocabulary
from sidecar.vocabulary.vocabulary import (
    MIN_PROBABILITY, Description, Vocabulary, default_vocabulary, limit_keywords,
)

__all__ = [
    "Description", "MIN_PROBABILITY", "UcsEntry", "UcsList", "UcsName", "UserVocabulary", "UserVocabularyError",
    "Vocabulary", "VocabularyError", "default_vocabulary", "limit_keywords", "load_user_vocabulary",
    "parse_ucs_filename",
]
