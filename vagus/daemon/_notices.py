"""Logging what the pipeline reports, once per kind and then at most once a minute.

A poisoned stream can produce a notice per message; the log gets the first
one of each (device, kind, reason) at once and afterwards one line per
`REPEAT_S` with the count so far, never the offending content.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable

from vagus.pipeline import Notice, NoticeKind

REPEAT_S = 60.0
"""Least time between two log lines about the same kind of notice."""


class RateLimit:
    """Says whether a kind of log line may be written now: the first time, then once per
    ``every_s`` (the lines in between are only counted by the caller)."""

    def __init__(self, clock: Callable[[], float], every_s: float = REPEAT_S) -> None:
        self._clock = clock
        self._every_s = every_s
        self._logged_at: dict[Hashable, float] = {}

    def due(self, key: Hashable) -> bool:
        """True (and the clock restarts for ``key``) when ``key`` may be logged now."""
        now = self._clock()
        last = self._logged_at.get(key)
        if last is not None and now - last < self._every_s:
            return False
        self._logged_at[key] = now
        return True


class NoticeLog:
    """Counts notices and logs them rate-limited (see the module docstring)."""

    def __init__(self, log: logging.Logger, *, clock: Callable[[], float] = time.monotonic):
        self._log = log
        self._limit = RateLimit(clock)
        self.counts: dict[tuple[str, str, str], int] = {}

    def add(self, notice: Notice) -> None:
        """Count ``notice``; log it unless its kind was logged less than `REPEAT_S` ago."""
        key = (notice.device, str(notice.kind), notice.reason)
        total = self.counts[key] = self.counts.get(key, 0) + notice.count
        if not self._limit.due(key):
            return
        device, kind = notice.device, notice.kind
        if kind is NoticeKind.DROPPED:
            self._log.warning("%s: beats dropped (%s), %d so far", device, notice.reason, total)
        elif kind is NoticeKind.SEGMENT:
            self._log.info(
                "%s: beat times jumped; a new recording starts (%d so far)", device, total
            )
        elif kind is NoticeKind.FEEDBACK:
            self._log.warning("%s: feedback refused (%s), %d so far", device, notice.reason, total)
        elif kind is NoticeKind.QUARANTINED:
            self._log.error("%s: quarantined after an error: %s", device, notice.reason)
        else:
            self._log.info("%s: out of quarantine, starting afresh", device)

    def once(self, key: str, message: str) -> None:
        """Log ``message`` as an error unless ``key`` was logged less than `REPEAT_S` ago."""
        if self._limit.due((key,)):
            self._log.error("%s", message)
