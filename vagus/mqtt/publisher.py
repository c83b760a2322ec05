"""The MQTT publisher: one task the daemon runs; other tasks feed it without blocking.

Feeding and backpressure:

- Metrics go through a bounded queue of ``settings.queue_size`` (default 256,
  about 20 min of one strap at one window per 5 s) or `METRICS_PER_DEVICE`
  per device seen, whichever is more, so a step's burst of windows from
  thousands of devices fits. When it is full — typically while the broker is
  away — the new window is dropped and counted in ``dropped_metrics``;
  metrics are QoS 0 and a later window supersedes them. Every metric queued
  is handed to the socket at once: buffers of `METRICS_CHUNK` packets
  (`vagus.mqtt.packets`) and the last one published and awaited (the socket
  writes in order, so the others are out by then). Awaiting a chunk at a
  time let the engine run between two chunks: thousands of windows coming
  due together then waited seconds here.
- Triggers, outcomes and feedback results are never dropped: `publish_trigger`,
  `publish_outcome` and `publish_feedback_result` append them to the persisted
  `TriggerJournal` (fsync'ed) and the task delivers them with QoS 1, acking each after the broker's
  PUBACK. After a reconnect, everything still pending is sent again with the
  same id, so a subscriber may see a duplicate (same id) but never a loss.
- Retained messages (status, state, battery, discovery) are latest-wins per
  topic and all of them are re-published after every reconnect, so a broker
  that lost its retained store (restart without persistence) is repaired.
  They go out `RETAINED_CHUNK` at a time, awaiting the PUBACKs of a chunk
  together (thousands of new devices' discovery would otherwise take a round
  trip each), in turn with the metrics queued meanwhile, so that neither
  starves.

Reconnect: capped, jittered exponential backoff (`backoff_delay`); a broker
that refuses the login raises `BrokerRefusedError` out of `run`, and a TLS
failure no retry fixes `BrokerTlsError` (see `vagus.mqtt.failures`); neither
is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping

import aiomqtt
import paho.mqtt.client as paho

from hrv import WindowMetrics
from ingest.backoff import backoff_delay
from recommender import FeedbackResult, Outcome, StressLevel, Trigger, stress_level
from vagus import __version__
from vagus.mqtt.discovery import discovery_messages, legacy_removal_messages, removal_messages
from vagus.mqtt.failures import TlsAlerts, classify, client_logger, close_leaked_sockets
from vagus.mqtt.journal import JournalEntry, TriggerJournal
from vagus.mqtt.packets import publish_packets
from vagus.mqtt.payloads import (
    Message,
    battery_json,
    encode,
    feedback_result_json,
    metrics_payload,
    outcome_json,
    state_json,
    trigger_json,
)
from vagus.mqtt.retry import is_retryable
from vagus.mqtt.settings import MqttSettings
from vagus.mqtt.topics import Topics

log = logging.getLogger(__name__)

_SHUTDOWN_TIMEOUT_S = 2.0

METRICS_PER_DEVICE = 16
"""Metrics queue room per device seen (16 windows: 80 s of 5-s steps)."""

METRICS_CHUNK = 512
"""Metrics messages in one buffer of packets for the socket (about 300 kB)."""

RETAINED_CHUNK = 256
"""Retained messages published before waiting for their PUBACKs."""

Sleep = Callable[[float], Awaitable[None]]


class MqttPublisher:
    """Publishes metrics, states, triggers, outcomes and discovery for every device."""

    def __init__(
        self,
        settings: MqttSettings,
        journal: TriggerJournal,
        *,
        environ: Mapping[str, str],
        rng: random.Random,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._password = settings.resolve_password(environ)
        self._journal = journal
        self._rng = rng
        self._sleep = sleep
        self._tls_alerts = TlsAlerts()
        self._logger = client_logger(settings.client_id, self._tls_alerts)
        self._topics = Topics(prefix=settings.prefix)
        self._metrics: deque[Message] = deque()
        self._devices: set[str] = set()
        self._retained: dict[str, Message] = {}
        self._dirty: dict[str, Message] = {}
        self._levels: dict[str, StressLevel] = {}
        self._announced: set[str] = set()
        self._wake = asyncio.Event()
        self._delivered = asyncio.Event()
        self._metrics_written = asyncio.Event()
        self.connected = asyncio.Event()
        self.dropped_metrics = 0

    @property
    def topics(self) -> Topics:
        """The topic names in use."""
        return self._topics

    @property
    def pending_metrics(self) -> int:
        """Metrics messages queued, not yet handed to the socket."""
        return len(self._metrics)

    async def wait_metrics_written(self) -> None:
        """Return once every metrics message queued so far has been handed to the socket."""
        while self._metrics:
            self._metrics_written.clear()
            await self._metrics_written.wait()

    @property
    def pending_durable(self) -> int:
        """Triggers and outcomes not yet acknowledged by the broker."""
        return len(self._journal)

    async def wait_delivered(self) -> None:
        """Return once every trigger and outcome put so far has been acknowledged by the broker."""
        while self._journal.pending():
            self._delivered.clear()
            await self._delivered.wait()

    def publish_metrics(self, window: WindowMetrics) -> None:
        """Queue one window's metrics (dropped and counted when the queue is full)."""
        self.publish_metrics_many((window,))

    def publish_metrics_many(self, windows: Iterable[WindowMetrics]) -> None:
        """Queue windows' metrics, in order (each dropped and counted when the queue is full)."""
        topics, devices, levels = self._topics, self._devices, self._levels
        for window in windows:
            device = window.device
            if device not in devices:
                devices.add(device)
                self._announce(device)
            room = max(self._settings.queue_size, METRICS_PER_DEVICE * len(devices))
            if len(self._metrics) < room:
                payload = metrics_payload(window)
                self._metrics.append(
                    Message(topic=topics.metrics(device), payload=payload, qos=0, retain=False)
                )
            else:
                self.dropped_metrics += 1
            level = stress_level(window.stress)
            if level is not None and levels.get(device) is not level:
                levels[device] = level
                payload = encode(state_json(device, level, window.t_end_s, window.stress))
                self._set_retained(topics.state(device), payload)
        self._wake.set()

    def publish_battery(self, device: str, battery_pct: int, t_s: float) -> None:
        """Set the retained battery level of ``device``."""
        self._announce(device)
        self._set_retained(
            self._topics.battery(device), encode(battery_json(device, battery_pct, t_s))
        )
        self._wake.set()

    def publish_trigger(self, trigger: Trigger) -> None:
        """Persist ``trigger`` for delivery (QoS 1, never dropped)."""
        payload = encode(trigger_json(trigger))
        self._journal.put(
            JournalEntry(id=trigger.id, topic=self._topics.trigger(trigger.device), payload=payload)
        )
        self._wake.set()

    def publish_outcome(self, outcome: Outcome) -> None:
        """Persist ``outcome`` for delivery (QoS 1, never dropped)."""
        payload = encode(outcome_json(outcome))
        self._journal.put(
            JournalEntry(
                id=f"outcome:{outcome.trigger_id}",
                topic=self._topics.outcome(outcome.device),
                payload=payload,
            )
        )
        self._wake.set()

    def publish_feedback_result(self, result: FeedbackResult) -> None:
        """Persist what became of a person's answer for delivery on ``<device>/feedback/result``
        (QoS 1, never dropped), so the sender sees it was taken (or why not)."""
        payload = encode(feedback_result_json(result))
        self._journal.put(
            JournalEntry(
                id=f"feedback:{result.trigger_id}:{result.verdict.value}:{result.status.value}",
                topic=self._topics.feedback_result(result.device),
                payload=payload,
            )
        )
        self._wake.set()

    def forget(self, device: str) -> None:
        """Remove ``device``: clear its retained topics and its Home Assistant entities."""
        self._levels.pop(device, None)
        self._devices.discard(device)
        self._announced.discard(device)
        for topic in (self._topics.state(device), self._topics.battery(device)):
            self._set_retained(topic, b"")
        prefix = self._settings.discovery_prefix
        if prefix is not None:
            for message in removal_messages(prefix, device):
                self._set_retained(message.topic, b"")
        self._wake.set()

    async def run(self) -> None:
        """Connect, publish, reconnect with backoff; returns only by cancellation or refusal."""
        attempt = 0
        while True:
            try:
                async with self._client() as client:
                    attempt = 0
                    self.connected.set()
                    log.info("mqtt connected to %s:%d", self._settings.host, self._settings.port)
                    await self._serve(client)
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # Leaving the client while cancelled can raise MqttError, which would
                    # replace the CancelledError: a retry here would swallow the cancellation.
                    raise asyncio.CancelledError from exc
                close_leaked_sockets(exc)
                error = classify(self._settings, exc, tls_alert=self._tls_alerts.take())
                if not is_retryable(error):
                    raise error from exc
                delay_s = backoff_delay(
                    attempt,
                    self._rng,
                    base_s=self._settings.backoff_base_s,
                    cap_s=self._settings.backoff_cap_s,
                )
                attempt += 1
                log.warning("%s; retry %d in %.1f s", error, attempt, delay_s)
                await self._sleep(delay_s)

    def _client(self) -> aiomqtt.Client:
        settings = self._settings
        client = aiomqtt.Client(
            settings.host,
            settings.port,
            identifier=settings.client_id,
            username=settings.username,
            password=None if self._password is None else self._password.get_secret_value(),
            keepalive=settings.keepalive_s,
            timeout=settings.ack_timeout_s,
            tls_context=settings.ssl_context(),
            will=aiomqtt.Will(self._topics.status, b"offline", qos=1, retain=True),
            clean_session=True,
            logger=self._logger,
            max_inflight_messages=RETAINED_CHUNK,  # paho's default, 20, would pace a chunk
        )
        client.pending_calls_threshold = RETAINED_CHUNK + 1  # aiomqtt warns above (default 10)
        return client

    async def _serve(self, client: aiomqtt.Client) -> None:
        """Publish everything pending, then whatever arrives, until the connection fails."""
        try:
            await client.publish(self._topics.status, b"online", qos=1, retain=True)
            self._dirty = dict(self._retained)
            while True:
                self._wake.clear()
                await self._flush(client)
                await self._wake.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(_SHUTDOWN_TIMEOUT_S):
                    await client.publish(self._topics.status, b"offline", qos=1, retain=True)
            raise

    async def _flush(self, client: aiomqtt.Client) -> None:
        for entry in self._journal.pending():
            await client.publish(entry.topic, entry.payload, qos=1)
            self._journal.ack(entry.id)
        if not self._journal.pending():
            self._delivered.set()
        while self._dirty or self._metrics:  # all metrics, a retained chunk: neither starves
            if self._metrics:
                await self._publish_metrics(client)
            if self._dirty:
                await self._publish_retained(client)
        self._metrics_written.set()

    async def _publish_metrics(self, client: aiomqtt.Client) -> None:
        """Publish every queued metric (QoS 0): all but the last as buffers of
        `METRICS_CHUNK` packets for paho's writer (a paho publish each costs a message
        object and a write), queued as raw bytes (command 0: the writer only writes them)
        ahead of the last, which is awaited."""
        direct, metrics = client._client, self._metrics
        if not direct.is_connected():
            raise aiomqtt.MqttCodeError(paho.MQTT_ERR_NO_CONN, "Could not publish message")
        while len(metrics) > 1:
            chunk = [metrics.popleft() for _ in range(min(len(metrics) - 1, METRICS_CHUNK))]
            packets = publish_packets((message.topic, message.payload) for message in chunk)
            direct._packet_queue(0, packets, 0, 0)
        last = metrics.popleft()
        await client.publish(last.topic, last.payload, qos=0)

    async def _publish_retained(self, client: aiomqtt.Client) -> None:
        """Publish up to `RETAINED_CHUNK` dirty retained messages at once (QoS 1, in order on
        the connection, one round trip for all), then mark those still current clean."""
        chunk = list(itertools.islice(self._dirty.items(), RETAINED_CHUNK))
        results = await asyncio.gather(
            *(client.publish(topic, m.payload, qos=1, retain=True) for topic, m in chunk),
            return_exceptions=True,
        )
        for (topic, message), result in zip(chunk, results, strict=True):
            if isinstance(result, BaseException):
                raise result
            if self._dirty.get(topic) is message:
                del self._dirty[topic]
            if not message.payload and self._retained.get(topic) is message:
                del self._retained[topic]

    def _set_retained(self, topic: str, payload: bytes) -> None:
        message = Message(topic=topic, payload=payload, qos=1, retain=True)
        self._retained[topic] = message
        self._dirty[topic] = message

    def _announce(self, device: str) -> None:
        """Publish Home Assistant discovery for a device the first time it is seen.

        First, once per device and run, empty retained payloads on the per-entity config
        topics of earlier versions (a no-op for the broker and Home Assistant when there is
        nothing there); they go out before the device config (``_dirty`` keeps insertion
        order), so Home Assistant removes the old entities before it creates the new ones
        under the same unique ids. Empty payloads leave ``_retained`` once published, so a
        reconnect does not send them again.
        """
        prefix = self._settings.discovery_prefix
        if prefix is None or device in self._announced:
            return
        self._announced.add(device)
        for message in legacy_removal_messages(prefix, device):
            self._set_retained(message.topic, b"")
        for message in discovery_messages(prefix, self._topics, device, version=__version__):
            self._set_retained(message.topic, message.payload)
