"""The InfluxDB output the daemon runs as one task: queue -> batches -> InfluxDB or the spool.

Feeding: ``put_*`` methods convert records to line protocol and put them on
a bounded `asyncio.Queue` (``settings.queue_size`` inputs: one beat batch,
window, trigger or status each). They never block and never drop: when the
queue is full the input goes straight to the on-disk spool (counted in
``stats.overflows``); points are lost only when the spool is full too
(``stats.points_dropped``, logged as an error).

Batching is done here rather than by influxdb-client's background batching
thread: that thread retries in memory and reports failed batches through
callbacks after the fact, so a batch could be neither stored nor spooled
when the process stops. Here a batch is, at every moment, in memory
(at most ``flush_interval_s`` old), acknowledged by the server, or fsync'd
in the spool.

Outages: a write that fails with no answer, 5xx, 401/403/404, 408 or 429 sends
its batch to the spool; from then on every batch is appended to the spool,
and the spool is written back oldest first after a jittered exponential
backoff, until it is empty again. Other 4xx answers mean the points are
refused: they go to the dead-letter file (see `vagus.influx.spool`) and an
error is logged. Cancelling `run` spools whatever is in memory, including a
batch whose write was under way, before the `CancelledError` propagates;
`stop` ends `run` after at most one more write attempt (``timeout_s``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hrv import BeatBatch, WindowMetrics
from ingest.backoff import backoff_delay
from recommender import FeedbackResult, Outcome, Trigger
from vagus.influx.errors import SpoolFullError, WriteError
from vagus.influx.lines import (
    DeviceStatusLike,
    beat_lines,
    device_status_line,
    feedback_line,
    outcome_line,
    trigger_line,
    window_lines,
)
from vagus.influx.sender import InfluxSender, LineSender
from vagus.influx.settings import InfluxSettings
from vagus.influx.spool import Spool

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WriterStats:
    """Counters of the InfluxDB output (points are lines of line protocol)."""

    points_sent: int = 0
    points_spooled: int = 0
    points_dead_lettered: int = 0
    points_dropped: int = 0
    overflows: int = 0
    failed_writes: int = 0


class InfluxWriter:
    """Batches points and writes them to InfluxDB, spooling to disk while it is unreachable."""

    def __init__(
        self,
        settings: InfluxSettings,
        *,
        sender: LineSender | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.stats = WriterStats()
        self.spool = Spool(
            settings.spool_dir,
            cap_bytes=settings.spool_cap_bytes,
            warn_fraction=settings.spool_warn_fraction,
        )
        self._sender = sender if sender is not None else InfluxSender(settings)
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._queue: asyncio.Queue[list[str]] = asyncio.Queue(settings.queue_size)
        self._buffer: list[str] = []
        self._first_at = 0.0
        self._retry_at = 0.0
        self._attempt = 0
        self._stopping = False

    def put_beats(self, batch: BeatBatch) -> None:
        """Queue one ``beats`` point per beat of ``batch``."""
        self.put_lines(beat_lines(batch))

    def put_windows(self, windows: Iterable[WindowMetrics]) -> None:
        """Queue one ``hrv`` point per window."""
        self.put_lines(window_lines(windows))

    def put_trigger(self, trigger: Trigger) -> None:
        """Queue one ``triggers`` point for ``trigger``."""
        self.put_lines([trigger_line(trigger)])

    def put_outcome(self, outcome: Outcome) -> None:
        """Queue one ``triggers`` point for ``outcome``."""
        self.put_lines([outcome_line(outcome)])

    def put_feedback(self, result: FeedbackResult, t_s: float) -> None:
        """Queue one ``feedback`` point for ``result``, taken at ``t_s``."""
        self.put_lines([feedback_line(result, t_s)])

    def put_device_status(self, status: DeviceStatusLike) -> None:
        """Queue one ``device`` point (battery, connected)."""
        self.put_lines([device_status_line(status)])

    def put_lines(self, lines: list[str]) -> None:
        """Queue lines of line protocol; to the spool when the queue is full. Never blocks."""
        if not lines:
            return
        try:
            self._queue.put_nowait(lines)
        except asyncio.QueueFull:
            self.stats.overflows += 1
            self._spool_lines(lines)

    def stop(self) -> None:
        """Make `run` send (or spool) what is queued and return."""
        self._stopping = True
        if not self._queue.full():
            self._queue.put_nowait([])

    async def run(self) -> None:
        """Write until `stop` (or cancellation, which spools what is in memory)."""
        try:
            while not self._stopping:
                await self._collect()
                await self._flush(drain=not self._stopping)
            self._take_queued()
            await self._flush(drain=False)
        except BaseException:
            self._spool_lines(self._buffer)
            self._buffer = []
            self._take_queued()
            self._spool_lines(self._buffer)
            self._buffer = []
            raise
        finally:
            self._sender.close()

    def _take_queued(self) -> None:
        while not self._queue.empty():
            self._add(self._queue.get_nowait())

    def _add(self, lines: list[str]) -> None:
        if lines and not self._buffer:
            self._first_at = self._clock()
        self._buffer.extend(lines)

    def _wait_s(self) -> float | None:
        deadlines = []
        if self._buffer:
            deadlines.append(self._first_at + self.settings.flush_interval_s)
        if not self.spool.empty:
            deadlines.append(self._retry_at)
        return max(0.0, min(deadlines) - self._clock()) if deadlines else None

    async def _collect(self) -> None:
        """Fill the buffer until a batch is full, the flush interval or a retry is due, or stop."""
        while len(self._buffer) < self.settings.batch_size and not self._stopping:
            self._take_queued()
            wait_s = self._wait_s()
            if len(self._buffer) >= self.settings.batch_size or wait_s == 0.0:
                return
            try:
                async with asyncio.timeout(wait_s):
                    lines = await self._queue.get()
            except TimeoutError:
                return
            self._add(lines)

    async def _flush(self, *, drain: bool) -> None:
        # A batch leaves the buffer only once sent or spooled: cancelling
        # during a send leaves it there for the cancel handler to spool.
        while self._buffer:
            batch = self._buffer[: self.settings.batch_size]
            if self.spool.empty and self._clock() >= self._retry_at:
                if not await self._send(batch):
                    self._spool_lines(batch)
            else:
                self._spool_lines(batch)
            del self._buffer[: len(batch)]
        if drain and not self.spool.empty and self._clock() >= self._retry_at:
            await self._drain_spool()

    async def _drain_spool(self) -> None:
        """Write the spool back oldest first, until it is empty or a write fails."""
        while (chunk := self.spool.peek(self.settings.batch_size)) is not None:
            if not await self._send(chunk.lines):
                return
            self.spool.commit(chunk)
        log.info("InfluxDB spool written back; writing directly again")

    async def _send(self, lines: list[str]) -> bool:
        """Write ``lines``; True when stored or dead-lettered, False when worth retrying later."""
        try:
            await asyncio.to_thread(self._sender.send, lines)
        except WriteError as exc:
            self.stats.failed_writes += 1
            if not exc.retryable:
                path = self.spool.dead_letter(lines, status=exc.status, detail=exc.detail)
                self.stats.points_dead_lettered += len(lines)
                log.error("InfluxDB refused %d points (%s); kept in %s", len(lines), exc, path)
                return True
            delay_s = backoff_delay(
                self._attempt,
                self._rng,
                base_s=self.settings.retry_initial_s,
                cap_s=self.settings.retry_max_s,
            )
            level = logging.WARNING if self._attempt == 0 else logging.INFO
            log.log(level, "%s; spooling to disk, next try in %.1f s", exc, delay_s)
            self._attempt += 1
            self._retry_at = self._clock() + delay_s
            return False
        if self._attempt:
            log.warning("InfluxDB is reachable again after %d failed writes", self._attempt)
        self._attempt = 0
        self.stats.points_sent += len(lines)
        return True

    def _spool_lines(self, lines: list[str]) -> None:
        try:
            self.spool.append(lines)
        except SpoolFullError as exc:
            self.stats.points_dropped += exc.n_lines
            log.error("%s", exc)
            return
        self.stats.points_spooled += len(lines)
