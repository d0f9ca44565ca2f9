"""The vocabulary's own errors."""

from __future__ import annotations

from sidecar.errors import ConfigError, SidecarError


class VocabularyError(SidecarError, ValueError):
    """A vocabulary file (user TOML, official UCS list) that cannot be used; str() names file and reason."""


class UserVocabularyError(VocabularyError, ConfigError):
    """The user's vocabulary file cannot be used: a configuration error (exit status 2)."""
