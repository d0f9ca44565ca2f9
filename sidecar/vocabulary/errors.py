"""The vocabulary's own error."""

from __future__ import annotations

from sidecar.errors import SidecarError


class VocabularyError(SidecarError, ValueError):
    """A vocabulary file (user TOML, official UCS list) that cannot be used; str() names file and reason."""
