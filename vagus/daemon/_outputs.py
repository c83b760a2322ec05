"""The daemon's outputs, each one object behind `vagus.daemon._feed.Output`.

Each is fed by its own delivery task from its own queue (`_feed`), never
by the engine. Behind that, each keeps its own overflow policy (MQTT:
metrics dropped and counted while the broker is away, triggers, outcomes
and feedback results journalled on disk; InfluxDB: points spooled on disk; files: written in a
worker thread; console: last value wins).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from hrv import BeatBatch, WindowMetrics
from recommender import FeedbackResult, Outcome, Trigger
from vagus.events import DeviceStatus
from vagus.influx import InfluxWriter
from vagus.mqtt import MqttPublisher, TriggerQueueFullError
from vagus.session import SessionWriter

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 2.0
"""Longest the MQTT output waits at shutdown for the broker to take journalled messages
and for its queued metrics to be written."""


class MqttOutput:
    """Metrics, states, battery, triggers, outcomes and feedback results to the broker
    (`vagus.mqtt`)."""

    name = "mqtt"
    blocking = False
    takes_beats = False  # beats go to InfluxDB and session files, not to the broker

    def __init__(self, publisher: MqttPublisher) -> None:
        self.publisher = publisher
        self.refused_triggers = 0
        self._closed = asyncio.Event()

    def beats(self, batch: BeatBatch) -> None:
        """Beats are not published (they go to InfluxDB and session files)."""

    def windows(self, windows: list[WindowMetrics]) -> None:
        self.publisher.publish_metrics_many(windows)

    def trigger(self, trigger: Trigger) -> None:
        """Journal ``trigger``; a full journal refuses it with one error line (and counts)."""
        try:
            self.publisher.publish_trigger(trigger)
        except TriggerQueueFullError as exc:
            self._refused(exc)

    def outcome(self, outcome: Outcome) -> None:
        try:
            self.publisher.publish_outcome(outcome)
        except TriggerQueueFullError as exc:
            self._refused(exc)

    def feedback(self, result: FeedbackResult) -> None:
        """Journal the result for ``<device>/feedback/result``, so the sender sees it was taken."""
        try:
            self.publisher.publish_feedback_result(result)
        except TriggerQueueFullError as exc:
            self._refused(exc)

    def _refused(self, exc: TriggerQueueFullError) -> None:
        if not self.refused_triggers:
            log.error("mqtt: %s; new triggers and outcomes are refused until it drains", exc)
        self.refused_triggers += 1

    def status(self, status: DeviceStatus) -> None:
        if status.battery_pct is not None:
            self.publisher.publish_battery(status.device, status.battery_pct, status.t_s)

    async def run(self) -> None:
        """Publish until `close` is done, then disconnect (the publisher says "offline").

        Returning then, not at cancellation, spares the supervisor's shutdown its wait for
        outputs finishing their own last flush: the publisher never finishes by itself.
        """
        publishing = asyncio.create_task(self.publisher.run(), name="mqtt-publisher")
        closed = asyncio.create_task(self._closed.wait(), name="mqtt-publisher.closed")
        try:
            await asyncio.wait([publishing, closed], return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            publishing.cancel()
            await asyncio.wait([publishing, closed])
        if not publishing.cancelled() and (error := publishing.exception()) is not None:
            raise error

    async def close(self) -> None:
        """Give the broker a moment to take journalled triggers and the queued metrics (the
        last windows of every device, at a stop); the journal keeps the rest."""
        try:
            if self.publisher.connected.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CLOSE_TIMEOUT_S):
                        await self.publisher.wait_delivered()
                        await self.publisher.wait_metrics_written()
        finally:
            self._closed.set()
        if self.publisher.pending_metrics:
            log.warning(
                "mqtt: %d metrics messages not sent at the stop (not written within %.0f s)",
                self.publisher.pending_metrics,
                CLOSE_TIMEOUT_S,
            )
        if self.publisher.dropped_metrics:
            log.warning(
                "mqtt: %d metrics messages dropped (queue full: broker away or too slow)",
                self.publisher.dropped_metrics,
            )
        if self.refused_triggers:
            log.warning("mqtt: %d triggers/outcomes refused (journal full)", self.refused_triggers)
        if self.publisher.pending_durable:
            log.warning(
                "mqtt: %d triggers/outcomes kept on disk for the next start",
                self.publisher.pending_durable,
            )


class InfluxOutput:
    """Beats, windows, triggers, outcomes, feedback and device status to InfluxDB
    (`vagus.influx`). Feedback is stamped with ``clock`` (the time it was taken)."""

    name = "influx"
    blocking = False

    def __init__(self, writer: InfluxWriter, *, clock: Callable[[], float] = time.time) -> None:
        self.writer = writer
        self._clock = clock

    def beats(self, batch: BeatBatch) -> None:
        self.writer.put_beats(batch)

    def windows(self, windows: list[WindowMetrics]) -> None:
        self.writer.put_windows(windows)

    def trigger(self, trigger: Trigger) -> None:
        self.writer.put_trigger(trigger)

    def outcome(self, outcome: Outcome) -> None:
        self.writer.put_outcome(outcome)

    def status(self, status: DeviceStatus) -> None:
        self.writer.put_device_status(status)

    def feedback(self, result: FeedbackResult) -> None:
        self.writer.put_feedback(result, self._clock())

    async def run(self) -> None:
        await self.writer.run()

    async def close(self) -> None:
        """Ask the writer to send what it holds; whatever it cannot send stays in its spool."""
        self.writer.stop()


class FilesOutput:
    """CSV session files (`vagus.session`), appended and flushed per batch (in a worker thread).

    Feedback rows are stamped with ``clock`` (when the daemon recorded them).
    """

    name = "files"
    blocking = True

    def __init__(self, writer: SessionWriter, *, clock: Callable[[], float] = time.time) -> None:
        self.writer = writer
        self._clock = clock

    def beats(self, batch: BeatBatch) -> None:
        self.writer.write_beats(batch)

    def windows(self, windows: list[WindowMetrics]) -> None:
        self.writer.write_metrics(windows)

    def trigger(self, trigger: Trigger) -> None:
        self.writer.write_triggers([trigger])

    def outcome(self, outcome: Outcome) -> None:
        self.writer.write_outcomes([outcome])

    def status(self, status: DeviceStatus) -> None:
        """Device status is not part of the session files."""

    def feedback(self, result: FeedbackResult) -> None:
        self.writer.write_feedback([result], t_s=self._clock())

    async def run(self) -> None:
        """Nothing runs in the background: every call writes and flushes."""

    async def close(self) -> None:
        self.writer.close()
