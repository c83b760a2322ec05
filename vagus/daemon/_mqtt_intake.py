"""The MQTT intake: ``<prefix>/+/beats`` and ``<prefix>/+/feedback`` into the daemon's inbox,
acked after processing.

Beats become `hrv.BeatBatch` events; feedback (a person's answer to a
suggestion, `ingest.feedback_message`) becomes a `vagus.events.Feedback`,
stamped with ``now()`` (the daemon's clock) when the message has no ``t_s``.
Both take the same way in: one connection, one subscription request,
the same deliveries, acks, refusals and backoff.

Delivery: the subscription is QoS 1 in a persistent session (clean session
off, fixed client id ``<client_id>-beats``), and a message is acknowledged
(PUBACK) only once the engine has taken its beats. The intake takes every
message already received (up to `MAX_BATCH_MESSAGES`) at once: the good beats
messages among them go into the inbox as one `Delivery` of a
`vagus.events.BeatColumns` (decoded with `ingest.decode_beat_lists`, no numpy
per message), whose ``ack`` sends the PUBACK of each; a feedback message is a
`Delivery` of its own, after the beats that came before it. Until then
the broker keeps the message, so a crash, a SIGTERM or a lost connection
before the ack means it is delivered again (with the same content) to the
next connection. The pipeline therefore sees a duplicate after such a
break, never a loss; dropping duplicates is its job.

Backpressure: the inbox is bounded, so a full inbox makes the intake wait;
the broker then stops sending once its in-flight window of unacked
messages is full (Mosquitto's ``max_inflight_messages``, default 20) and
queues the rest for this session. That window also bounds a batch: for
thousands of devices raise it (``docs/scaling.md``). The engine must call ``ack`` for every
`Delivery`, also when it drops the beats as bad input, or the window fills
and the intake stalls.

Refusals: a message that `ingest.decode_beats`, `ingest.device_of_topic`,
`ingest.decode_feedback` or `ingest.device_of_feedback_topic` refuses will
never become valid, so it is acked at once, counted by reason
(`IntakeCounters.rejected`, `IntakeCounters.feedback_rejected`) and logged
at most once per reason per minute, with the count so far and never the
payload's content. No exception raised by a message ends the intake.

Stopping (``stopping`` set): no new message is taken; the intake waits up
to ``stop_timeout_s`` (default 2 s) for the deliveries already in the inbox
to be acked, then disconnects. The session, its subscription and every
unacked message stay with the broker for the next run. The supervisor
should therefore keep the engine draining the inbox until this returns.

Connection loss: reconnect with `ingest.backoff.backoff_delay` (settings
``backoff_base_s``/``backoff_cap_s``); acks of deliveries from a lost
connection are not sent on the next one (a packet id names a message only
within one connection's exchange; the broker sends such messages again
anyway). A broker that refuses the login raises `BrokerRefusedError`, and a
TLS failure no retry fixes (untrusted broker certificate, client certificate
missing or refused) `BrokerTlsError`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
from paho.mqtt.reasoncodes import ReasonCode

from ingest.backoff import backoff_delay
from ingest.beats_message import beats_subscription, decode_beat_lists, device_of_topic
from ingest.errors import (
    BeatsMessageError,
    BeatsRejection,
    FeedbackMessageError,
    FeedbackRejection,
)
from ingest.feedback_message import (
    decode_feedback,
    device_of_feedback_topic,
    feedback_subscription,
)
from vagus.daemon._notices import RateLimit
from vagus.daemon._paho_receive import RawMessages, Received, fast_receive, send_pubacks
from vagus.events import BeatColumns, Delivery, Feedback, InboxItem
from vagus.mqtt import MqttSettings
from vagus.mqtt.failures import TlsAlerts, classify, client_logger, close_leaked_sockets
from vagus.mqtt.retry import is_retryable

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 2.0
"""How long a stopping intake waits for the deliveries in the inbox to be acked."""

REJECT_LOG_INTERVAL_S = 60.0
"""At most one log line per rejection reason in this time."""

MAX_TOPICS = 100_000
"""Beats topics whose device the intake remembers (the devices seen, in practice)."""

MAX_BATCH_MESSAGES = 1024
"""Most messages taken into one inbox item (about 0.1 s of 10,000 devices; the engine takes
about that many in one step)."""

Sleep = Callable[[float], Coroutine[Any, Any, None]]


@dataclass(slots=True, kw_only=True)
class IntakeCounters:
    """What the intake did, for tests and the daemon's summary (mutated while it runs)."""

    received: int = 0
    """Messages taken from the broker, good or not."""
    delivered: int = 0
    """Good messages put into the inbox as a `Delivery`."""
    acked: int = 0
    """Deliveries the engine acked while their connection was up (PUBACK sent)."""
    late_acks: int = 0
    """Deliveries acked after their connection ended (no PUBACK: the broker resends them)."""
    rejected: collections.Counter[BeatsRejection] = field(default_factory=collections.Counter)
    """Refused beats messages by reason (acked at once: they never become valid)."""
    feedback: int = 0
    """Good feedback messages put into the inbox (also counted in ``delivered``)."""
    feedback_rejected: collections.Counter[FeedbackRejection] = field(
        default_factory=collections.Counter
    )
    """Refused feedback messages by reason (acked at once)."""
    internal_errors: int = 0
    """Messages whose decoding raised something other than `BeatsMessageError` (a bug)."""
    sessions: int = 0
    """Connections on which the subscription was granted."""
    reconnects: int = 0
    """Connection failures followed by a backoff."""

    @property
    def rejected_total(self) -> int:
        """Refused messages, all reasons, beats and feedback."""
        return sum(self.rejected.values()) + sum(self.feedback_rejected.values())


