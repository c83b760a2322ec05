"""The last line of defence: a thread that ends a stuck daemon so systemd can restart it.

Everything else handles failures inside the event loop; this covers the
loop itself stopping: no progress through the inbox for `STALL_S` while
events wait, or a shutdown still running `STOP_DEADLINE_S` after it began.
Then it logs one critical line and exits the process with
`WATCHDOG_EXIT_CODE` (the unit's ``Restart=on-failure`` restarts it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

STALL_S = 120.0
"""No inbox progress for this long while events wait: the pipeline is stuck."""

STOP_DEADLINE_S = 30.0
"""A shutdown still running this long after it began is stuck."""

WATCHDOG_EXIT_CODE = 70
"""Exit code of a daemon ended by its watchdog (EX_SOFTWARE)."""


def exit_now(reason: str) -> None:
    """Log ``reason`` and end the process at once (no cleanup: the loop is stuck)."""
    log.critical("watchdog: %s; exiting with code %d", reason, WATCHDOG_EXIT_CODE)
    logging.shutdown()
    os._exit(WATCHDOG_EXIT_CODE)


class Watchdog:
    """Watches the engine's progress and the shutdown's duration from its own thread."""

    def __init__(
        self,
        *,
        stall_s: float = STALL_S,
        stop_deadline_s: float = STOP_DEADLINE_S,
        period_s: float = 1.0,
        on_stuck: Callable[[str], None] = exit_now,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stall_s = stall_s
        self.stop_deadline_s = stop_deadline_s
        self._period_s = period_s
        self._on_stuck = on_stuck
        self._clock = clock
        self._last = clock()
        self._stop_at: float | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, *, pending: Callable[[], int]) -> None:
        """Start watching; ``pending`` tells how many events wait for the engine."""
        self._last = self._clock()
        self._thread = threading.Thread(
            target=self._watch, args=(pending,), name="watchdog", daemon=True
        )
        self._thread.start()

    def progress(self) -> None:
        """The engine handled an event."""
        self._last = self._clock()

    def stopping(self) -> None:
        """A shutdown began (the first call counts)."""
        if self._stop_at is None:
            self._stop_at = self._clock()

    def finish(self) -> None:
        """The daemon ended: stop watching."""
        self._done.set()

    def _watch(self, pending: Callable[[], int]) -> None:
        while not self._done.wait(self._period_s):
            now = self._clock()
            if self._stop_at is not None and now - self._stop_at > self.stop_deadline_s:
                self._on_stuck(f"shutdown still running after {self.stop_deadline_s:g} s")
                return
            if pending() > 0 and now - self._last > self.stall_s:
                self._on_stuck(f"no progress for {self.stall_s:g} s with events waiting")
                return
