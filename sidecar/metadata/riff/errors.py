"""Errors of the RIFF/WAVE container: one class per part, all under ContainerError."""

from __future__ import annotations

from ...errors import ContainerError


class RiffError(ContainerError):
    """The RIFF/RF64 framing is malformed: headers, sizes, duplicates, missing chunks."""


class BextError(RiffError):
    """The bext chunk cannot be read or its values cannot be stored."""


class IXMLError(RiffError):
    """The iXML chunk is empty, too large or not a BWFXML document."""


class InfoError(RiffError):
    """The LIST/INFO chunk is malformed."""


class RiffWriteError(RiffError):
    """Writing the file failed; the original is left as it was."""