async def receive_mqtt_beats(
    settings: MqttSettings,
    password: str | None,
    inbox: asyncio.Queue[InboxItem | None],
    stopping: asyncio.Event,
    *,
    counters: IntakeCounters | None = None,
    stop_timeout_s: float = STOP_TIMEOUT_S,
    rng: random.Random | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    alias: Callable[[str], str] | None = None,
    now: Callable[[], float] = time.time,
) -> None:
    """Put the beats of ``<prefix>/+/beats`` and the answers of ``<prefix>/+/feedback`` into
    ``inbox`` as deliveries until ``stopping``.

    ``alias`` (a pseudonymiser) renames each message's device before anything else
    sees it, log lines included. ``now`` (the daemon's clock, epoch seconds) stamps
    feedback that carries no ``t_s``.

    See the module docs. Returns once stopped (after at most
    ``stop_timeout_s`` waiting for acks, plus the disconnect); raises
    `BrokerRefusedError` when the broker refuses the login; reconnects on
    every other connection failure.
    """
    counters = counters if counters is not None else IntakeCounters()
    rng = rng if rng is not None else random.Random()
    intake = _Intake(settings, inbox, counters, RateLimit(clock, REJECT_LOG_INTERVAL_S), alias, now)
    tls_alerts = TlsAlerts()
    logger = client_logger(f"{settings.client_id}-beats", tls_alerts)
    attempt = 0
    while not stopping.is_set():
        try:
            client = _client(settings, password, logger)
            messages = fast_receive(client)
            async with client:
                attempt = 0
                await intake.serve(client, messages, stopping, stop_timeout_s)
        except aiomqtt.MqttError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Leaving the client while cancelled can raise MqttError, which would replace
                # the CancelledError: a retry here would swallow the cancellation.
                raise asyncio.CancelledError from exc
            if stopping.is_set():  # the connection broke while stopping (or disconnecting)
                log.info("beats intake: connection ended while stopping: %s", exc)
                break
            close_leaked_sockets(exc)
            error = classify(settings, exc, tls_alert=tls_alerts.take())
            if not is_retryable(error):
                raise error from exc
            delay_s = backoff_delay(
                attempt, rng, base_s=settings.backoff_base_s, cap_s=settings.backoff_cap_s
            )
            attempt += 1
            counters.reconnects += 1
            log.warning("beats intake: %s; retry %d in %.1f s", error, attempt, delay_s)
            await _until_set(sleep(delay_s), stopping, name="mqtt-beats[backoff]")
    log.info(
        "beats intake stopped: %d received, %d delivered (%d feedback), %d acked, %d rejected%s",
        counters.received,
        counters.delivered,
        counters.feedback,
        counters.acked,
        counters.rejected_total,
        "".join(f", {reason} {n}" for reason, n in sorted(counters.rejected.items()))
        + "".join(
            f", feedback {reason} {n}" for reason, n in sorted(counters.feedback_rejected.items())
        ),
    )


