"""Each output's own bounded queue of `Emissions`, and the task that delivers from it.

Overflow policy (an output slower than the pipeline, or failing): the
oldest item's beats, windows and status changes are dropped and counted;
its triggers, outcomes and feedback results are carried into the next item,
never dropped.
Delivery failures stay here: logged once per kind of error (with its cause),
counted, retried with capped backoff; triggers, outcomes and feedback
results of a failed delivery are retried, the rest is dropped and counted. The pipeline never
waits for an output and never sees its errors.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from hrv import BeatBatch, WindowMetrics
from ingest.backoff import backoff_delay
from recommender import FeedbackResult, Outcome, Trigger
from vagus.errors import UserError
from vagus.events import DeviceStatus
from vagus.pipeline import Emissions

log = logging.getLogger(__name__)

FEED_MIN_ITEMS = 1024
"""Smallest output queue, in pipeline emissions (one per source event)."""

FEED_ITEMS_PER_DEVICE = 16
"""Output queue room per device seen: 16 events each (e.g. 16 s of one-second batches)."""

RETRY_BASE_S = 0.5
RETRY_CAP_S = 30.0


class Output(Protocol):
    """Where the daemon sends what the pipeline made.

    The feeding methods are called by the output's own delivery task (in a
    worker thread when ``blocking`` is true, e.g. file writes); they may
    raise, which the delivery task handles. ``run`` is the output's
    background work (a connection), restarted when it fails. An output with
    a class attribute ``takes_beats = False`` is not handed beats (it saves
    making a `BeatBatch` per message of a batched intake).
    """

    name: str
    blocking: bool

    def beats(self, batch: BeatBatch) -> None: ...
    def windows(self, windows: list[WindowMetrics]) -> None: ...
    def trigger(self, trigger: Trigger) -> None: ...
    def outcome(self, outcome: Outcome) -> None: ...
    def status(self, status: DeviceStatus) -> None: ...
    def feedback(self, result: FeedbackResult) -> None: ...
    async def run(self) -> None: ...
    async def close(self) -> None: ...


@dataclass(slots=True)
class FeedCounters:
    """What one output lost or failed at."""

    dropped_windows: int = 0
    dropped_beats: int = 0
    failures: dict[str, int] = field(default_factory=dict)


class OutputFeed:
    """A bounded queue of emissions for one output (see the module docstring)."""

    def __init__(self, capacity: int = FEED_MIN_ITEMS) -> None:
        self.capacity = capacity
        self.counters = FeedCounters()
        self._items: deque[Emissions] = deque()
        self._ready = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def size_for(self, devices: int) -> None:
        """Grow the queue with the devices seen (it never shrinks)."""
        self.capacity = max(self.capacity, FEED_ITEMS_PER_DEVICE * devices)

    def put(self, item: Emissions) -> None:
        """Queue ``item``; never blocks (see the overflow policy)."""
        if len(self._items) >= self.capacity:
            self._drop_oldest()
        self._items.append(item)
        self._ready.set()

    def put_first(self, item: Emissions) -> None:
        """Queue ``item`` ahead of the rest (a retry)."""
        self._items.appendleft(item)
        self._ready.set()

    def close(self) -> None:
        """No more items: `get` returns None once the queue is empty."""
        self._closed = True
        self._ready.set()

    async def get(self) -> Emissions | None:
        """The next item, or None when closed and empty."""
        while not self._items:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def _drop_oldest(self) -> None:
        old = self._items.popleft()
        self.counters.dropped_windows += len(old.windows)
        self.counters.dropped_beats += old.beat_count()
        if old.triggers or old.outcomes or old.feedback:
            durable = _durable(old)
            if self._items:
                nxt = self._items[0]
                nxt.triggers[:0] = durable.triggers
                nxt.outcomes[:0] = durable.outcomes
                nxt.feedback[:0] = durable.feedback
            else:
                self._items.append(durable)


def deliver(output: Output, item: Emissions) -> None:
    """Hand one item to ``output``'s feeding methods: beats, windows, status, then the rest."""
    if getattr(output, "takes_beats", True):
        for batch in item.beat_batches():
            output.beats(batch)
    if item.windows:
        output.windows(item.windows)
    for status in item.statuses:
        output.status(status)
    deliver_durable(output, item)


def deliver_durable(output: Output, item: Emissions) -> None:
    """The triggers, outcomes and feedback results of ``item``."""
    for trigger in item.triggers:
        output.trigger(trigger)
    for outcome in item.outcomes:
        output.outcome(outcome)
    for result in item.feedback:
        output.feedback(result)


def _durable(item: Emissions) -> Emissions:
    """The part of ``item`` that is never dropped: triggers, outcomes, feedback results."""
    return Emissions(triggers=item.triggers, outcomes=item.outcomes, feedback=item.feedback)


async def run_feed(output: Output, feed: OutputFeed, rng: random.Random | None = None) -> None:
    """Deliver ``feed`` to ``output`` until the feed is closed and empty.

    A failed delivery is logged once per kind of error and then counted;
    after a jittered backoff from ``RETRY_BASE_S`` to ``RETRY_CAP_S`` the next item is
    tried, with the failed item's triggers, outcomes and feedback results first. A `UserError`
    (the output refuses for good) switches the output off.
    """
    rng = rng or random.Random()
    failing = 0
    while (item := await feed.get()) is not None:
        durable_only = not (item.beats or item.beat_columns or item.windows or item.statuses)
        try:
            if output.blocking:
                await asyncio.to_thread(deliver, output, item)
            else:
                deliver(output, item)
        except UserError as exc:
            log.error("output %s switched off: %s", output.name, exc)
            feed.counters.failures["switched off"] = 1
            return
        except Exception as exc:  # an output's failure stays inside its own task
            if count_failure(feed.counters, exc):
                log.error("output %s failed: %s (retrying with backoff)", output.name, exc)
            if item.triggers or item.outcomes or item.feedback:
                feed.put_first(_durable(item))
            if not durable_only:
                feed.counters.dropped_windows += len(item.windows)
                feed.counters.dropped_beats += item.beat_count()
            await asyncio.sleep(backoff_delay(failing, rng, base_s=RETRY_BASE_S, cap_s=RETRY_CAP_S))
            failing += 1
            continue
        if failing:
            log.warning("output %s delivers again after %d failed attempts", output.name, failing)
            failing = 0


def count_failure(counters: FeedCounters, exc: Exception) -> bool:
    """Count ``exc`` under its kind; True when it is the first of that kind (to be logged)."""
    kind = _kind(exc)
    seen = counters.failures.get(kind, 0)
    counters.failures[kind] = seen + 1
    return seen == 0


def _kind(exc: Exception) -> str:
    """A failure's kind for logging once: the error type and, for OS errors, the errno name."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{type(exc).__name__}[{errno.errorcode.get(exc.errno, exc.errno)}]"
    return type(exc).__name__
