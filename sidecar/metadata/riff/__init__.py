"""RIFF/WAVE, RF64 and BW64 metadata: bext, iXML and LIST/INFO, read and written safely.

    read(path) -> Record
    read_chunks(path) -> dict             (for `sidecar show`)
    write(path, record, *, id3=None) -> WriteResult
    audio_span(path) -> (offset, length)  (the `data` payload)
"""

from __future__ import annotations

from .errors import BextError, InfoError, IXMLError, RiffError, RiffWriteError
from .reader import audio_span, read, read_chunks
from .writer import WriteResult, write

SUFFIXES = (".wav", ".wave", ".bwf", ".rf64", ".bw64")

__all__ = [
    "BextError", "IXMLError", "InfoError", "RiffError", "RiffWriteError",
    "SUFFIXES", "WriteResult", "audio_span", "read", "read_chunks", "write",
]