def _client(settings: MqttSettings, password: str | None, logger: logging.Logger) -> aiomqtt.Client:
    client = aiomqtt.Client(
        settings.host,
        settings.port,
        identifier=f"{settings.client_id}-beats",
        username=settings.username,
        password=password,
        keepalive=settings.keepalive_s,
        timeout=settings.ack_timeout_s,
        tls_context=settings.ssl_context(),
        clean_session=False,
        logger=logger,
    )
    return client


class _Connection:
    """The acks of one connection: PUBACKs go out only while it is open.

    After it ends, a packet id no longer names the message: the broker
    resends unacked messages to the next connection, under ids that it may
    reuse for other messages once acked there.
    """

    def __init__(self, client: aiomqtt.Client, counters: IntakeCounters) -> None:
        self._paho = client._client
        self._counters = counters
        self._open = True
        self._outstanding: set[_Ack] = set()
        self._settled = asyncio.Event()
        self._settled.set()

    def ack(self, messages: list[Received]) -> bool:
        """Send the PUBACKs of ``messages`` now; False (nothing sent) once the connection ended."""
        if not self._open or not self._paho.is_connected():
            return False
        send_pubacks(self._paho, messages)
        return True

    def delivery_ack(self, messages: list[Received]) -> _Ack:
        """The ``ack`` of a `Delivery` of ``messages``; `track` it once it is in the inbox."""
        return _Ack(self, messages)

    def track(self, ack: _Ack) -> None:
        """Wait for ``ack`` when stopping (its delivery is in the inbox)."""
        if not ack.done:
            self._outstanding.add(ack)
            self._settled.clear()

    def acked(self, ack: _Ack, messages: list[Received]) -> None:
        """The engine acked ``messages`` (called once per delivery, by `_Ack`)."""
        if self.ack(messages):
            self._counters.acked += len(messages)
        else:
            self._counters.late_acks += len(messages)
        self._outstanding.discard(ack)
        if not self._outstanding:
            self._settled.set()

    async def settle(self, timeout_s: float) -> int:
        """Wait up to ``timeout_s`` for every tracked delivery to be acked; how many were not."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._settled.wait()
        return len(self._outstanding)

    def close(self) -> None:
        """From now on acks are counted as late, not sent."""
        self._open = False
        self._outstanding.clear()
        self._settled.set()


class _Ack:
    """Acknowledges the messages of one delivery, once; the engine calls it on the event loop."""

    __slots__ = ("_connection", "_messages", "done")

    def __init__(self, connection: _Connection, messages: list[Received]) -> None:
        self._connection = connection
        self._messages = messages
        self.done = False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self._connection.acked(self, self._messages)


class _Intake:
    """Takes messages from one connection after another into the inbox."""

    def __init__(
        self,
        settings: MqttSettings,
        inbox: asyncio.Queue[InboxItem | None],
        counters: IntakeCounters,
        rejects: RateLimit,
        alias: Callable[[str], str] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._alias = alias
        self._now = now
        self._prefix = settings.prefix
        self._topic = beats_subscription(settings.prefix)
        self._feedback_topic = feedback_subscription(settings.prefix)
        self._inbox = inbox
        self._counters = counters
        self._rejects = rejects
        self._bug_logged = False
        self._topics: dict[str, str] = {}

    async def serve(
        self,
        client: aiomqtt.Client,
        messages: RawMessages,
        stopping: asyncio.Event,
        stop_timeout_s: float,
    ) -> None:
        """Subscribe and take messages until ``stopping``, then wait for their acks.

        Returns when stopped; raises `aiomqtt.MqttError` when the connection fails.
        """
        connection = _Connection(client, self._counters)
        try:
            topics = [(self._topic, 1), (self._feedback_topic, 1)]
            granted = await client.subscribe(topics)
            if [_code(rc) for rc in granted] != [1, 1]:
                log.warning(
                    "beats intake: subscription to %s and %s granted %s",
                    self._topic,
                    self._feedback_topic,
                    granted,
                )
            self._counters.sessions += 1
            log.info(
                "beats intake: receiving %s and %s (QoS 1, persistent session)",
                self._topic,
                self._feedback_topic,
            )
            await _until_set(self._take(messages, connection), stopping, name="mqtt-beats[take]")
            unacked = await connection.settle(stop_timeout_s)
            if unacked:
                log.info(
                    "beats intake: %d deliveries not acked within %.1f s stay with the broker",
                    unacked,
                    stop_timeout_s,
                )
        finally:
            connection.close()

    async def _take(self, messages: RawMessages, connection: _Connection) -> None:
        # A socket wake-up reads every packet it holds (`_paho_receive`), so a busy intake
        # takes thousands of messages at once.
        while True:
            await self._deliver(await messages.batch(MAX_BATCH_MESSAGES), connection)

    async def _deliver(self, batch: list[Received], connection: _Connection) -> None:
        """Decode ``batch`` in order into deliveries: the beats messages as one, each
        feedback message after the beats before it; refused messages acked at once."""
        self._counters.received += len(batch)
        beats = _Columns()
        for message in batch:
            if message.topic.endswith("/feedback"):
                answer = self._decode_feedback(message)
                if answer is None:
                    connection.ack([message])
                    continue
                await self._put(beats.take(), connection)
                await self._put(([message], answer), connection)
            elif not self._decode(message, beats):
                connection.ack([message])
        await self._put(beats.take(), connection)

    async def _put(
        self,
        item: tuple[list[Received], BeatColumns | Feedback] | None,
        connection: _Connection,
    ) -> None:
        if item is None:
            return
        messages, event = item
        ack = connection.delivery_ack(messages)
        await self._inbox.put(Delivery(event=event, ack=ack))
        # No await since the put: the engine cannot have acked yet, and `track` copes.
        connection.track(ack)
        self._counters.delivered += len(messages)
        self._counters.feedback += isinstance(event, Feedback)

    def _decode_feedback(self, message: Received) -> Feedback | None:
        """The answer of ``message``, or None after counting (and maybe logging) its refusal."""
        topic = message.topic
        try:
            device = device_of_feedback_topic(self._prefix, topic)
            answer = decode_feedback(message.payload, device=device)
            return Feedback(
                device=device if self._alias is None else self._alias(device),
                verdict=answer.verdict,
                t_s=self._now() if answer.t_s is None else answer.t_s,
                trigger_id=answer.trigger_id,
            )
        except FeedbackMessageError as exc:
            self._counters.feedback_rejected[exc.reason] += 1
            if self._rejects.due(f"feedback:{exc.reason}"):
                log.warning(
                    "feedback intake: refused a message on %s: %s (%d %s so far; logged once a "
                    "minute)",
                    self._shown(topic),
                    exc.reason,
                    self._counters.feedback_rejected[exc.reason],
                    exc.reason,
                )
        except Exception as exc:  # a decoder bug must not stop the intake
            self._decode_bug(topic, exc)
        return None

    def _decode(self, message: Received, into: _Columns) -> bool:
        """Add the beats of ``message`` to ``into``; False after counting (and maybe logging)
        its refusal."""
        topic = message.topic
        try:
            device = self._topics.get(topic) or self._device_of(topic)
            columns = decode_beat_lists(message.payload, device=device)
        except BeatsMessageError as exc:
            self._reject(exc.reason, topic)
            return False
        except Exception as exc:  # a decoder bug must not stop every device's beats
            self._decode_bug(topic, exc)
            return False
        into.add(message, device if self._alias is None else self._alias(device), *columns)
        return True

    def _device_of(self, topic: str) -> str:
        """The device of a beats ``topic`` (`device_of_topic`), remembered for the next
        message (up to `MAX_TOPICS` topics, then forgotten all at once)."""
        device = device_of_topic(self._prefix, topic)
        if len(self._topics) >= MAX_TOPICS:
            self._topics.clear()
        self._topics[topic] = device
        return device

    def _shown(self, topic: str) -> str:
        """``topic`` for a log line: printable, its device pseudonymised when that is on."""
        if self._alias is None:
            return _printable(topic)
        level = topic.rsplit("/", 1)[-1]
        try:
            if level == "feedback":
                device = device_of_feedback_topic(self._prefix, topic)
            else:
                device = device_of_topic(self._prefix, topic)
        except (BeatsMessageError, FeedbackMessageError):
            return "a topic that names no valid device"
        return _printable(f"{self._prefix}/{self._alias(device)}/{level}")

    def _reject(self, reason: BeatsRejection, topic: str) -> None:
        self._counters.rejected[reason] += 1
        if self._rejects.due(reason):
            log.warning(
                "beats intake: refused a message on %s: %s (%d %s so far; logged once a minute)",
                self._shown(topic),
                reason,
                self._counters.rejected[reason],
                reason,
            )

    def _decode_bug(self, topic: str, exc: BaseException) -> None:
        self._counters.internal_errors += 1
        if not self._bug_logged:
            self._bug_logged = True
            where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            at = f" at {where[0].filename}:{where[0].lineno}" if where else ""
            log.error(
                "beats intake: BUG: decoding a message on %s raised %s%s; message dropped "
                "(counted in internal_errors, logged once)",
                self._shown(topic),
                type(exc).__qualname__,
                at,
            )


class _Columns:
    """Beats messages gathered into the lists of one `BeatColumns`."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.devices: list[str] = []
        self.counts: list[int] = []
        self.t_s: list[float | None] = []
        self.rr_ms: list[float | None] = []
        self.gap: list[bool] = []

    def _clear(self) -> None:
        self.messages, self.devices, self.counts = [], [], []
        self.t_s, self.rr_ms, self.gap = [], [], []

    def add(
        self,
        message: Received,
        device: str,
        t_s: list[float | None],
        rr_ms: list[float | None],
        gap: list[bool],
    ) -> None:
        self.messages.append(message)
        self.devices.append(device)
        self.counts.append(len(t_s))
        self.t_s += t_s
        self.rr_ms += rr_ms
        self.gap += gap

    def take(self) -> tuple[list[Received], BeatColumns] | None:
        """The messages so far and their columns (None if none); starts afresh."""
        if not self.messages:
            return None
        columns = BeatColumns.of_lists(self.devices, self.t_s, self.rr_ms, self.gap, self.counts)
        messages = self.messages
        self._clear()
        return messages, columns


def _code(rc: object) -> object:
    return rc.value if isinstance(rc, ReasonCode) else rc


def _printable(topic: str, limit: int = 80) -> str:
    """``topic`` quoted with control characters escaped, cut to ``limit`` characters."""
    return repr(topic[:limit]) + ("..." if len(topic) > limit else "")


async def _until_set(work: Coroutine[Any, Any, None], event: asyncio.Event, *, name: str) -> None:
    """Run ``work`` as task ``name`` until it ends or ``event`` is set (then cancel it); its
    errors propagate."""
    task = asyncio.create_task(work, name=name)
    waiter = asyncio.create_task(event.wait(), name=f"{name}.until")
    try:
        await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
        await asyncio.wait([task, waiter])
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error
