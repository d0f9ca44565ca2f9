"""What happens to a job when a worker's turn at it ends: the work queue's retry policy.

A worker says how its turn ended (JobEnd: done, failed or paused); `settle` decides, in
one place for both backends, whether the job is done, set aside, or queued again and when.
The backends' queues inherit it and keep only their SQL (finish, retry).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon a failing job is tried again."""

    max_tries: int = 5
    retry_seconds: float = 30.0
    retry_max_seconds: float = 3600.0

    def backoff(self, tries: int) -> float:
        """The wait after the tries-th failure: doubled each time, capped."""
        return min(self.retry_seconds * (2 ** max(tries - 1, 0)), self.retry_max_seconds)


@dataclass(frozen=True)
class JobEnd:
    """How a worker's turn at a job ended."""

    status: str                             # done | failed | paused
    reason: str = ""
    wait: float = 0.0                       # paused: seconds until it is taken up again
    seen: tuple[int, int] | None = None     # paused: the size and mtime the file had
    asked_now: bool = False                 # paused: jobs queued meanwhile go ahead of it

    @classmethod
    def done(cls, reason: str = "") -> "JobEnd":
        return cls("done", reason)

    @classmethod
    def failed(cls, reason: str) -> "JobEnd":
        """The file's fault (or an unexpected error): a try is counted."""
        return cls("failed", reason)

    @classmethod
    def paused(cls, wait: float, reason: str = "", *, seen: tuple[int, int] | None = None,
               asked_now: bool = False) -> "JobEnd":
        """Not the file's fault (a root offline, a file still being written, the engine down):
        taken up again after wait seconds, no try counted."""
        return cls("paused", reason, wait, seen, asked_now)


@dataclass(frozen=True)
class Settled:
    """What the queue made of it."""

    state: str          # done | set_aside | queued
    tries: int          # counted tries so far
    wait: float = 0.0   # queued: seconds until it is taken up again


class SettlesJobs:
    """The retry policy of a work queue; a backend's queue provides finish and retry."""

    def settle(self, path: str, tries: int, end: JobEnd, policy: RetryPolicy) -> Settled:
        """The one decision after a worker's turn: tries is the job's count before this turn."""
        if end.status == "done":
            self.finish(path, True, end.reason)
            return Settled("done", tries)
        if end.status == "paused":
            self.retry(path, end.wait, end.reason, count_try=False, seen=end.seen, asked_now=end.asked_now)
            return Settled("queued", tries, end.wait)
        if end.status != "failed":
            raise ValueError(f"a job's turn ends done, failed or paused, not {end.status!r}")
        tries += 1
        if tries >= policy.max_tries:
            self.finish(path, False, end.reason)
            return Settled("set_aside", tries)
        wait = policy.backoff(tries)
        self.retry(path, wait, end.reason)
        return Settled("queued", tries, wait)
