"""One root for every error the project raises, so callers can catch ours and only ours."""

from __future__ import annotations


class SidecarError(Exception):
    """Root of the project's errors."""


class ConfigError(SidecarError):
    """The configuration or the command line asks for something impossible (exit status 2)."""


class ContainerError(SidecarError):
    """A metadata container (a chunk, a tag block, a sidecar document) is malformed or unwritable."""


class AudioError(SidecarError):
    """Audio that cannot be decoded: not audio, truncated, or of an unsupported encoding."""


class ClassifierError(SidecarError):
    """A classifier could not answer (unreachable, refused, or answered nonsense)."""


class VerifyError(SidecarError):
    """The audio of a written file differs from the original; the write was undone."""


class QueryError(SidecarError, ValueError):
    """A search query that cannot be parsed."""


class FileError(SidecarError):
    """A failure tied to one file and one stage; its str() is the one line a user sees."""

    def __init__(self, path: str, stage: str, reason: str):
        super().__init__(path, stage, reason)
        self.path = str(path)
        self.stage = stage
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.stage} failed: {self.reason}"


class StoreError(SidecarError):
    """The index database cannot be opened, read or written; str() names it (never a password)."""


class IndexUnavailable(StoreError, ConfigError):
    """The index's database server cannot be reached (str() names it, never its password). At start
    that is the configuration's matter (exit status 2); a running daemon waits for it instead."""


def exit_status(exc: SidecarError) -> int:
    """The exit status of a command stopped by exc: 2 for a configuration error, else 1."""
    return 2 if isinstance(exc, ConfigError) else 1
